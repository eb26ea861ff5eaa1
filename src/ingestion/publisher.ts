/**
 * Writes events to JetStream. A call resolves only once JetStream has
 * stored every event (or recognised it as a duplicate by its id); anything
 * else is an INGESTION_UNAVAILABLE error and claims nothing.
 *
 * A call's events go out as plain NATS publishes, each with its event id as
 * JetStream's message id and its own reply subject under one wildcard inbox
 * per publisher. The acknowledgements come back on that inbox and are
 * matched to their events by the reply subject, and one timer bounds the
 * whole call. This is what `js.publish` does per message, without its
 * per-message request, timer, promise and the two Error objects it makes
 * for stack traces: on this 2-core machine, 1,000-event batches cost the
 * client about 7 µs of CPU per event this way against 55-60 µs through
 * `js.publish`, and NATS stores over 100,000 events/s instead of 20,000.
 */
import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { ErrorCode, RecflowError } from '../domain/errors';
import type { Interaction } from '../domain/events';
import { Subjects } from '../messaging/subjects';
import { encodeEvent } from './codec';
import { eventHeaders } from '../messaging/headers';

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
  /** How long to wait for JetStream's acknowledgement of a whole call. Default 5000 ms. */
  timeoutMs?: number;
  /** Told how many events JetStream stored, by answer (for metrics). */
  onPublished?: (answer: EventAnswer, count: number) => void;
  /** Creates the stream again when it is missing; then the publish is tried once more. */
  recreate?: () => Promise<void>;
}

/** JetStream's acknowledgement of one message. */
interface StoredAck {
  seq: number;
  duplicate: boolean;
}

/** One call's events in flight: an ack slot per event, filled as replies arrive. */
interface InFlight {
  acks: Array<StoredAck | undefined>;
  waiting: number;
  settle: (error?: Error) => void;
}

/** Nobody answered a publish: the stream does not exist (NATS lost its storage). */
class NoStreamError extends Error {
  constructor(subject: string) {
    super(`no responders: no JetStream stream stores ${subject}`);
    this.name = 'NoStreamError';
  }
}

export class EventPublisher {
  private readonly subject: string;
  private readonly connected: () => boolean;
  private readonly timeoutMs: number;
  private readonly onPublished: (answer: EventAnswer, count: number) => void;
  private readonly recreate?: () => Promise<void>;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly inbox = `${createInbox()}.`;
  private replies?: Subscription;
  private calls = 0;

  constructor(
    private readonly nc: NatsConnection,
    subjectPrefix: string,
    options: PublisherOptions = {},
  ) {
    this.connected = options.connected ?? (() => true);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.onPublished = options.onPublished ?? (() => undefined);
    this.recreate = options.recreate;
    this.subject = new Subjects(subjectPrefix).events;
  }

  /**
   * Publishes all events at once and answers in input order; the message id
   * is the event id. `requestId`, the id of the request that recorded them,
   * goes in each message's REQUEST_ID_HEADER, so that the worker's logs and
   * dead letters name it.
   */
  async publish(events: readonly Interaction[], requestId?: string): Promise<PublishedEvent[]> {
    if (this.nc.isClosed() || this.nc.isDraining() || !this.connected()) {
      throw unavailable(new Error('NATS connection is not connected'));
    }
    const acks = new Array<StoredAck | undefined>(events.length);
    try {
      await this.store(events, acks, requestId).catch(async (error: unknown) => {
        // A NATS server restarted without its storage has no stream: no one answers.
        if (!this.recreate || !(error instanceof NoStreamError)) throw error;
        await this.recreate();
        return this.store(events, acks, requestId);
      });
    } catch (error) {
      throw unavailable(error);
    }
    return this.answers(events, acks as StoredAck[]);
  }

  /**
   * Publishes every event whose ack slot is still empty, and resolves once
   * JetStream filled them all. A retry therefore never re-sends a stored
   * event, which would come back as a duplicate of itself.
   */
  private store(
    events: readonly Interaction[],
    acks: Array<StoredAck | undefined>,
    requestId: string | undefined,
  ) {
    return new Promise<void>((resolve, reject) => {
      this.calls += 1;
      const call = String(this.calls);
      const waiting = acks.length - acks.filter((a) => a !== undefined).length;
      const timer = setTimeout(() => {
        const stored = acks.filter((a) => a !== undefined).length;
        settle(new Error(`JetStream acknowledged ${stored} of ${acks.length} events in time`));
      }, this.timeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        this.inFlight.delete(call);
        if (error) reject(error);
        else resolve();
      };
      if (waiting === 0) return settle();
      this.inFlight.set(call, { acks, waiting, settle });
      try {
        const reply = `${this.listen()}${call}.`;
        for (let i = 0; i < events.length; i++) {
          if (acks[i] !== undefined) continue;
          this.nc.publish(this.subject, encodeEvent(events[i]), {
            reply: `${reply}${i}`,
            headers: eventHeaders(events[i].eventId, requestId),
          });
        }
      } catch (error) {
        settle(error as Error);
      }
    });
  }

  /** The reply inbox prefix, subscribed once (again after the subscription closed). */
  private listen(): string {
    if (!this.replies || this.replies.isClosed()) {
      this.replies = this.nc.subscribe(`${this.inbox}>`, {
        callback: (error, msg) => this.onReply(error, msg),
      });
    }
    return this.inbox;
  }

  /** Files one acknowledgement (`<inbox><call>.<index>`) under its call and event. */
  private onReply(error: Error | null, msg: Msg): void {
    if (error) {
      for (const call of [...this.inFlight.values()]) call.settle(error);
      return;
    }
    const token = msg.subject.slice(this.inbox.length);
    const dot = token.indexOf('.');
    const call = this.inFlight.get(token.slice(0, dot));
    const index = Number(token.slice(dot + 1));
    if (!call || call.acks[index] !== undefined) return;
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      call.settle(new NoStreamError(this.subject));
      return;
    }
    const ack = parseAck(msg);
    if (ack instanceof Error) {
      call.settle(ack);
      return;
    }
    call.acks[index] = ack;
    call.waiting -= 1;
    if (call.waiting === 0) call.settle();
  }

  private answers(events: readonly Interaction[], acks: readonly StoredAck[]): PublishedEvent[] {
    let duplicates = 0;
    const published = acks.map((ack, i): PublishedEvent => {
      if (ack.duplicate) duplicates += 1;
      return {
        eventId: events[i].eventId,
        answer: ack.duplicate ? 'DUPLICATE' : 'ACCEPTED',
        sequence: ack.seq,
      };
    });
    if (published.length > duplicates) this.onPublished('ACCEPTED', published.length - duplicates);
    if (duplicates > 0) this.onPublished('DUPLICATE', duplicates);
    return published;
  }
}

/** JetStream's answer to a publish: `{ stream, seq, duplicate? }`, or `{ error }`. */
function parseAck(msg: Msg): StoredAck | Error {
  let body: { seq?: unknown; duplicate?: unknown; error?: { description?: string } };
  try {
    body = msg.json();
  } catch (error) {
    return new Error('JetStream sent an acknowledgement that is not JSON', { cause: error });
  }
  if (body.error) return new Error(`JetStream refused an event: ${body.error.description}`);
  if (typeof body.seq !== 'number') return new Error('JetStream sent an invalid acknowledgement');
  return { seq: body.seq, duplicate: body.duplicate === true };
}

function unavailable(cause: unknown): RecflowError {
  return new RecflowError(
    ErrorCode.INGESTION_UNAVAILABLE,
    'the event stream is unavailable; nothing was recorded for sure, retry with the same event ids',
    {},
    { cause },
  );
}
