/**
 * The wire form of an event on the stream: the validated interaction as
 * JSON. The pipeline re-validates it, so a message written by another
 * producer cannot poison the features.
 */
import type { Interaction } from '../domain/events';

export function encodeEvent(event: Interaction): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export function decodeEvent(data: Uint8Array): unknown {
  return JSON.parse(Buffer.from(data).toString('utf8'));
}
