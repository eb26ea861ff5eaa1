/**
 * Which failures are worth retrying, and how long to wait before the next try.
 */

/** PostgreSQL SQLSTATEs and Node error codes that mean "try again". */
const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '53200', // out_of_memory: also a full lock table, which empties as transactions end
  '08000',
  '08001',
  '08003',
  '08006', // connection exceptions
  'P1001', // Prisma: cannot reach database
  'P1002',
  'P1017', // Prisma: server closed the connection
  'P2024', // Prisma: connection pool timeout
  'P2028', // Prisma: transaction API error
  'P2034', // Prisma: write conflict or deadlock
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** True when the error, or anything in its cause chain, is transient. */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const message = String((e as { message?: unknown }).message ?? '');
    if (
      /deadlock|could not serialize|connection|terminat|timed? ?out|ECONNREFUSED/i.test(message)
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Exponential backoff with equal jitter: attempt n waits between half and all
 * of min(max, base·2^(n−1)), so retries spread out but never come at once.
 */
export function backoffMs(
  attempt: number,
  baseMs = 100,
  maxMs = 10_000,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
