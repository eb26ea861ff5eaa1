/**
 * The dead-letter stream: where the worker moves an event that is not valid,
 * or that failed on every allowed delivery. The original payload is kept,
 * with why, where it came from and who recorded it in its headers; then the
 * original is terminated. Nothing is dropped: a publish that fails hands the
 * message back to JetStream for a later try.
 */
import { type JsMsg, jetstream, PubHeaders } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { REQUEST_ID_HEADER } from '../messaging/headers';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export class DeadLetters {
  private moved = 0;

  constructor(
    private readonly nc: NatsConnection,
    /** The subject the dead-letter stream keeps. */
    private readonly subject: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Messages moved so far. */
  get count(): number {
    return this.moved;
  }

  /** Moves a message to the dead-letter stream with its reason, then terminates it. */
  async move(msg: JsMsg, reason: string): Promise<void> {
    const h = headers();
    // Header values cannot hold line breaks; error messages often do.
    h.set('Recflow-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set('Recflow-Stream-Seq', String(msg.seq));
    h.set('Recflow-Deliveries', String(msg.info.deliveryCount));
    const traced = tracing(msg);
    if (traced.requestId) h.set(REQUEST_ID_HEADER, traced.requestId);
    try {
      await jetstream(this.nc).publish(this.subject, msg.data, {
        headers: h,
        msgID: `dlq-${msg.info.stream}-${msg.seq}`,
      });
      // No reason text: nats-server 2.9 ignores "+TERM <reason>" and would redeliver.
      // The reason travels in the Recflow-Reason header.
      msg.term();
      this.moved += 1;
      this.metrics.eventsProcessed.inc({ result: 'dead_letter' });
      this.log.warn({ seq: msg.seq, ...traced, reason }, 'event dead-lettered');
    } catch (error) {
      // Never drop it: let JetStream redeliver and try again.
      this.log.error({ err: error, seq: msg.seq, ...traced }, 'dead-letter publish failed');
      msg.nak(5000);
    }
  }
}

/** What names a message in logs: its event id and the request that recorded it, when known. */
export function tracing(msg: JsMsg): { eventId?: string; requestId?: string } {
  const eventId = msg.headers?.get(PubHeaders.MsgIdHdr) || undefined;
  const requestId = msg.headers?.get(REQUEST_ID_HEADER) || undefined;
  return { eventId, requestId };
}
