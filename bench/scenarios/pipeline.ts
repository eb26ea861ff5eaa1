/**
 * Pipeline: events/s applied from a backlog by one worker, then by two
 * competing workers, each case on a fresh database and stream holding the
 * same synthetic events (many users and items, mixed types). Workers run as
 * production runs them, as `recflow serve --role worker` child processes.
 * Each logs a line per batch at debug level, which times the batches. The
 * backlog is published before the workers start, and the rate is the steady
 * one, after a second of warm-up (see applyInProcesses).
 *
 * Baseline: reading the same backlog with a plain pull consumer that acks
 * every message and applies nothing.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Client } from 'pg';
import { connectNats, streamNames } from '../../src/messaging/connection';
import { Subjects } from '../../src/messaging/subjects';
import { laneShares } from '../../src/pipeline/lanes';
import { type BenchEnv, SERVICES } from '../env';
import { type BenchData, makeData } from '../data';
import { catalogueEnv, publishBacklog } from '../fixtures';
import { until } from '../load';
import { cpuOf } from '../processes';
import { Recorder } from '../percentiles';
import { type Measure, type Row, target } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';

export const pipeline: Scenario = { name: 'pipeline', inDefaultRun: true, run };

const TARGET_PER_WORKER = 10_000;

/** How long after the last worker began consuming its batches still count as warm-up. */
const WARM_UP_MS = 1000;

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { pipelineEvents, pipelineUsers, pipelineItems } = ctx.options;
  const data = makeData(
    { events: pipelineEvents, users: pipelineUsers, items: pipelineItems },
    'pipe',
  );
  const timeoutMs = ctx.options.quick ? 40_000 : 150_000;

  const { pipelineBatch, pipelineLanes } = ctx.options;
  const overrides: Record<string, string> = {
    ...(pipelineBatch ? { RECFLOW_WORKER_BATCH: String(pipelineBatch) } : {}),
    ...(pipelineLanes ? { RECFLOW_WORKER_LANES: String(pipelineLanes) } : {}),
  };
  const first = await catalogueEnv(ctx, data, overrides);
  const one = await applyInProcesses(ctx, first, data, 1, timeoutMs);
  // The stream keeps what the worker acked: the baseline reads the same backlog.
  const read = await rawRead(first, data.events.length, timeoutMs);
  const second = await catalogueEnv(ctx, data, overrides);
  const two = await applyInProcesses(ctx, second, data, 2, timeoutMs);

  const shares = laneShares(first.config.pipeline.batchSize, first.config.pipeline.lanes);
  const rows: Row[] = [one, two].map((result) => {
    const perWorker = result.measure.throughput!.value / result.workers;
    return {
      scenario: 'pipeline',
      case: `apply, ${result.workers} worker${result.workers > 1 ? 's' : ''}`,
      measured: result.measure,
      baseline: read,
      targets: [
        target('>= 10,000 events/s per worker', perWorker, perWorker >= TARGET_PER_WORKER, 'ev/s'),
      ],
      notes: [
        `latency is per batch (up to ${shares[0]} events; ${shares.length} lanes per worker)`,
        result.steady
          ? `rate over the ${result.counted} events whose batches started ${WARM_UP_MS} ms ` +
            `after the last worker began consuming; the whole run, warm-up included: ` +
            `${Math.round(result.wholeRun).toLocaleString('en-US')} events/s`
          : 'rate over every batch (too few events for a warm-up second)',
        ...(result.workers > 1 ? [`events per worker: ${formatCounts(result.perWorker)}`] : []),
        ...(result.perWorker.some((n) => n < result.counted / (4 * result.workers))
          ? ["a worker took under a quarter of its share: the rate is mostly the others'"]
          : []),
        `time per step: ${formatSteps(result.steps)}`,
        `per event: ${formatCost(result.cost)}`,
        ...(result.complete ? [] : ['did not finish within the time limit']),
      ],
    };
  });
  return {
    rows,
    details: {
      events: data.events.length,
      users: data.users.length,
      items: data.items.length,
      stepSeconds: { oneWorker: one.steps, twoWorkers: two.steps },
      costPerEvent: { oneWorker: one.cost, twoWorkers: two.cost },
      workers: 'child processes (recflow serve --role worker), started after publishing',
    },
  };
}

/** The baseline: a durable pull consumer with the worker's settings that only acks. */
async function rawRead(env: BenchEnv, total: number, timeoutMs: number): Promise<Measure> {
  const { nats, pipeline: settings } = env.config;
  const nc = await connectNats(nats.url, 'recflow-bench-raw-read');
  try {
    const stream = streamNames(nats).events;
    const name = `${nats.consumer}-raw`;
    await (
      await jetstreamManager(nc)
    ).consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: new Subjects(nats.subjectPrefix).events,
      ack_wait: nanos(settings.ackWaitMs),
      max_ack_pending: Math.max(1000, settings.batchSize * 4),
    });
    const consumer = await jetstream(nc).consumers.get(stream, name);
    const messages = await consumer.consume({
      max_messages: settings.batchSize * 2,
      expires: 10_000,
    });
    const timer = setTimeout(() => void messages.close(), timeoutMs);
    const perBatch = new Recorder();
    const start = performance.now();
    let mark = start;
    let count = 0;
    for await (const m of messages) {
      m.ack();
      count += 1;
      if (count % settings.batchSize === 0 || count === total) {
        perBatch.record(performance.now() - mark);
        mark = performance.now();
      }
      if (count >= total) break;
    }
    const elapsed = performance.now() - start;
    clearTimeout(timer);
    await messages.close();
    return {
      label: 'raw pull + ack',
      latency: perBatch.summary(),
      throughput: { value: (count * 1000) / elapsed, unit: 'events/s' },
    };
  } finally {
    await nc.close();
  }
}

interface Applied {
  workers: number;
  /** Events each worker applied in the batches the rate counts, in spawn order. */
  perWorker: number[];
  /** Events in the batches the rate counts. */
  counted: number;
  /** Events/s over every batch, warm-up included. */
  wholeRun: number;
  /** Whether the rate leaves the warm-up out (false: too few events to). */
  steady: boolean;
  measure: Measure;
  steps: Record<string, number>;
  complete: boolean;
  cost: Cost;
}

/**
 * What applying the backlog cost per event, less sensitive to other load on
 * the machine than the rate: CPU of the worker processes (all their threads,
 * from when each began consuming, so its JIT warm-up counts), CPU of the
 * PostgreSQL backends serving the scenario's database (their start-up
 * queries too, a few milliseconds), and WAL written (the server's whole WAL,
 * so other writers on it count too).
 */
interface Cost {
  workerCpuUs: number;
  postgresCpuUs: number;
  walBytes: number;
}

/**
 * Workers as child processes, started once the backlog is in the stream.
 * Each logs a line per batch at debug level (the events it applied for the
 * first time, and how long it took), which times the batches; CPU is read from /proc, from
 * the moment each worker logs that it is consuming (its start-up is not
 * counted), and steps from each worker's /metrics.
 *
 * The rate is the steady one: it counts the batches that started WARM_UP_MS
 * after the last worker began consuming. Before that, a new process's first
 * batches run cold (in one run, a first batch of one event took 260 ms and
 * the next ones 600-740 ms, against 300-450 ms later), and two workers start
 * a few hundred milliseconds apart. The whole run's rate is noted beside it.
 * When the steady batches hold less than half the events (a quick run's
 * backlog is gone in a second), all batches count.
 *
 * Started before the backlog was published instead, the workers would share
 * the cores with the publisher for most of the run (publishing 50,000 events
 * took 4 s beside one worker, against 0.7 s alone).
 */
async function applyInProcesses(
  ctx: BenchContext,
  env: BenchEnv,
  data: BenchData,
  workers: number,
  timeoutMs: number,
): Promise<Applied> {
  const total = data.events.length;
  const database = new URL(env.config.postgres.url).pathname.slice(1);
  await publishBacklog(ctx, env, data);
  const dbBefore = await dbUsage(database);
  const batches: HandledBatch[] = [];
  /** CPU seconds of each worker process when it began consuming, and when. */
  const started = new Map<number, { cpu: number; at: number }>();
  let handled = 0;
  /** A per-batch line without its count (the worker's log changed): the run stops. */
  let unreadable: string | undefined;
  const onLine = (line: string, pid: number) => {
    const entry = parseLine(line);
    if (entry?.msg === 'worker consuming') {
      started.set(pid, { cpu: cpuOf(pid), at: Date.parse(entry.time) });
    }
    if (entry?.msg !== 'batch handled') return;
    // A batch handed back (a failure) comes again, and its events are then
    // duplicates if it had committed: each event counts once, where applied.
    if (typeof entry.applied !== 'number') {
      unreadable ??= line;
      return;
    }
    const end = Date.parse(entry.time);
    batches.push({ pid, start: end - entry.ms, end, size: entry.applied });
    handled += entry.applied;
  };
  ctx.log(`applying ${total} events with ${workers} worker process(es)`);
  const children = await Promise.all(
    Array.from({ length: workers }, () =>
      ctx.spawn('worker', env, {}, { logLevel: 'debug', onLine }),
    ),
  );
  const complete = await until(() => handled >= total || unreadable !== undefined, timeoutMs, 50);
  const cpu = children.reduce((n, c) => n + c.cpuSeconds() - (started.get(c.pid)?.cpu ?? 0), 0);
  const dbAfter = await dbUsage(database);
  const steps: Record<string, number> = {};
  for (const child of children) {
    for (const [step, seconds] of Object.entries(await stepSecondsOf(child.probeUrl))) {
      steps[step] = (steps[step] ?? 0) + seconds;
    }
  }
  for (const child of children) await child.stop();
  if (started.size !== workers) throw new Error('a worker never logged "worker consuming"');
  if (unreadable) throw new Error(`a worker's batch line has no applied count: ${unreadable}`);

  const allIn = Math.max(...[...started.values()].map((s) => s.at));
  const steady = batches.filter((b) => b.start >= allIn + WARM_UP_MS);
  const counted = sum(steady) * 2 >= total ? steady : batches;
  const latency = new Recorder();
  for (const batch of counted) latency.record(batch.end - batch.start);
  return {
    workers,
    perWorker: children.map((c) => sum(counted.filter((b) => b.pid === c.pid))),
    counted: sum(counted),
    wholeRun: rate(batches),
    steady: counted === steady,
    complete,
    steps,
    cost: costPerEvent(cpu, dbBefore, dbAfter, Math.min(handled, total)),
    measure: {
      label: `${workers} worker process${workers > 1 ? 'es' : ''}`,
      latency: latency.summary(),
      throughput: { value: rate(counted), unit: 'events/s' },
    },
  };
}

/**
 * A batch a worker logged: which worker, when it started and ended (ms since
 * the epoch), and the events it applied for the first time.
 */
interface HandledBatch {
  pid: number;
  start: number;
  end: number;
  size: number;
}

/** A worker's log line, when it is one of the two this scenario reads. */
function parseLine(
  line: string,
): { msg: string; time: string; applied: number; ms: number } | undefined {
  if (!line.includes('"worker consuming"') && !line.includes('"batch handled"')) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function sum(batches: readonly HandledBatch[]): number {
  return batches.reduce((n, b) => n + b.size, 0);
}

/** Events per second from the first batch's start to the last one's end. */
function rate(batches: readonly HandledBatch[]): number {
  const first = Math.min(...batches.map((b) => b.start));
  const last = Math.max(...batches.map((b) => b.end));
  return (1000 * sum(batches)) / (last - first);
}

/** Total seconds per applyBatch step, from a worker's /metrics. */
async function stepSecondsOf(probeUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${probeUrl}/metrics`)).text();
  const totals: Record<string, number> = {};
  for (const match of text.matchAll(
    /^recflow_pipeline_step_seconds_sum\{step="([^"]+)"\} (\S+)$/gm,
  )) {
    totals[match[1]] = Number(match[2]);
  }
  return totals;
}

/** The workers' CPU (`workerSeconds`), their backends' CPU and the WAL, per event applied. */
function costPerEvent(
  workerSeconds: number,
  before: DbUsage,
  after: DbUsage,
  events: number,
): Cost {
  let postgresSeconds = 0;
  for (const [pid, seconds] of after.cpu) postgresSeconds += seconds - (before.cpu.get(pid) ?? 0);
  const per = Math.max(events, 1);
  return {
    workerCpuUs: (1e6 * workerSeconds) / per,
    postgresCpuUs: (1e6 * postgresSeconds) / per,
    walBytes: Number(after.wal - before.wal) / per,
  };
}

interface DbUsage {
  cpu: Map<number, number>;
  wal: bigint;
}

/** CPU seconds of each backend serving `database`, and the server's WAL position. */
async function dbUsage(database: string): Promise<DbUsage> {
  const client = new Client({ connectionString: `${SERVICES.postgres}/postgres` });
  await client.connect();
  try {
    const found = await client.query<{ pid: number; wal: string }>(
      `SELECT a.pid, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal
       FROM (SELECT 1) one LEFT JOIN pg_stat_activity a ON a.datname = $1`,
      [database],
    );
    const cpu = new Map<number, number>();
    for (const { pid } of found.rows) {
      if (pid === null) continue;
      try {
        cpu.set(pid, cpuOf(pid));
      } catch {
        // The backend ended meanwhile.
      }
    }
    return { cpu, wal: BigInt(found.rows[0].wal.split('.')[0]) };
  } finally {
    await client.end();
  }
}

function formatCost(cost: Cost): string {
  return (
    `worker CPU ${cost.workerCpuUs.toFixed(0)} µs, ` +
    `PostgreSQL CPU ${cost.postgresCpuUs.toFixed(0)} µs, ` +
    `WAL ${cost.walBytes.toFixed(0)} B`
  );
}

function formatCounts(counts: readonly number[]): string {
  return counts.map((n) => n.toLocaleString('en-US')).join(', ');
}

function formatSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(1)} s` : `${Math.round(s * 1000)} ms`;
}

function formatSteps(steps: Record<string, number>): string {
  const total = Object.values(steps).reduce((a, b) => a + b, 0);
  return Object.entries(steps)
    .sort((a, b) => b[1] - a[1])
    .map(([step, s]) => `${step} ${formatSeconds(s)} (${Math.round((100 * s) / total)}%)`)
    .join(', ');
}
