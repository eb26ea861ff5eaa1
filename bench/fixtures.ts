/**
 * Set-ups several scenarios share: an environment whose stream holds a
 * backlog of events and whose catalogue is loaded, and a worker that has
 * applied all of it.
 */
import { closeCore, openCore } from '../src/app/app';
import { waitForPipeline } from '../src/pipeline/wait';
import { connectNats } from '../src/messaging/connection';
import { silentLogger } from '../src/observability/logger';
import { type BenchData, encodeAll, loadCatalogue, makeData, publishRaw } from './data';
import type { BenchEnv } from './env';
import type { BenchContext } from './runner';

/** A fresh environment with the catalogue loaded and every event waiting in the stream. */
export async function backlogEnv(
  ctx: BenchContext,
  data: BenchData,
  overrides: Record<string, string> = {},
): Promise<BenchEnv> {
  const env = await catalogueEnv(ctx, data, overrides);
  await publishBacklog(ctx, env, data);
  return env;
}

/** A fresh environment holding the data's catalogue, and no events yet. */
export async function catalogueEnv(
  ctx: BenchContext,
  data: BenchData,
  overrides: Record<string, string> = {},
): Promise<BenchEnv> {
  const env = await ctx.env(overrides);
  const core = await openCore(env.config, silentLogger(), 'recflow-bench-loader');
  try {
    await loadCatalogue(core, data);
  } finally {
    await closeCore(core);
  }
  return env;
}

/** Publishes the data's events to the environment's stream, as stored messages. */
export async function publishBacklog(
  ctx: BenchContext,
  env: BenchEnv,
  data: BenchData,
): Promise<void> {
  ctx.log(`publishing a backlog of ${data.events.length} events`);
  const nc = await connectNats(env.config.nats.url, 'recflow-bench-backlog');
  try {
    await publishRaw(nc, env.config.nats, encodeAll(data.events, env.config), {
      batch: 1000,
      inFlight: 4,
    });
  } finally {
    await nc.close();
  }
}

/** Waits until the durable consumer has nothing pending or unacknowledged. */
export async function pipelineCaughtUp(env: BenchEnv, timeoutMs: number): Promise<void> {
  const nc = await connectNats(env.config.nats.url, 'recflow-bench-wait');
  try {
    await waitForPipeline(nc, env.config, timeoutMs);
  } finally {
    await nc.close();
  }
}

/**
 * The query scenario's data (users with real histories), applied by a
 * worker that is stopped again: what the query and ranking scenarios read.
 */
export async function queryData(ctx: BenchContext): Promise<{ data: BenchData; env: BenchEnv }> {
  const data = makeData(
    ctx.options.quick
      ? { users: 300, items: 300, events: 3000 }
      : { users: 2000, items: 1000, events: 40_000 },
    'query',
  );
  const env = await backlogEnv(ctx, data);
  const worker = await ctx.spawn('worker', env);
  await pipelineCaughtUp(env, 180_000);
  await worker.stop();
  return { data, env };
}
