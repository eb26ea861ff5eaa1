/**
 * NATS headers recflow sets on the events it publishes, and their encoding.
 *
 * The request id is the correlation id of the request that recorded the
 * event (see src/api/http/request-id.ts): the worker names it in what it
 * logs about the event and keeps it on a dead letter, so one id leads from
 * the client's call to what became of each of its events.
 */
import { PubHeaders } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';

export const REQUEST_ID_HEADER = 'Recflow-Request-Id';

/**
 * The header block of one event message: its event id as JetStream's
 * message id (the dedupe key), and the request id when there is one.
 *
 * NATS's own MsgHdrs checks and canonicalises every key and value and builds
 * the block again for each message: 7 % of a gateway's CPU in
 * `recordEvents`. A publish reads nothing of its headers but encode(), so
 * this is the block, built once, in the same form (a test compares the
 * two). Both ids come validated: no control characters, so no line breaks,
 * and no whitespace at either end, which NATS would trim.
 */
export function eventHeaders(eventId: string, requestId?: string): MsgHdrs {
  let block = `NATS/1.0\r\n${PubHeaders.MsgIdHdr}: ${eventId}`;
  if (requestId) block += `\r\n${REQUEST_ID_HEADER}: ${requestId}`;
  // A publish calls encode() alone (nats-core's protocol.publish); the e2e
  // tests publish through the real client and read the stored headers back.
  return new EncodedHeaders(Buffer.from(`${block}\r\n\r\n`, 'utf8')) as unknown as MsgHdrs;
}

/** Headers already encoded; only what a publish uses is implemented. */
class EncodedHeaders {
  constructor(private readonly block: Uint8Array) {}

  encode(): Uint8Array {
    return this.block;
  }
}
