/**
 * Set-ups several scenarios share: an environment whose stream holds a
 * backlog of events and whose catalogue is loaded, and a worker that has
 * applied all of it.
 */
import { closeCore, openCore } from '../src/app/app';
import { waitForPipeline } from '../src/pipeline/wait';
import { connectNats } from '../src/messaging/connection';
import { silentLogger } from '../src/observability/logger';
import { type BenchData, encodeAll, loadCatalogue, publishRaw } from './data';
import type { BenchEnv } from './env';
import type { BenchContext } from './runner';

/** A fresh environment with the catalogue loaded and every event waiting in the stream. */
export async function backlogEnv(
  ctx: BenchContext,
  data: BenchData,
  overrides: Record<string, string> = {},
): Promise<BenchEnv> {
  const env = await ctx.env(overrides);
  const core = await openCore(env.config, silentLogger(), 'recflow-bench-loader');
  try {
    await loadCatalogue(core, data);
    ctx.log(`publishing a backlog of ${data.events.length} events`);
    await publishRaw(core.nc, env.config.nats, encodeAll(data.events, env.config), {
      batch: 1000,
      inFlight: 4,
    });
  } finally {
    await closeCore(core);
  }
  return env;
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
