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
    if (!this.enabled) return true;
    if (!presented) return false;
    const candidate = digest(presented.replace(/^Bearer\s+/i, '').trim());
    let match = false;
    for (const d of this.digests) match = timingSafeEqual(d, candidate) || match;
    return match;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
