/**
 * Writes events to JetStream. A call resolves only once JetStream has
 * stored every event (or recognised it as a duplicate by its id); anything
 * else is an INGESTION_UNAVAILABLE error and claims nothing.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, RecflowError } from '../domain/errors';
import type { Interaction } from '../domain/events';
import { Subjects } from '../messaging/subjects';
import { encodeEvent } from './codec';

export type EventAnswer = 'ACCEPTED' | 'DUPLICATE';

export interface PublishedEvent {
  eventId: string;
  answer: EventAnswer;
  /** Stream sequence of the stored copy. */
  sequence: number;
}

export interface PublisherOptions {
  /** False while the client reconnects: fail at once instead of buffering. Default: always true. */
  connected?: () => boolean;
  /** How long to wait for JetStream's acknowledgement. Default 5000 ms. */
  timeoutMs?: number;
  /** Told how many events JetStream stored, by answer (for metrics). */
  onPublished?: (answer: EventAnswer, count: number) => void;
  /** Creates the stream again when it is missing; then the publish is tried once more. */
  recreate?: () => Promise<void>;
}

export class EventPublisher {
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;
  private readonly connected: () => boolean;
  private readonly timeoutMs: number;
  private readonly onPublished: (answer: EventAnswer, count: number) => void;
  private readonly recreate?: () => Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    subjectPrefix: string,
    options: PublisherOptions = {},
  ) {
    this.connected = options.connected ?? (() => true);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.onPublished = options.onPublished ?? (() => undefined);
    this.recreate = options.recreate;
    this.js = jetstream(nc, { timeout: this.timeoutMs });
    this.subjects = new Subjects(subjectPrefix);
  }

  private store(events: readonly Interaction[]) {
    return Promise.all(
      events.map((event) =>
        this.js.publish(this.subjects.events, encodeEvent(event), {
          msgID: event.eventId,
          timeout: this.timeoutMs,
        }),
      ),
    );
  }

  /** Publishes all events concurrently; the message id is the event id. */
  async publish(events: readonly Interaction[]): Promise<PublishedEvent[]> {
    if (this.nc.isClosed() || this.nc.isDraining() || !this.connected()) {
      throw unavailable(new Error('NATS connection is not connected'));
    }
    try {
      const acks = await this.store(events).catch(async (error: unknown) => {
        // A NATS server restarted without its storage has no stream: no one answers.
        if (!this.recreate || !/no responders/i.test(String((error as Error)?.message)))
          throw error;
        await this.recreate();
        return this.store(events);
      });
      const published = acks.map((ack, i): PublishedEvent => ({
        eventId: events[i].eventId,
        answer: ack.duplicate ? 'DUPLICATE' : 'ACCEPTED',
        sequence: ack.seq,
      }));
      const duplicates = published.filter((p) => p.answer === 'DUPLICATE').length;
      if (published.length > duplicates)
        this.onPublished('ACCEPTED', published.length - duplicates);
      if (duplicates > 0) this.onPublished('DUPLICATE', duplicates);
      return published;
    } catch (error) {
      throw unavailable(error);
    }
  }
}

function unavailable(cause: unknown): RecflowError {
  return new RecflowError(
    ErrorCode.INGESTION_UNAVAILABLE,
    'the event stream is unavailable; nothing was recorded for sure, retry with the same event ids',
    {},
    { cause },
  );
}
