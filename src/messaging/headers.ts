/**
 * NATS headers recflow sets on the events it publishes. The request id is
 * the correlation id of the request that recorded the event (see
 * src/api/http/request-id.ts): the worker names it in what it logs about the
 * event and keeps it on a dead letter, so one id leads from the client's
 * call to what became of each of its events.
 */
export const REQUEST_ID_HEADER = 'Recflow-Request-Id';
