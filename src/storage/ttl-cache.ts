/**
 * A small in-process cache whose entries expire after a fixed time and
 * whose size is bounded (the oldest entry goes first). Gateways use it for
 * what every request reads and what may lag by a moment: item records,
 * popular lists and co-visitation neighbours.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { until: number; value: V }>();

  constructor(
    /** How long an entry is served; 0 turns the cache off. */
    readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value stored for `key` if it has not expired at `now`. */
  get(key: K, now = Date.now()): V | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.until > now ? hit.value : undefined;
  }

  set(key: K, value: V, now = Date.now()): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, { until: now + this.ttlMs, value });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * The values of `keys`: fresh ones from the cache, the rest from one call
   * of `read` (given only the missing keys, in order), which are then kept.
   */
  async through(keys: readonly K[], read: (missing: K[]) => Promise<V[]>): Promise<V[]> {
    if (!this.enabled) return read([...keys]);
    const now = Date.now();
    const values = keys.map((key) => this.get(key, now));
    const missing: K[] = [];
    keys.forEach((key, i) => {
      if (values[i] === undefined) missing.push(key);
    });
    if (missing.length === 0) return values as V[];
    const fetched = await read(missing);
    const found = new Map<K, V>();
    missing.forEach((key, i) => {
      found.set(key, fetched[i]);
      this.set(key, fetched[i], now);
    });
    return keys.map((key, i) => (values[i] !== undefined ? values[i] : (found.get(key) as V)));
  }
}
