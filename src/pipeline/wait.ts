/**
 * Waits until the pipeline has applied everything in the stream: the
 * durable consumer has nothing pending and nothing unacknowledged.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { Config } from '../config/config';
import { streamNames, type NatsConnection } from '../messaging/connection';

export async function waitForPipeline(
  nc: NatsConnection,
  config: Config,
  timeoutMs: number,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const stream = streamNames(config.nats).events;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.consumers.info(stream, config.nats.consumer).catch(() => undefined);
    if (info && info.num_pending === 0 && info.num_ack_pending === 0) return;
    if (Date.now() > deadline) {
      const state = info
        ? `${info.num_pending} pending, ${info.num_ack_pending} unacknowledged`
        : 'no consumer (is a worker running?)';
      throw new Error(`the pipeline did not catch up within ${timeoutMs} ms: ${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
