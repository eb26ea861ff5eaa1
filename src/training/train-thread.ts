/**
 * Worker-thread entry point: runs one training and posts the result back,
 * transferring the model bytes instead of copying them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining, type TrainingInput } from './training-job';

try {
  const output = runTraining(workerData as TrainingInput);
  parentPort?.postMessage({ ok: true, output }, [output.data.buffer as ArrayBuffer]);
} catch (error) {
  parentPort?.postMessage({ ok: false, message: (error as Error).stack ?? String(error) });
}
