/**
 * Feature loading for request handlers: Redis first, PostgreSQL for the
 * misses, refilling Redis with what PostgreSQL returned.
 *
 * `loaders()` makes a fresh set of DataLoaders. Make one set per request and
 * per subscription push, never shared across users: a loader caches what it
 * loaded, and a cache kept across events would serve stale features.
 *
 * Costs, per batch of keys: one Redis round trip per entity kind (MGET, or
 * one pipeline of ZRANGEs), and at most one PostgreSQL query for the misses
 * of that kind. When Redis fails, its circuit opens and every read goes
 * straight to PostgreSQL until a trial call succeeds.
 */
import DataLoader from 'dataloader';
import { ErrorCode, RecflowError } from '../domain/errors';
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../domain/features';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { CircuitBreaker } from '../resilience/circuit-breaker';
import type { FeatureRepository } from './postgres/feature-repository';
import type { HotStore, ScoredId, ZsetRead } from './redis/hot-store';
import { TtlCache } from './ttl-cache';
import { TurnBatcher } from './turn-batcher';

export interface FeatureLoaders {
  /** Batched per tick and cached per request: for GraphQL fields that each ask for one. */
  users: DataLoader<string, UserFeatures | null>;
  items: DataLoader<string, ItemFeatures | null>;
  /**
   * Reads of a whole batch the caller already holds, in one call and one
   * promise: the recommender's path, which would otherwise pay a promise
   * per id on every request.
   */
  itemsOf(ids: readonly string[]): Promise<Array<ItemFeatures | null>>;
  /** Co-visitation neighbours of each item, heaviest first. */
  neighboursOf(ids: readonly string[]): Promise<ScoredId[][]>;
  /** Popular items of each window and optional category; see popularKey(). */
  popularOf(keys: readonly string[]): Promise<ScoredId[][]>;
}

/** Entries each in-process cache keeps at most; the oldest go first. */
const ITEM_CACHE_LIMIT = 50_000;
const NEIGHBOUR_CACHE_LIMIT = 50_000;
const POPULAR_CACHE_LIMIT = 10_000;

/** How many entries a candidate list holds. */
export const POPULAR_DEPTH = 500;

/** Two sorted-set reads with the same entries, in the same order. */
function sameEntries(held: readonly ScoredId[], read: readonly ScoredId[]): boolean {
  if (held === read) return true;
  if (held.length !== read.length) return false;
  for (let i = 0; i < held.length; i += 1) {
    if (held[i].itemId !== read[i].itemId || held[i].score !== read[i].score) return false;
  }
  return true;
}

export function popularKey(window: PopularityWindow, category: string | null): string {
  return category === null ? window : `${window}\u0000${category}`;
}

function parsePopularKey(key: string): { window: PopularityWindow; category: string | null } {
  const [window, category] = key.split('\u0000');
  return { window: window as PopularityWindow, category: category ?? null };
}

/** How a gateway's store caches what every request reads; 0 ms reads it per request. */
export interface FeatureStoreOptions {
  /** Co-visitation neighbours read per item. */
  neighbourDepth: number;
  /** How long a popular or trending list (the same for every user) is reused. */
  popularCacheMs?: number;
  /** How long an item record is reused across requests. */
  itemCacheMs?: number;
  /** How long an item's co-visitation neighbours are reused across requests. */
  neighbourCacheMs?: number;
}

export class FeatureStore {
  readonly redisCircuit: CircuitBreaker;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly neighbourDepth: number;
  private readonly popularCache: TtlCache<string, ScoredId[]>;
  private readonly itemCache: TtlCache<string, ItemFeatures | null>;
  private readonly neighbourCache: TtlCache<string, ScoredId[]>;
  /** Every request's user reads in one turn of the event loop, as one read. */
  private readonly userReads = new TurnBatcher<string, UserFeatures | null>((ids) =>
    this.loadUsers(ids),
  );

  constructor(
    private readonly hot: HotStore,
    private readonly repository: FeatureRepository,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    options: FeatureStoreOptions,
  ) {
    this.neighbourDepth = options.neighbourDepth;
    const onRefreshError = (kind: string) => (err: unknown) =>
      log.warn({ err, kind }, 'background refresh of cached features failed');
    this.popularCache = new TtlCache({
      ttlMs: options.popularCacheMs ?? 0,
      maxEntries: POPULAR_CACHE_LIMIT,
      load: (keys) => this.readPopular(keys),
      onRefreshError: onRefreshError('popular'),
      same: sameEntries,
    });
    this.itemCache = new TtlCache({
      ttlMs: options.itemCacheMs ?? 0,
      maxEntries: ITEM_CACHE_LIMIT,
      load: (ids) => this.readItems(ids),
      onRefreshError: onRefreshError('item'),
      // A change to an item, in the catalogue or its features, raises its
      // version (the two writers share an item lock: LOCK_ITEMS_SQL).
      // Records are read-only once loaded: a held one is kept as it is.
      same: (held, read) =>
        held === read || (held !== null && read !== null && held.version === read.version),
    });
    this.neighbourCache = new TtlCache({
      ttlMs: options.neighbourCacheMs ?? 0,
      maxEntries: NEIGHBOUR_CACHE_LIMIT,
      load: (ids) => this.readNeighbours(ids),
      onRefreshError: onRefreshError('neighbours'),
      same: sameEntries,
    });
    metrics.circuitState.set({ dependency: 'redis' }, 0);
    this.redisCircuit = new CircuitBreaker({
      name: 'redis',
      failureThreshold: 2,
      openMs: 1000,
      onStateChange: (state) => {
        metrics.circuitState.set({ dependency: 'redis' }, state === 'open' ? 1 : 0);
        log.warn({ dependency: 'redis', state }, 'circuit state changed');
      },
    });
  }

  /**
   * Drops cached records of items that changed, and every cached popular
   * list (an item's availability or categories decide where it is listed).
   */
  forgetItems(itemIds: readonly string[]): void {
    for (const id of itemIds) this.itemCache.delete(id);
    this.popularCache.clear();
  }

  loaders(): FeatureLoaders {
    return {
      users: new DataLoader((ids) => this.userReads.load(ids)),
      items: new DataLoader((ids) => this.itemCache.through(ids)),
      itemsOf: (ids) => this.itemCache.through(ids),
      neighboursOf: (ids) => this.neighbourCache.through(ids),
      popularOf: (keys) => this.popularCache.through(keys),
    };
  }

  private async loadUsers(ids: readonly string[]): Promise<Array<UserFeatures | null>> {
    return this.loadRecords('user', ids, {
      // The filter lookup for users without a key is a round trip of its own.
      fromRedis: (keys) =>
        this.hot.getUsers(keys, () =>
          this.metrics.storeRoundTrips.inc({ store: 'redis', kind: 'known-users' }),
        ),
      fromPostgres: (keys) => this.repository.loadUsers(keys),
      refill: async (found) => {
        await this.hot.writeRecords(found, []);
        await this.hot.fillSeen(found);
      },
    });
  }

  private async readItems(ids: readonly string[]): Promise<Array<ItemFeatures | null>> {
    return this.loadRecords('item', ids, {
      fromRedis: (keys) => this.hot.getItems(keys),
      fromPostgres: (keys) => this.repository.loadItems(keys),
      refill: (found) => this.hot.writeRecords([], found),
    });
  }

  /**
   * The shared shape of user and item loading. Redis answers a record, a
   * remembered absence (null) or a miss (undefined); only misses go to
   * PostgreSQL, and what PostgreSQL says, present or absent, is written back.
   */
  private async loadRecords<T>(
    kind: 'user' | 'item',
    ids: readonly string[],
    io: {
      fromRedis: (ids: readonly string[]) => Promise<Array<T | null | undefined>>;
      fromPostgres: (ids: readonly string[]) => Promise<Map<string, T>>;
      refill: (found: T[]) => Promise<void>;
    },
  ): Promise<Array<T | null>> {
    const cached = await this.tryRedis(kind, () => io.fromRedis(ids));
    const result: Array<T | null | undefined> = cached ?? ids.map(() => undefined);
    const misses = ids.filter((_, i) => result[i] === undefined);
    if (misses.length === 0) return result as Array<T | null>;

    const found = await this.fromPostgres(kind, () => io.fromPostgres(misses));
    ids.forEach((id, i) => {
      if (result[i] === undefined) result[i] = found.get(id) ?? null;
    });
    if (cached) {
      const absent = misses.filter((id) => !found.has(id));
      this.refillLater(kind, async () => {
        if (found.size > 0) await io.refill([...found.values()]);
        await this.hot.writeAbsent(kind, absent);
      });
    }
    return result as Array<T | null>;
  }

  private async readNeighbours(ids: readonly string[]): Promise<ScoredId[][]> {
    const reads = await this.tryRedis('neighbours', () =>
      this.hot.getTop(
        ids.map((id) => this.hot.neighboursKey(id)),
        this.neighbourDepth,
      ),
    );
    const result = ids.map((_, i) => (reads?.[i]?.filled ? reads[i].entries : null));
    const misses = ids.filter((_, i) => result[i] === null);
    if (misses.length === 0) return result as ScoredId[][];

    const found = await this.shared(`neighbours\u0000${[...misses].sort().join('\u0000')}`, () =>
      this.fromPostgres('neighbours', () =>
        this.repository.neighbours(misses, this.neighbourDepth),
      ),
    );
    const entries = (id: string) =>
      (found.get(id) ?? []).map((n) => ({ itemId: n.itemId, score: n.weight }));
    if (reads) {
      for (const id of misses)
        this.refillLater('neighbours', () =>
          this.hot.fillTop(this.hot.neighboursKey(id), entries(id)),
        );
    }
    return ids.map((id, i) => result[i] ?? entries(id));
  }

  private async readPopular(keys: readonly string[]): Promise<ScoredId[][]> {
    const specs = keys.map(parsePopularKey);
    const redisKeys = specs.map((s) => this.hot.popularityKey(s.window, s.category));
    const reads: ZsetRead[] | undefined = await this.tryRedis('popular', () =>
      this.hot.getTop(redisKeys, POPULAR_DEPTH),
    );
    return Promise.all(
      specs.map(async (spec, i) => {
        const read = reads?.[i];
        if (read?.filled) return read.entries;
        // Rare: a cold or restarted Redis. One query per missing list.
        const top = await this.shared(`popular\u0000${keys[i]}`, () =>
          this.fromPostgres('popular', () =>
            this.repository.popular(spec.window, spec.category, POPULAR_DEPTH),
          ),
        );
        if (reads) {
          this.refillLater('popular', () => this.hot.fillPopular(redisKeys[i], spec.category, top));
        }
        return top.map(({ itemId, score }) => ({ itemId, score }));
      }),
    );
  }

  /**
   * One in-flight PostgreSQL read per key, shared by every request that
   * needs it: after a Redis restart, hundreds of requests would otherwise
   * each ask for the same popular list at once and exhaust the pool. Only
   * lists that are the same for every user go through here.
   */
  private shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const started = read().finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }

  /** Runs a Redis read through the circuit; undefined means "use PostgreSQL". */
  private async tryRedis<T>(kind: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.redisCircuit.run(() => {
        this.metrics.storeRoundTrips.inc({ store: 'redis', kind });
        return read();
      });
    } catch (error) {
      this.metrics.storeFallbacks.inc({ kind });
      this.log.debug({ err: error, kind }, 'redis read failed; reading PostgreSQL');
      return undefined;
    }
  }

  private async fromPostgres<T>(kind: string, read: () => Promise<T>): Promise<T> {
    this.metrics.storeRoundTrips.inc({ store: 'postgres', kind });
    try {
      return await read();
    } catch (error) {
      throw new RecflowError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'feature storage is unavailable; retry later',
        { kind },
        { cause: error },
      );
    }
  }

  /** Refills Redis without making the reader wait; failures only cost a later miss. */
  private refillLater(kind: string, write: () => Promise<void>): void {
    write().catch((error) => this.log.debug({ err: error, kind }, 'redis refill failed'));
  }
}
