/**
 * An open-loop load generator in a process of its own: the bench's main
 * process keeps what a scenario reads and measures (at scale, a scan of
 * every Redis key under the prefix), and its garbage collections would
 * otherwise stall the generator. An open loop counts latency from each
 * request's due time, so a stalled generator shows as server latency: in a
 * scale run, the bench's own 17-22 ms pause at the start of the measured
 * phase made requests due then 20 ms late before they were sent.
 *
 * The child (this file, forked) runs one phase per message, in order, and
 * answers with its LoadResult; it stays up between phases, so its code is
 * as warm in the measured phase as the server's.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { GraphQLHttp } from './http';
import { type LoadResult, openLoop } from './load';

/** One open-loop phase: request i posts bodies[i] (cycling), in group groups[i]. */
export interface LoadPhase {
  rate: number;
  durationMs: number;
  bodies: readonly string[];
  groups?: readonly string[];
}

interface Job {
  url: string;
  phase: LoadPhase;
}

type Answer = { result: LoadResult } | { error: string };

/** A forked generator; `run` a phase at a time, then `close`. */
export class LoadProcess {
  private readonly child: ChildProcess;
  private exited = false;

  private constructor(private readonly url: string) {
    const register = path.join(__dirname, 'register.js');
    this.child = fork(__filename, [], {
      execArgv: ['-r', register],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.once('exit', () => (this.exited = true));
  }

  /** Forks a generator that posts to `url` (127.0.0.1 only, as GraphQLHttp checks). */
  static start(url: string): LoadProcess {
    return new LoadProcess(url);
  }

  /** Runs one phase in the child; rejects if it fails or outlasts the phase by a minute. */
  run(phase: LoadPhase): Promise<LoadResult> {
    if (this.exited) return Promise.reject(new Error('the load process has exited'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error('the load process did not answer in time'));
      }, phase.durationMs + 60_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the load process exited with ${code}`));
      };
      this.child.once('exit', onExit);
      this.child.once('message', (answer: Answer) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        if ('error' in answer) reject(new Error(answer.error));
        else resolve(answer.result);
      });
      this.child.send({ url: this.url, phase } satisfies Job);
    });
  }

  close(): void {
    if (!this.exited) this.child.kill('SIGTERM');
  }
}

/** In the child: one HTTP client for every phase, each phase answered in turn. */
function serve(): void {
  let http: GraphQLHttp | undefined;
  let queue = Promise.resolve();
  process.on('message', (job: Job) => {
    queue = queue.then(async () => {
      try {
        http ??= new GraphQLHttp(job.url, 256);
        const client = http;
        const { rate, durationMs, bodies, groups } = job.phase;
        const result = await openLoop({
          rate,
          durationMs,
          send: (i) => client.post(bodies[i % bodies.length]),
          groupOf: groups && ((i) => groups[i % groups.length]),
        });
        process.send?.({ result } satisfies Answer);
      } catch (error) {
        process.send?.({ error: (error as Error).message } satisfies Answer);
      }
    });
  });
  process.on('disconnect', () => {
    http?.close();
    process.exit(0);
  });
}

if (require.main === module) serve();
