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

export class EventPublisher {
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;

  constructor(
    private readonly nc: NatsConnection,
    subjectPrefix: string,
    /** False while the client reconnects: fail at once instead of buffering. */
    private readonly connected: () => boolean = () => true,
    private readonly timeoutMs = 5000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
    this.subjects = new Subjects(subjectPrefix);
  }

  /** Publishes all events concurrently; the message id is the event id. */
  async publish(events: readonly Interaction[]): Promise<PublishedEvent[]> {
    if (this.nc.isClosed() || this.nc.isDraining() || !this.connected()) {
      throw unavailable(new Error('NATS connection is not connected'));
    }
    try {
      const acks = await Promise.all(
        events.map((event) =>
          this.js.publish(this.subjects.events, encodeEvent(event), {
            msgID: event.eventId,
            timeout: this.timeoutMs,
          }),
        ),
      );
      return acks.map((ack, i) => ({
        eventId: events[i].eventId,
        answer: ack.duplicate ? 'DUPLICATE' : 'ACCEPTED',
        sequence: ack.seq,
      }));
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
