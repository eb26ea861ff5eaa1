import { PubHeaders } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { eventHeaders, REQUEST_ID_HEADER } from '../../../src/messaging/headers';

/** What a publish reads of its headers (nats-core's protocol.publish). */
type Encodable = { encode(): Uint8Array };

/** What NATS's own MsgHdrs sends for the same ids. */
function natsBlock(eventId: string, requestId?: string): string {
  const h = headers();
  h.set(PubHeaders.MsgIdHdr, eventId);
  if (requestId) h.set(REQUEST_ID_HEADER, requestId);
  return Buffer.from((h as unknown as Encodable).encode()).toString('utf8');
}

const decoded = (eventId: string, requestId?: string) =>
  Buffer.from((eventHeaders(eventId, requestId) as unknown as Encodable).encode()).toString('utf8');

test.each([
  ['evt-1', 'req-1'],
  ['evt-1', undefined],
  ['an id with inner spaces', '3f2a1c9e-5b7d-4e21-9a0c-1d2e3f4a5b6c'],
  ['évènement-🎬-1', 'a.b:c_d'],
  ['x'.repeat(128), 'y'.repeat(128)],
])('the block for (%s, %s) is the one NATS builds', (eventId, requestId) => {
  expect(decoded(eventId, requestId)).toBe(natsBlock(eventId, requestId));
});
