/** Runs a training in a worker thread and resolves with its output. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TrainingInput, TrainingOutput } from './training-job';

/**
 * The compiled thread entry. Under ts-jest-style runners this module is
 * TypeScript and has no compiled sibling, so fall back to the build in dist/.
 */
function threadEntry(): string {
  const sibling = path.join(__dirname, 'train-thread.js');
  if (existsSync(sibling)) return sibling;
  return path.resolve(__dirname, '..', '..', 'dist', 'training', 'train-thread.js');
}

export function trainInThread(input: TrainingInput): Promise<TrainingOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(threadEntry(), { workerData: input });
    let settled = false;
    worker.once(
      'message',
      (message: { ok: true; output: TrainingOutput } | { ok: false; message: string }) => {
        settled = true;
        if (message.ok) resolve(message.output);
        else reject(new Error(`training failed: ${message.message}`));
      },
    );
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`training thread exited with code ${code}`));
    });
  });
}
