/**
 * The durable consumer every worker shares: created with the worker's
 * settings, or brought up to them, and put back when it is lost (a NATS
 * server that restarted without its storage has lost the stream and the
 * consumer).
 */
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/config';
import { ensureStreams, streamNames } from '../messaging/connection';
import { Subjects } from '../messaging/subjects';
import type { Logger } from '../observability/logger';

function isNotFound(error: unknown): boolean {
  return /not found/i.test(String((error as Error)?.message ?? ''));
}

export class DurableConsumer {
  /** False while the consumer is missing on the server (read by /ready). */
  present = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** Creates the consumer if needed, or updates its settings, and returns it. */
  async bind(): Promise<Consumer> {
    const { nc, config } = this;
    const stream = streamNames(config.nats).events;
    const jsm = await jetstreamManager(nc);
    const settings = {
      ack_policy: AckPolicy.Explicit,
      // Unlimited on JetStream's side: the worker dead-letters a message itself
      // after RECFLOW_MAX_DELIVER tries. Were JetStream to stop redelivering, a
      // worker dying during that last try would lose the message.
      max_deliver: -1,
      ack_wait: nanos(config.pipeline.ackWaitMs),
      max_ack_pending: Math.max(1000, config.pipeline.batchSize * 4),
    };
    const exists = await jsm.consumers.info(stream, config.nats.consumer).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
    if (!exists) {
      await jsm.consumers.add(stream, {
        ...settings,
        durable_name: config.nats.consumer,
        deliver_policy: DeliverPolicy.All,
        filter_subject: new Subjects(config.nats.subjectPrefix).events,
      });
    } else {
      await jsm.consumers.update(stream, config.nats.consumer, settings).catch((error) => {
        // Keep consuming with the settings it has; say which could not change.
        this.log.warn({ err: error }, 'consumer settings not updated');
      });
    }
    return jetstream(nc).consumers.get(stream, config.nats.consumer);
  }

  /**
   * Checks that the stream and the consumer are there, and puts both back
   * if they are gone; the worker's next pull then finds them.
   */
  async check(): Promise<void> {
    const { nc, config, log } = this;
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.info(streamNames(config.nats).events, config.nats.consumer);
      this.present = true;
    } catch (error) {
      if (!isNotFound(error)) return; // NATS unreachable: the connection watch reports it.
      this.present = false;
      log.warn('the stream or the durable consumer is gone; creating them again');
      await ensureStreams(nc, config.nats)
        .then(() => this.bind())
        .then(() => (this.present = true))
        .catch((e: unknown) => log.error({ err: e }, 'could not recreate the consumer'));
    }
  }
}
