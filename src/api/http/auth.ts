/**
 * API-key authentication. With no keys configured, every caller is allowed
 * (development). Keys are compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Accepts `Bearer <key>` or a bare key. */
  allows(presented: string | undefined): boolean {
    return !this.enabled || this.identify(presented) !== undefined;
  }

  /**
   * Which configured key was presented (its position), or undefined. Every
   * spelling of one key (`Bearer k`, `bearer  k`, `k`) is the same client.
   */
  identify(presented: string | undefined): number | undefined {
    if (!presented) return undefined;
    const candidate = digest(
      presented
        .trim()
        .replace(/^Bearer\s+/i, '')
        .trim(),
    );
    let found: number | undefined;
    this.digests.forEach((d, i) => {
      if (timingSafeEqual(d, candidate)) found = i;
    });
    return found;
  }
}

/**
 * Who a request counts against for rate limiting: the API key when keys are
 * in use, else the remote address (a header the caller invents is no identity).
 */
export function clientIdentity(
  keys: ApiKeys,
  presented: string | undefined,
  address: string | undefined,
): string {
  const key = keys.enabled ? keys.identify(presented) : undefined;
  return key !== undefined ? `key:${key}` : `addr:${address ?? 'unknown'}`;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
