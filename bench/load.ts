/**
 * Load generators, bounded in count and in time.
 *
 * `openLoop` sends on a fixed schedule whatever the answers do, and measures
 * each latency from the time the request was due, not from when it left: a
 * server that stalls therefore shows its queueing in the percentiles instead
 * of slowing the generator down (coordinated omission).
 *
 * `closedLoop` keeps N requests in flight, each sent when the previous one
 * answered: it finds the maximum throughput.
 */
import { performance } from 'node:perf_hooks';
import { Recorder, type Summary } from './percentiles';
import type { RecflowProcess } from './processes';
import type { Measure } from './results';

export interface LoadResult {
  latency: Summary;
  /** Answers per second over the run, errors excluded. */
  throughput: number;
  sent: number;
  errors: number;
  /** The first error message, if any. */
  firstError?: string;
  elapsedMs: number;
  /** With `groupOf`: the latency of each group's answered requests. */
  groups?: Record<string, Summary>;
}

/** Called with the request number; resolves when the answer is in. */
export type Send = (i: number) => Promise<unknown>;

export async function openLoop(options: {
  rate: number;
  durationMs: number;
  send: Send;
  /** Give up waiting for answers this long after the last send. Default 15 s. */
  drainMs?: number;
  /**
   * Most requests waiting for an answer (default 256, the HTTP agent's sockets). A send
   * due beyond it is dropped and counted as an error, so an overloaded
   * server's queue, and the run, stay bounded.
   */
  maxInFlight?: number;
  /** Stop sending early once this returns true (background load). */
  stopWhen?: () => boolean;
  /** Also summarises latency per group: the group of request number i. */
  groupOf?: (i: number) => string;
}): Promise<LoadResult> {
  const { rate, durationMs, send, groupOf } = options;
  const total = Math.max(1, Math.floor((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const recorder = new Recorder();
  const groups = new Map<string, Recorder>();
  const recordIn = (group: string, latency: number) => {
    let to = groups.get(group);
    if (!to) groups.set(group, (to = new Recorder()));
    to.record(latency);
  };
  const pending = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 256;
  let dropped = 0;
  let firstError: string | undefined;
  const start = performance.now();
  let next = 0;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Send everything that is due, even if the generator itself fell behind.
      while (next < total && start + next * interval <= now) {
        const due = start + next * interval;
        if (pending.size >= maxInFlight) {
          dropped += 1;
          next += 1;
          continue;
        }
        const i = next;
        const p: Promise<void> = send(i).then(
          () => {
            const latency = performance.now() - due;
            recorder.record(latency);
            if (groupOf) recordIn(groupOf(i), latency);
          },
          (error: Error) => {
            firstError ??= error.message;
          },
        );
        pending.add(p);
        void p.finally(() => pending.delete(p));
        next += 1;
      }
      if (next >= total || options.stopWhen?.()) return resolve();
      const wait = start + next * interval - performance.now();
      setTimeout(tick, Math.max(0, Math.min(wait, 1)));
    };
    tick();
  });
  await settle([...pending], options.drainMs ?? 15_000);
  const elapsedMs = performance.now() - start;
  return {
    latency: recorder.summary(),
    throughput: (recorder.count * 1000) / elapsedMs,
    sent: next,
    // Failed, dropped, and still unanswered when the drain time ran out.
    errors: next - recorder.count,
    firstError:
      firstError ?? (dropped > 0 ? `${dropped} sends dropped (too many in flight)` : undefined),
    elapsedMs,
    ...(groupOf && {
      groups: Object.fromEntries([...groups].map(([group, r]) => [group, r.summary()])),
    }),
  };
}

export async function closedLoop(options: {
  concurrency: number;
  durationMs: number;
  send: Send;
  /** Stop after this many requests even if time remains. Default: no count limit. */
  maxRequests?: number;
}): Promise<LoadResult> {
  const { concurrency, durationMs, send } = options;
  const maxRequests = options.maxRequests ?? Number.MAX_SAFE_INTEGER;
  const recorder = new Recorder();
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = performance.now();
  const deadline = start + durationMs;

  const lane = async () => {
    while (performance.now() < deadline && next < maxRequests) {
      const i = next;
      next += 1;
      const sent = performance.now();
      try {
        await send(i);
        recorder.record(performance.now() - sent);
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsedMs = performance.now() - start;
  return {
    latency: recorder.summary(),
    throughput: (recorder.count * 1000) / elapsedMs,
    sent: next,
    errors,
    firstError,
    elapsedMs,
  };
}

/** Waits for the promises, but no longer than `timeoutMs`. */
async function settle(promises: Array<Promise<void>>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(promises),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true; false when `timeoutMs` passed first. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}

/** A load run as a table cell: its latency, answers per second and errors. */
export function measureRequests(label: string, result: LoadResult): Measure {
  return {
    label,
    latency: result.latency,
    throughput: { value: result.throughput, unit: 'req/s' },
    errors: result.errors || undefined,
  };
}

/**
 * Runs a load and measures a process's own CPU time per answered request,
 * in ms. It tells where a change helps even when the load generator,
 * sharing the cores, blurs the throughput.
 */
export async function cpuPerAnswer(
  proc: Pick<RecflowProcess, 'cpuSeconds'>,
  run: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; ms: number }> {
  const before = proc.cpuSeconds();
  const result = await run();
  const answered = Math.max(1, result.sent - result.errors);
  return { result, ms: (1000 * (proc.cpuSeconds() - before)) / answered };
}
