/**
 * Keeps the Redis hot copy in step with PostgreSQL after each commit.
 *
 * Writes carry absolute values read back inside the transaction, so they
 * can be repeated safely. When Redis is down the write is remembered and
 * retried with the next batch (and on a timer), newest version wins; until
 * then readers fall back to PostgreSQL, so answers stay correct.
 *
 * Writes dropped from a full queue may include users' known-users bits,
 * neighbour pairs or items' popularity, so the writer then withdraws the mark of that part
 * (hot-copy-parts.ts) once Redis takes writes again; readers ask
 * PostgreSQL until it is rebuilt.
 */
import type { ItemFeatures, UserFeatures } from '../domain/features';
import type { Logger } from '../observability/logger';
import type { AppliedBatch, ItemPairWeight } from '../storage/postgres/feature-repository';
import type { HotStore, VersionRange } from '../storage/redis/hot-store';
import { CircuitBreaker } from '../resilience/circuit-breaker';
import type { BuildMark } from '../storage/redis/build-mark';
import { execOrThrow } from '../storage/redis/pipelines';

/** Pending writes are capped; past it the oldest are dropped (the TTL and misses repair them). */
const MAX_PENDING = 100_000;

/** Records waiting to be written, by key. */
interface Queue {
  users: Map<string, UserFeatures>;
  items: Map<string, ItemFeatures>;
  pairs: Map<string, ItemPairWeight>;
  seen: Map<string, Set<string>>;
  /** Per user, record versions whose items the queued seen items hold every one of. */
  covers: Map<string, VersionRange>;
  /**
   * Per queued item, categories it has left. Kept across newer versions:
   * Redis takes the item out of those the newest record lacks.
   */
  left: Map<string, Set<string>>;
}

function emptyQueue(): Queue {
  return {
    users: new Map(),
    items: new Map(),
    pairs: new Map(),
    seen: new Map(),
    covers: new Map(),
    left: new Map(),
  };
}

function size(queue: Queue): number {
  return queue.users.size + queue.items.size + queue.pairs.size + queue.seen.size;
}

export class HotCopyWriter {
  /** A flush takes the queue whole, leaving an empty one for what comes meanwhile. */
  private queue = emptyQueue();
  /** Records taken by the flush in progress. */
  private writing = 0;
  /** The last flush; each flush starts when the one before has ended. */
  private flushed: Promise<boolean> = Promise.resolve(true);

  /** Parts whose writes were dropped since their mark was last withdrawn. */
  private readonly dropped = new Set<'users' | 'neighbours' | 'popular'>();

  /** Around announceUsers: one refusal turns it off for a second. */
  private readonly announcing = new CircuitBreaker({
    name: 'redis-known-users',
    failureThreshold: 1,
    openMs: 1000,
    // Seen by operators: while it is open, a worker that dies between a
    // commit and its hot-copy write leaves the batch's new users looking new.
    onStateChange: (state) => {
      if (state === 'open') this.log.warn('known-users bits not set before commits; Redis refused');
    },
  });

  constructor(
    private readonly hot: HotStore,
    private readonly neighbours: number,
    private readonly log: Logger,
    /** The marks to withdraw when writes are dropped; none by default. */
    private readonly marks?: HotStore['marks'],
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

  /**
   * Sets the known-users bits of users a batch is about to commit, before
   * it commits: so that a worker dying between commit and hot-copy write
   * cannot leave a user with features that the filter calls new. Best
   * effort: when Redis refuses (its circuit then stays open a second, so a
   * down Redis does not slow every batch), the bits go with the hot-copy
   * write after the commit, as every user write's do, retried until Redis
   * takes them (README, Limits, says what that leaves).
   */
  async announceUsers(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    try {
      await this.announcing.run(() => execOrThrow(this.hot.knownUsersPipeline(userIds)));
    } catch (error) {
      this.log.debug({ err: error }, 'known-users bits not set before commit; set after');
    }
  }

  /** Records queued or being written. */
  get pending(): number {
    return size(this.queue) + this.writing;
  }

  /**
   * Queues a batch's records and tries to write everything pending. `left`
   * names, per item, categories it has left (a catalogue move).
   */
  async write(
    batch: Pick<AppliedBatch, 'users' | 'items' | 'pairs' | 'interactions'> & {
      folded?: AppliedBatch['folded'];
      left?: ReadonlyMap<string, readonly string[]>;
    },
  ): Promise<boolean> {
    enqueue(this.queue, {
      ...batch,
      seen: batch.interactions,
      covers: (batch.folded ?? []).map(({ userId, version }) => [userId, [version, version]]),
      left: batch.left ?? new Map(),
    });
    return this.flush();
  }

  /**
   * Writes what is pending, once any flush in progress has ended; false (and
   * still pending) when Redis refused.
   */
  flush(): Promise<boolean> {
    const next = () => this.writeQueue();
    this.flushed = this.flushed.then(next, next);
    return this.flushed;
  }

  private async writeQueue(): Promise<boolean> {
    const taken = this.queue;
    if (size(taken) === 0) {
      await this.withdrawIfDropped();
      return true;
    }
    this.queue = emptyQueue();
    this.writing = size(taken);
    try {
      await this.hot.writeBatch({
        users: [...taken.users.values()],
        seen: taken.seen,
        covers: taken.covers,
        items: [...taken.items.values()],
        left: taken.left,
        pairs: [...taken.pairs.values()],
        keep: this.neighbours,
      });
    } catch (error) {
      // Queued again, ahead of what was queued meanwhile (the oldest go
      // first when trimming); a newer version queued meanwhile wins.
      const meanwhile = this.queue;
      this.queue = taken;
      this.writing = 0;
      enqueue(this.queue, {
        users: meanwhile.users.values(),
        items: meanwhile.items.values(),
        pairs: meanwhile.pairs.values(),
        seen: [...meanwhile.seen].flatMap(([userId, items]) =>
          [...items].map((itemId) => ({ userId, itemId })),
        ),
        covers: meanwhile.covers,
        left: meanwhile.left,
      });
      this.trim();
      this.log.warn({ err: error, pending: this.pending }, 'hot copy write failed; will retry');
      return false;
    }
    this.writing = 0;
    await this.withdrawIfDropped();
    return true;
  }

  /** After writes were dropped: withdraws the marks of their parts, or keeps trying. */
  private async withdrawIfDropped(): Promise<void> {
    if (!this.marks) return;
    for (const part of this.dropped) {
      try {
        await (this.marks[part] as BuildMark).withdraw();
        this.dropped.delete(part);
        this.log.warn({ part }, 'queued writes were dropped; the part will be rebuilt');
      } catch (error) {
        this.log.warn({ err: error, part }, 'mark not withdrawn; will retry');
      }
    }
  }

  private trim(): void {
    const { pairs, seen, items, users, left } = this.queue;
    for (const map of [pairs, seen, items, users] as Map<string, unknown>[]) {
      for (const key of map.keys()) {
        if (this.pending <= MAX_PENDING) break;
        map.delete(key);
        if (map === seen || map === users) this.dropped.add('users');
        if (map === pairs) this.dropped.add('neighbours');
        if (map === items) this.dropped.add('popular');
      }
    }
    for (const itemId of left.keys()) if (!items.has(itemId)) left.delete(itemId);
    // Versions are covered only with every item they were queued with.
    for (const userId of this.queue.covers.keys()) {
      if (!seen.has(userId)) this.queue.covers.delete(userId);
    }
  }
}

/**
 * Adds records to a queue: the newer version, the heavier pair, every seen
 * item, the versions each user's items cover.
 */
function enqueue(
  queue: Queue,
  records: {
    users: Iterable<UserFeatures>;
    items: Iterable<ItemFeatures>;
    pairs: Iterable<ItemPairWeight>;
    seen: Iterable<{ userId: string; itemId: string }>;
    covers: Iterable<readonly [string, VersionRange]>;
    left: ReadonlyMap<string, Iterable<string>>;
  },
): void {
  for (const [userId, range] of records.covers) {
    queue.covers.set(userId, joinRanges(queue.covers.get(userId), range));
  }
  for (const { userId, itemId } of records.seen) {
    const items = queue.seen.get(userId);
    if (items) items.add(itemId);
    else queue.seen.set(userId, new Set([itemId]));
  }
  for (const u of records.users) keepNewer(queue.users, u.userId, u);
  for (const i of records.items) keepNewer(queue.items, i.itemId, i);
  for (const [itemId, categories] of records.left) {
    const held = queue.left.get(itemId);
    if (held) for (const c of categories) held.add(c);
    else queue.left.set(itemId, new Set(categories));
  }
  for (const p of records.pairs) {
    const key = `${p.itemA}\u0000${p.itemB}`;
    const current = queue.pairs.get(key);
    if (!current || p.weight > current.weight) queue.pairs.set(key, p);
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

/**
 * The versions two writes of one user's items cover together: both ranges
 * when they meet or overlap, else the later one alone (the items of the
 * versions between are not queued, so nothing may claim them).
 */
function joinRanges(held: VersionRange | undefined, added: VersionRange): VersionRange {
  if (!held) return added;
  if (added[0] <= held[1] + 1 && held[0] <= added[1] + 1) {
    return [Math.min(held[0], added[0]), Math.max(held[1], added[1])];
  }
  return added[1] > held[1] ? added : held;
}
