/**
 * Keeps the Redis hot copy in step with PostgreSQL after each commit.
 *
 * Writes carry absolute values read back inside the transaction, so they
 * can be repeated safely. When Redis is down the write is remembered and
 * retried with the next batch (and on a timer), newest version wins; until
 * then readers fall back to PostgreSQL, so answers stay correct.
 */
import type { ItemFeatures, UserFeatures } from '../domain/features';
import type { Logger } from '../observability/logger';
import type { AppliedBatch, ItemPairWeight } from '../storage/postgres/feature-repository';
import type { HotStore } from '../storage/redis/hot-store';

/** Pending writes are capped; past it the oldest are dropped (the TTL and misses repair them). */
const MAX_PENDING = 100_000;

export class HotCopyWriter {
  private readonly users = new Map<string, UserFeatures>();
  private readonly items = new Map<string, ItemFeatures>();
  private readonly pairs = new Map<string, ItemPairWeight>();
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    private readonly hot: HotStore,
    private readonly neighbours: number,
    private readonly log: Logger,
  ) {}

  private timer?: NodeJS.Timeout;

  /** Retries pending writes every `everyMs`, in whichever role holds the writer. */
  startRetrying(everyMs = 2000): void {
    this.timer ??= setInterval(() => void this.flush(), everyMs).unref();
  }

  stopRetrying(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get pending(): number {
    return this.users.size + this.items.size + this.pairs.size + this.seen.size;
  }

  /** Queues a batch's records and tries to write everything pending. */
  async write(
    batch: Pick<AppliedBatch, 'users' | 'items' | 'pairs' | 'interactions'>,
  ): Promise<boolean> {
    for (const { userId, itemId } of batch.interactions) {
      const items = this.seen.get(userId) ?? new Set<string>();
      items.add(itemId);
      this.seen.set(userId, items);
    }
    for (const u of batch.users) keepNewer(this.users, u.userId, u);
    for (const i of batch.items) keepNewer(this.items, i.itemId, i);
    for (const p of batch.pairs) {
      const key = `${p.itemA}\u0000${p.itemB}`;
      const current = this.pairs.get(key);
      if (!current || p.weight > current.weight) this.pairs.set(key, p);
    }
    return this.flush();
  }

  /** Writes what is pending; false (and still pending) when Redis refused. */
  async flush(): Promise<boolean> {
    if (this.pending === 0) return true;
    const users = [...this.users.values()];
    const items = [...this.items.values()];
    const pairs = [...this.pairs.values()];
    const seen = new Map([...this.seen].map(([user, set]) => [user, new Set(set)]));
    try {
      await this.hot.writeBatch({ users, seen, items, pairs, keep: this.neighbours });
    } catch (error) {
      this.trim();
      this.log.warn({ err: error, pending: this.pending }, 'hot copy write failed; will retry');
      return false;
    }
    // Drop only what was written; newer versions queued meanwhile stay.
    for (const u of users) if (this.users.get(u.userId) === u) this.users.delete(u.userId);
    for (const i of items) if (this.items.get(i.itemId) === i) this.items.delete(i.itemId);
    for (const p of pairs) {
      const key = `${p.itemA}\u0000${p.itemB}`;
      if (this.pairs.get(key) === p) this.pairs.delete(key);
    }
    for (const [user, written] of seen) {
      const pending = this.seen.get(user);
      for (const item of written) pending?.delete(item);
      if (pending?.size === 0) this.seen.delete(user);
    }
    return true;
  }

  private trim(): void {
    for (const map of [this.pairs, this.seen, this.items, this.users] as Map<string, unknown>[]) {
      for (const key of map.keys()) {
        if (this.pending <= MAX_PENDING) return;
        map.delete(key);
      }
    }
  }
}

function keepNewer<T extends { version: number }>(
  map: Map<string, T>,
  key: string,
  value: T,
): void {
  const current = map.get(key);
  if (!current || value.version >= current.version) map.set(key, value);
}
