/**
 * A small in-process cache whose entries expire after a fixed time and
 * whose size is bounded (the oldest entry goes first; entries that can no
 * longer be served go as soon as a call passes). Gateways use it for
 * what every request reads and what may lag by a moment: item records,
 * popular lists and co-visitation neighbours.
 *
 * An entry is fresh for `ttlMs`. For as long again it is stale: through()
 * still serves it, and refreshes every stale key it met in the background,
 * in one read per turn of the event loop. So a request waits only for keys
 * it has never seen (or not for twice the ttl), and entries that expire
 * together never make the requests that meet them wait together.
 *
 * Entries are kept in write order in a list beside the map (WriteOrder),
 * and the oldest leave from its front.
 */
import { type Linked, WriteOrder } from './write-order';

export interface TtlCacheOptions<K, V> {
  /** How long an entry is fresh; 0 turns the cache off. */
  ttlMs: number;
  maxEntries: number;
  /** Reads the values of `keys`, in order; a value may be null but not undefined. */
  load: (keys: K[]) => Promise<V[]>;
  /** Told when a background refresh fails; the stale entries then simply expire. */
  onRefreshError?: (error: unknown) => void;
  /**
   * Whether a refreshed value says the same as the one held. The held one
   * is then kept, only fresh again: whatever was derived from it and kept
   * by its identity stays valid, and the copy just read dies young instead
   * of joining the long-lived heap. Values must never be changed in place
   * (they never could: requests share them): a held value is no longer
   * replaced by a fresh read every period.
   */
  same?: (held: V, read: V) => boolean;
}

/** An entry, linked to the ones written just before and after it. */
interface Slot<K, V> extends Linked<Slot<K, V>> {
  readonly key: K;
  readonly until: number;
  readonly value: V;
}

export class TtlCache<K, V> {
  readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly load: (keys: K[]) => Promise<V[]>;
  private readonly onRefreshError: (error: unknown) => void;
  private readonly same: (held: V, read: V) => boolean;
  private readonly entries = new Map<K, Slot<K, V>>();
  /** The entries from the first written to the last. */
  private readonly order = new WriteOrder<Slot<K, V>>();
  /** Stale keys to read again; flushed once per turn of the event loop. */
  private readonly due = new Set<K>();
  /** Keys being read in the background now, not to be queued twice. */
  private readonly refreshing = new Set<K>();
  /**
   * Reads of missing keys in progress: a request that misses a key another
   * request is already reading waits for that read instead of repeating it,
   * so a cold gateway reads each key once, not once per request.
   */
  private readonly loading = new Map<K, Promise<V>>();
  private flushQueued = false;
  /**
   * Grows on every delete() and clear(): a read that started before an
   * invalidation must not put back what was just forgotten.
   */
  private generation = 0;

  constructor(options: TtlCacheOptions<K, V>) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries;
    this.load = options.load;
    this.onRefreshError = options.onRefreshError ?? (() => undefined);
    this.same = options.same ?? (() => false);
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value stored for `key` if it is still fresh at `now`. */
  get(key: K, now = Date.now()): V | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.until > now ? hit.value : undefined;
  }

  set(key: K, value: V, now = Date.now()): void {
    if (!this.enabled) return;
    const held = this.entries.get(key);
    if (held !== undefined) this.order.remove(held);
    const slot: Slot<K, V> = {
      key,
      until: now + this.ttlMs,
      value,
      older: undefined,
      newer: undefined,
    };
    this.order.append(slot);
    this.entries.set(key, slot);
    if (this.entries.size > this.maxEntries) this.drop(this.order.oldest!);
  }

  delete(key: K): void {
    this.generation += 1;
    const held = this.entries.get(key);
    if (held !== undefined) this.drop(held);
    // A read that started before this must not answer later requests either.
    this.loading.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.order.clear();
    this.loading.clear();
  }

  /**
   * The values of `keys`: fresh or stale ones from the cache (stale ones are
   * refreshed in the background), the rest from one load of only the
   * missing keys, whose answers are then kept.
   */
  async through(keys: readonly K[]): Promise<V[]> {
    if (!this.enabled) return this.load([...keys]);
    const now = Date.now();
    this.sweep(now);
    const values: Array<V | undefined> = [];
    /** Missing keys this call reads itself, each once. */
    const missing: K[] = [];
    let own: Set<K> | undefined;
    /** Missing keys another call is reading already. */
    const joined = new Map<K, Promise<V>>();
    for (const key of keys) {
      const hit = this.entries.get(key);
      if (hit === undefined || hit.until + this.ttlMs <= now) {
        values.push(undefined);
        const reading = this.loading.get(key);
        if (reading) joined.set(key, reading);
        else {
          own ??= new Set();
          if (!own.has(key)) {
            own.add(key);
            missing.push(key);
          }
        }
        continue;
      }
      if (hit.until <= now) this.refreshLater(key);
      values.push(hit.value);
    }
    if (missing.length === 0 && joined.size === 0) return values as V[];
    const found = new Map<K, V>();
    if (missing.length > 0) await this.loadMissing(missing, now, found);
    for (const [key, reading] of joined) found.set(key, await reading);
    return keys.map((key, i) => (values[i] !== undefined ? values[i] : (found.get(key) as V)));
  }

  /**
   * Drops the entries past their stale period, which can no longer be
   * served, oldest written first, up to the first that can. Left in place,
   * they would stay until maxEntries pushed them out: at a million users,
   * item records and neighbour lists nobody asks for again, which every
   * major garbage collection marks. Entries are written in about the order
   * they expire, so each call looks at the few that have just run out.
   */
  private sweep(now: number): void {
    while (this.order.oldest !== undefined && this.order.oldest.until + this.ttlMs <= now) {
      this.drop(this.order.oldest);
    }
  }

  private drop(slot: Slot<K, V>): void {
    this.order.remove(slot);
    this.entries.delete(slot.key);
  }

  /**
   * One load of `missing` into `found`, announced per key so that
   * concurrent misses join it.
   */
  private async loadMissing(missing: K[], now: number, found: Map<K, V>): Promise<void> {
    const generation = this.generation;
    const batch = this.load(missing);
    const perKey = missing.map((key, i) => {
      const one = batch.then((fetched) => fetched[i]);
      // Whoever joins gets the failure; an unjoined copy must not go unhandled.
      one.catch(() => undefined);
      this.loading.set(key, one);
      return one;
    });
    try {
      const fetched = await batch;
      const keep = generation === this.generation;
      missing.forEach((key, i) => {
        found.set(key, fetched[i]);
        if (keep) this.set(key, fetched[i], now);
      });
    } finally {
      missing.forEach((key, i) => {
        if (this.loading.get(key) === perKey[i]) this.loading.delete(key);
      });
    }
  }

  private refreshLater(key: K): void {
    if (this.refreshing.has(key)) return;
    this.due.add(key);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  /** One background load for every key found stale since the last flush. */
  private flush(): void {
    this.flushQueued = false;
    const batch = [...this.due];
    this.due.clear();
    for (const key of batch) this.refreshing.add(key);
    const generation = this.generation;
    this.load(batch)
      .then((fetched) => {
        if (generation !== this.generation) return;
        const now = Date.now();
        batch.forEach((key, i) => {
          const held = this.entries.get(key);
          const same = held !== undefined && this.same(held.value, fetched[i]);
          this.set(key, same ? held.value : fetched[i], now);
        });
      })
      .catch(this.onRefreshError)
      .finally(() => {
        for (const key of batch) this.refreshing.delete(key);
      });
  }
}
