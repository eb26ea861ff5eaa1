/**
 * Pipeline: events/s applied from a backlog by one worker, then by two
 * competing workers, each case on a fresh database and stream holding the
 * same synthetic events (many users and items, mixed types). One worker, and
 * two sharing one event loop, run in this process (RecflowApp role
 * 'worker'), so that each batch and each step can be timed. Two workers
 * also run as two processes, as competing consumers run in production:
 * their batches are timed from each worker's debug line per batch.
 *
 * Baseline: reading the same backlog with a plain pull consumer that acks
 * every message and applies nothing.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { Client } from 'pg';
import type { RecflowApp } from '../../src/app/app';
import { connectNats, streamNames } from '../../src/messaging/connection';
import { Subjects } from '../../src/messaging/subjects';
import { laneShares } from '../../src/pipeline/lanes';
import { Worker } from '../../src/pipeline/worker';
import { type BenchEnv, SERVICES } from '../env';
import { type BenchData, makeData } from '../data';
import { backlogEnv, catalogueEnv, publishBacklog } from '../fixtures';
import { until } from '../load';
import { cpuOf } from '../processes';
import { Recorder } from '../percentiles';
import { type Measure, type Row, target } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';

export const pipeline: Scenario = { name: 'pipeline', inDefaultRun: true, run };

const TARGET_PER_WORKER = 10_000;

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { pipelineEvents, pipelineUsers, pipelineItems } = ctx.options;
  const data = makeData(
    { events: pipelineEvents, users: pipelineUsers, items: pipelineItems },
    'pipe',
  );
  const timeoutMs = ctx.options.quick ? 40_000 : 150_000;
  const batches = timeBatches(ctx);

  const { pipelineBatch, pipelineLanes } = ctx.options;
  const overrides: Record<string, string> = {
    ...(pipelineBatch ? { RECFLOW_WORKER_BATCH: String(pipelineBatch) } : {}),
    ...(pipelineLanes ? { RECFLOW_WORKER_LANES: String(pipelineLanes) } : {}),
  };
  const first = await backlogEnv(ctx, data, overrides);
  const read = await rawRead(first, data.events.length, timeoutMs);
  const one = await applyBacklog(ctx, first, 1, data.events.length, timeoutMs, batches);
  const second = await backlogEnv(ctx, data, overrides);
  const two = await applyBacklog(ctx, second, 2, data.events.length, timeoutMs, batches);
  const third = await catalogueEnv(ctx, data, overrides);
  const apart = await applyInProcesses(ctx, third, data, 2, timeoutMs);

  const shares = laneShares(first.config.pipeline.batchSize, first.config.pipeline.lanes);
  const rows: Row[] = [one, two, apart].map((result) => {
    const perWorker = result.measure.throughput!.value / result.workers;
    return {
      scenario: 'pipeline',
      case: `apply, ${result.workers} worker${result.workers > 1 ? 's' : ''}${result.where}`,
      measured: result.measure,
      baseline: read,
      targets: [
        target('>= 10,000 events/s per worker', perWorker, perWorker >= TARGET_PER_WORKER, 'ev/s'),
      ],
      notes: [
        `latency is per batch (up to ${shares[0]} events; ${shares.length} lanes per worker)`,
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
      stepSeconds: { oneWorker: one.steps, twoWorkers: two.steps, twoProcesses: apart.steps },
      costPerEvent: { oneWorker: one.cost, twoWorkers: two.cost, twoProcesses: apart.cost },
      workers:
        'one, and two sharing one event loop, in this process (RecflowApp.start role worker); ' +
        'then two child processes (recflow serve --role worker)',
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
  /** How the workers ran, for the case name ('' for this process). */
  where: string;
  measure: Measure;
  steps: Record<string, number>;
  complete: boolean;
  cost: Cost;
}

/**
 * What applying the backlog cost per event, less sensitive to other load on
 * the machine than the rate: CPU of this process (the workers), CPU of the
 * PostgreSQL backends serving the scenario's database, and WAL written (the
 * server's whole WAL, so other writers on it count too).
 */
interface Cost {
  workerCpuUs: number;
  postgresCpuUs: number;
  walBytes: number;
}

async function applyBacklog(
  ctx: BenchContext,
  env: BenchEnv,
  workers: number,
  total: number,
  timeoutMs: number,
  batches: BatchTimes,
): Promise<Applied> {
  ctx.log(`applying ${total} events with ${workers} worker(s)`);
  batches.reset();
  const database = new URL(env.config.postgres.url).pathname.slice(1);
  const dbBefore = await dbUsage(database);
  const cpuBefore = process.cpuUsage();
  const profile = await startProfile();
  const apps: RecflowApp[] = [];
  for (let i = 0; i < workers; i += 1) apps.push(await ctx.app('worker', env));
  const processed = () => apps.reduce((n, app) => n + (app.worker?.health().processed ?? 0), 0);
  const complete = await until(() => processed() >= total, timeoutMs, 50);
  const count = processed();
  const cpu = process.cpuUsage(cpuBefore);
  const dbAfter = await dbUsage(database);
  await profile?.(`pipeline-${workers}-worker${workers > 1 ? 's' : ''}`);
  const steps = await stepSeconds(apps);
  for (const app of apps) await app.stop();
  const seconds = (batches.lastEnd - batches.firstStart) / 1000;
  return {
    workers,
    where: workers > 1 ? ', one process' : '',
    complete,
    steps,
    cost: costPerEvent((cpu.user + cpu.system) / 1e6, dbBefore, dbAfter, count),
    measure: {
      label: `${workers} worker(s)`,
      latency: batches.latency.summary(),
      throughput: { value: count / seconds, unit: 'events/s' },
    },
  };
}

/**
 * Two (or more) workers as child processes, started before the backlog is
 * published so that their start-up is not counted. Each logs a line per
 * batch at debug level (its size and duration), which times the batches;
 * CPU is read from /proc and steps from each worker's /metrics.
 */
async function applyInProcesses(
  ctx: BenchContext,
  env: BenchEnv,
  data: BenchData,
  workers: number,
  timeoutMs: number,
): Promise<Applied> {
  const total = data.events.length;
  const latency = new Recorder();
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  let handled = 0;
  const onLine = (line: string) => {
    if (!line.includes('"batch handled"')) return;
    const entry = JSON.parse(line) as { time: string; size: number; ms: number };
    const end = Date.parse(entry.time);
    firstStart = Math.min(firstStart, end - entry.ms);
    lastEnd = Math.max(lastEnd, end);
    latency.record(entry.ms);
    handled += entry.size;
  };
  const children = await Promise.all(
    Array.from({ length: workers }, () =>
      ctx.spawn('worker', env, {}, { logLevel: 'debug', onLine }),
    ),
  );
  const database = new URL(env.config.postgres.url).pathname.slice(1);
  const dbBefore = await dbUsage(database);
  const cpuBefore = children.map((c) => c.cpuSeconds());
  await publishBacklog(ctx, env, data);
  ctx.log(`applying ${total} events with ${workers} worker processes`);
  const complete = await until(() => handled >= total, timeoutMs, 50);
  const cpu = children.reduce((sum, c, i) => sum + c.cpuSeconds() - cpuBefore[i], 0);
  const dbAfter = await dbUsage(database);
  const steps: Record<string, number> = {};
  for (const child of children) {
    for (const [step, seconds] of Object.entries(await stepSecondsOf(child.probeUrl))) {
      steps[step] = (steps[step] ?? 0) + seconds;
    }
  }
  for (const child of children) await child.stop();
  const count = Math.min(handled, total);
  return {
    workers,
    where: `, ${workers} processes`,
    complete,
    steps,
    cost: costPerEvent(cpu, dbBefore, dbAfter, count),
    measure: {
      label: `${workers} worker processes`,
      latency: latency.summary(),
      throughput: { value: (1000 * count) / (lastEnd - firstStart), unit: 'events/s' },
    },
  };
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

interface BatchTimes {
  latency: Recorder;
  firstStart: number;
  lastEnd: number;
  reset(): void;
}

/**
 * Times every batch a worker of this process handles (decode, apply, hot
 * copy, notices, acks), by wrapping Worker's batch method for the length of
 * the scenario. Instrumentation only: the method itself is unchanged.
 */
function timeBatches(ctx: BenchContext): BatchTimes {
  const times: BatchTimes = {
    latency: new Recorder(),
    firstStart: Number.NaN,
    lastEnd: Number.NaN,
    reset() {
      this.latency = new Recorder();
      this.firstStart = Number.NaN;
      this.lastEnd = Number.NaN;
    },
  };
  type Batch = (this: Worker, ...args: unknown[]) => Promise<void>;
  const proto = Worker.prototype as unknown as { applyMessages: Batch };
  const original = proto.applyMessages;
  proto.applyMessages = async function timed(...args) {
    const start = performance.now();
    if (Number.isNaN(times.firstStart)) times.firstStart = start;
    await original.apply(this, args);
    times.lastEnd = performance.now();
    times.latency.record(times.lastEnd - start);
  };
  ctx.defer(() => {
    proto.applyMessages = original;
  });
  return times;
}

/** Total seconds per applyBatch step (recflow_pipeline_step_seconds), over all workers. */
async function stepSeconds(apps: RecflowApp[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const app of apps) {
    const metric = await app.core.metrics.pipelineSteps.get();
    for (const v of metric.values) {
      if (!String(v.metricName).endsWith('_sum')) continue;
      const step = String(v.labels.step);
      totals[step] = (totals[step] ?? 0) + v.value;
    }
  }
  return totals;
}

/**
 * With RECFLOW_BENCH_PROFILE_DIR set, a V8 CPU profile of this process (the
 * workers run in it) while it applies the backlog; the returned function
 * stops it and writes `<name>.cpuprofile` there.
 */
async function startProfile(): Promise<((name: string) => Promise<void>) | undefined> {
  const dir = process.env.RECFLOW_BENCH_PROFILE_DIR;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (name) => {
    const { profile } = await session.post('Profiler.stop');
    // The child processes' --cpu-prof-dir makes the folder; this process may write first.
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
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
