/**
 * The correlation id of a request: sent back in `x-request-id`, bound to the
 * request's logger and named in the errors it returns (see
 * ../graphql/errors.ts). It travels in the GraphQL context, not in
 * AsyncLocalStorage, whose promise hooks would tax every await in the process.
 */
import { randomUUID } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Uses the caller's `x-request-id` when it is safe to log, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && SAFE_ID.test(value) ? value : randomUUID();
}
