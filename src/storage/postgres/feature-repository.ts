/**
 * PostgreSQL side of the features: applying a batch of events exactly once,
 * and reading whole feature records back. Every write is one batched
 * statement per table, and returns the values the hot copy needs, so a
 * batch reads nothing back but its users' stored records.
 *
 * The SQL goes to the node-postgres pool directly rather than through
 * Prisma's raw queries: with arrays of hundreds of values per statement,
 * Prisma's argument and result mapping cost more than PostgreSQL did. The
 * arrays go in PostgreSQL's binary format (binary-arrays.ts), which neither
 * side has to quote, escape or parse.
 */
import type { Pool, PoolClient } from 'pg';
import { aggregateBatch, type BatchDeltas, type WeightedInteraction } from '../../domain/aggregate';
import { sortCategoriesByAffinity } from '../../domain/affinity';
import type {
  CategoryAffinity,
  ItemFeatures,
  PopularityWindow,
  UserFeatures,
} from '../../domain/features';
import { foldUserRecord, type UserRecordState } from '../../domain/user-record';
import { float8Array, int4Array, int8Array, textArray } from './binary-arrays';
import { type Db, inTransaction } from './client';
import {
  LOCK_USERS_SQL,
  INSERT_EVENTS_SQL,
  USER_STATES_SQL,
  WRITE_USER_FEATURES_SQL,
  UPSERT_USER_ITEMS_SQL,
  UPSERT_USER_CATEGORIES_SQL,
  UPSERT_ITEM_FEATURES_SQL,
  COVISITATION_SQL,
  NEIGHBOURS_SQL,
} from './feature-sql';
import {
  ITEM_RECORDS_SQL,
  userRecordsSql,
  toItemFeatures,
  toUserFeatures,
  type ItemRow,
  type StoredRecent,
  type UserRow,
} from './records';

/** An event as the pipeline hands it over: validated, weighted, with its stream position. */
export interface StoredEvent extends WeightedInteraction {
  streamSeq: number | null;
}

export interface ItemPairWeight {
  itemA: string;
  itemB: string;
  weight: number;
}

export interface AppliedBatch {
  /** Ids of the events whose effects this call applied (the others were already applied). */
  applied: string[];
  /**
   * Fresh records of every user and item the batch touched, read inside the
   * transaction. User records come without `seen`; see `interactions`.
   */
  users: UserFeatures[];
  items: ItemFeatures[];
  /** Co-visitation pairs the batch changed, with their new absolute weights. */
  pairs: ItemPairWeight[];
  /** Every (user, item) of the batch, applied now or before: additions to the seen sets. */
  interactions: Array<{ userId: string; itemId: string }>;
}

export interface Neighbour {
  itemId: string;
  weight: number;
}

const POPULARITY_COLUMN: Record<PopularityWindow, string> = {
  DAY: 'log_day',
  WEEK: 'log_week',
  MONTH: 'log_month',
  ALL_TIME: 'pop_all',
};

/** Receives how long each step of applyBatch took, for metrics and profiling. */
export type StepObserver = (step: string, seconds: number) => void;

export class FeatureRepository {
  private readonly pool: Pool;

  constructor(
    db: Db,
    private readonly observe: StepObserver = () => undefined,
  ) {
    this.pool = db.pool;
  }

  /**
   * Records the events as processed and applies the effects of those that
   * were not processed before, all in one transaction. Safe to call again
   * with the same events: nothing is applied twice, and the fresh records
   * are returned either way so the caller can refresh the hot copy.
   */
  async applyBatch(batch: readonly StoredEvent[], covisitWindowMs: number): Promise<AppliedBatch> {
    // A redelivery can put one event in a batch twice; the first copy counts.
    const ids = new Set<string>();
    const events = batch.filter((e) => !ids.has(e.eventId) && ids.add(e.eventId));
    const userIds = unique(events.map((e) => e.userId));
    const itemIds = unique(events.map((e) => e.itemId));

    return inTransaction(this.pool, async (tx) => {
      // 1. Record the events; only the newly inserted ones apply effects.
      //    This needs no user lock, so it runs while another worker holds
      //    the locks of the same users: events stay invisible to others
      //    until commit, and co-visitation, the one reader of other batches'
      //    events, runs under the lock and so sees every committed earlier
      //    batch of its users. (Inserts go in event id order, so two batches
      //    sharing an event cannot deadlock on it.)
      const inserted = await this.step('record', () =>
        rows<{ event_id: string; item_id: string; categories: string[] | null }>(
          tx,
          INSERT_EVENTS_SQL,
          eventColumns(events),
        ),
      );
      const fresh = new Set(inserted.map((r) => r.event_id));
      const newEvents = events.filter((e) => fresh.has(e.eventId));
      // Folding the new events into deltas needs no lock either.
      const categories = new Map(inserted.map((r) => [r.item_id, r.categories ?? []]));
      const deltas =
        newEvents.length > 0
          ? aggregateBatch(newEvents, (id) => categories.get(id) ?? [])
          : undefined;

      // 2. Serialise per user: co-visitation must see every earlier event of
      //    the user, and user records are read, folded and written whole.
      await this.step('lock', () => tx.query(LOCK_USERS_SQL, [textArray(userIds)]));

      let users: UserFeatures[] = [];
      let items: ItemFeatures[] = [];
      let pairs: ItemPairWeight[] = [];
      if (deltas) {
        // 3. Add the deltas; each write returns the new values, which make
        //    the hot copy's records.
        users = await this.applyUsers(tx, deltas, newEvents);
        items = await this.step('item_features', () => writeItems(tx, deltas));

        // 4. Co-visitation against the user's other events, in event time.
        pairs = await this.step('covisitation', () =>
          addCovisitation(tx, newEvents, covisitWindowMs),
        );
      }

      // 5. Users and items touched only by events applied before (a
      //    redelivery): read back as they stand, for the hot copy.
      const folded = new Set(users.map((u) => u.userId));
      const staleUsers = userIds.filter((id) => !folded.has(id));
      if (staleUsers.length > 0) {
        const read = await this.step('read_users', () => readUsers(tx, staleUsers, false));
        users = [...users, ...read.values()];
      }
      const written = new Set(items.map((i) => i.itemId));
      const staleItems = itemIds.filter((id) => !written.has(id));
      if (staleItems.length > 0) {
        const read = await this.step('read_items', () => readItems(tx, staleItems));
        items = [...items, ...read.values()];
      }
      return {
        applied: [...fresh],
        users,
        items,
        pairs,
        interactions: events.map((e) => ({ userId: e.userId, itemId: e.itemId })),
      };
    });
  }

  /**
   * Whole user feature records, seen items included, in one query. Users
   * with no events are absent.
   */
  loadUsers(ids: readonly string[]): Promise<Map<string, UserFeatures>> {
    return readUsers(this.pool, ids, true);
  }

  /** How many applied events have ids starting with `prefix` (to tell a loaded data set). */
  async countEvents(prefix: string): Promise<number> {
    const found = await rows<{ n: number }>(
      this.pool,
      'SELECT count(*)::int AS n FROM events WHERE starts_with(event_id, $1)',
      [prefix],
    );
    return found[0].n;
  }

  /** Whole item records (catalogue and features), in one query. */
  loadItems(ids: readonly string[]): Promise<Map<string, ItemFeatures>> {
    return readItems(this.pool, ids);
  }

  /** Each item's strongest co-visitation neighbours, in one query. */
  async neighbours(itemIds: readonly string[], k: number): Promise<Map<string, Neighbour[]>> {
    const found = await rows<{ anchor: string; other: string; weight: number }>(
      this.pool,
      NEIGHBOURS_SQL,
      [[...itemIds], k],
    );
    const result = new Map<string, Neighbour[]>(itemIds.map((id) => [id, []]));
    for (const row of found)
      result.get(row.anchor)?.push({ itemId: row.other, weight: row.weight });
    return result;
  }

  /** Top available items of a window, optionally within one category. */
  async popular(
    window: PopularityWindow,
    category: string | null,
    k: number,
  ): Promise<Array<{ itemId: string; score: number }>> {
    const column = POPULARITY_COLUMN[window];
    const found = await rows<{ item_id: string; score: number }>(
      this.pool,
      `SELECT f.item_id, f.${column} AS score
       FROM item_features f JOIN items i ON i.id = f.item_id
       WHERE i.available AND f.pop_all > 0 AND f.${column} IS NOT NULL
         AND ($1::text IS NULL OR i.categories @> ARRAY[$1::text])
       ORDER BY f.${column} DESC, f.item_id COLLATE "C"
       LIMIT $2`,
      [category, k],
    );
    return found.map((r) => ({ itemId: r.item_id, score: Number(r.score) }));
  }

  /**
   * The user side of a batch: per-item sums (whose new net weights say what
   * the user now dislikes), category affinities (returned whole), then each
   * user's stored record, folded with the batch and written back whole.
   */
  private async applyUsers(
    tx: PoolClient,
    deltas: BatchDeltas,
    events: readonly WeightedInteraction[],
  ): Promise<UserFeatures[]> {
    const userIds = deltas.users.map((d) => d.userId);
    const netWeights = await this.step('user_items', () => writeUserItems(tx, deltas));
    const categories = await this.step('user_categories', () =>
      writeUserCategories(tx, deltas, userIds),
    );
    const stored = await this.step('user_states', () => readUserStates(tx, userIds));

    const byUser = groupBy(events, (e) => e.userId);
    const states = deltas.users.map((delta) =>
      foldUserRecord(
        stored.get(delta.userId) ?? null,
        delta,
        byUser.get(delta.userId) ?? [],
        netWeights.get(delta.userId) ?? new Map(),
      ),
    );
    await this.step('user_features', () => writeUserStates(tx, states));
    return states.map((state) => ({
      userId: state.userId,
      version: state.version,
      events: state.events,
      positives: state.positives,
      negatives: state.negatives,
      firstAt: state.firstAt,
      lastAt: state.lastAt,
      categories: sortCategoriesByAffinity(categories.get(state.userId) ?? []),
      recent: state.recent.map(({ eventId: _id, ...interaction }) => interaction),
      disliked: state.disliked,
      seen: [],
    }));
  }

  private async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await run();
    } finally {
      this.observe(name, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

/** Anything that runs a query: the pool, or one connection inside a transaction. */
type Queryable = Pick<Pool, 'query'> | PoolClient;

async function rows<T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  const result = await db.query(sql, params);
  return result.rows as T[];
}

async function readUsers(
  db: Queryable,
  ids: readonly string[],
  withSeen: boolean,
): Promise<Map<string, UserFeatures>> {
  if (ids.length === 0) return new Map();
  const found = await rows<UserRow>(db, userRecordsSql(withSeen), [textArray(ids)]);
  return new Map(found.map((row) => [row.user_id, toUserFeatures(row)]));
}

async function readItems(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, ItemFeatures>> {
  if (ids.length === 0) return new Map();
  const found = await rows<ItemRow>(db, ITEM_RECORDS_SQL, [textArray(ids)]);
  return new Map(found.map((row) => [row.item_id, toItemFeatures(row)]));
}

function eventColumns(events: readonly StoredEvent[]): unknown[] {
  return [
    textArray(events.map((e) => e.eventId)),
    textArray(events.map((e) => e.userId)),
    textArray(events.map((e) => e.itemId)),
    textArray(events.map((e) => e.type)),
    float8Array(events.map((e) => e.value)),
    float8Array(events.map((e) => e.weight)),
    float8Array(events.map((e) => e.occurredAt)),
    textArray(events.map((e) => (e.context === null ? null : JSON.stringify(e.context)))),
    int8Array(events.map((e) => e.streamSeq)),
  ];
}

/** Adds the per-item sums; returns each user's new net weight per touched item. */
async function writeUserItems(
  tx: PoolClient,
  { userItems }: BatchDeltas,
): Promise<Map<string, Map<string, number>>> {
  const found = await rows<{ user_id: string; item_id: string; weight_sum: number }>(
    tx,
    UPSERT_USER_ITEMS_SQL,
    [
      textArray(userItems.map((d) => d.userId)),
      textArray(userItems.map((d) => d.itemId)),
      int4Array(userItems.map((d) => d.events)),
      float8Array(userItems.map((d) => d.weightSum)),
      float8Array(userItems.map((d) => d.logPos)),
      float8Array(userItems.map((d) => d.logNeg)),
      float8Array(userItems.map((d) => d.rating)),
      float8Array(userItems.map((d) => d.ratingAt)),
      float8Array(userItems.map((d) => d.lastAt)),
      textArray(userItems.map((d) => d.lastType)),
      textArray(userItems.map((d) => d.lastKey)),
    ],
  );
  const result = new Map<string, Map<string, number>>();
  for (const row of found) {
    const items = result.get(row.user_id) ?? new Map<string, number>();
    items.set(row.item_id, row.weight_sum);
    result.set(row.user_id, items);
  }
  return result;
}

/** Adds category affinities; returns every category of `userIds`, as it now stands. */
async function writeUserCategories(
  tx: PoolClient,
  { userCategories }: BatchDeltas,
  userIds: readonly string[],
): Promise<Map<string, CategoryAffinity[]>> {
  const found = await rows<{ user_id: string; categories: string }>(
    tx,
    UPSERT_USER_CATEGORIES_SQL,
    [
      textArray(userCategories.map((d) => d.userId)),
      textArray(userCategories.map((d) => d.category)),
      int4Array(userCategories.map((d) => d.events)),
      float8Array(userCategories.map((d) => d.logPos)),
      float8Array(userCategories.map((d) => d.logNeg)),
      textArray(userIds),
    ],
  );
  const result = new Map<string, CategoryAffinity[]>();
  for (const row of found) {
    const stored = JSON.parse(row.categories) as Array<
      [string, number, number | null, number | null]
    >;
    result.set(
      row.user_id,
      stored.map(([category, events, logPos, logNeg]) => ({ category, events, logPos, logNeg })),
    );
  }
  return result;
}

async function readUserStates(
  tx: PoolClient,
  userIds: readonly string[],
): Promise<Map<string, UserRecordState>> {
  const found = await rows<{
    user_id: string;
    events: number;
    positives: number;
    negatives: number;
    first_at: number;
    last_at: number;
    version: number;
    recent: StoredRecent[];
    disliked: string[];
  }>(tx, USER_STATES_SQL, [textArray(userIds)]);
  return new Map(
    found.map((row) => [
      row.user_id,
      {
        userId: row.user_id,
        version: row.version,
        events: row.events,
        positives: row.positives,
        negatives: row.negatives,
        firstAt: row.first_at,
        lastAt: row.last_at,
        recent: row.recent.map(([eventId, itemId, type, value, weight, at]) => ({
          eventId,
          itemId,
          type,
          value,
          weight,
          at,
        })),
        disliked: row.disliked,
      },
    ]),
  );
}

async function writeUserStates(tx: PoolClient, states: readonly UserRecordState[]): Promise<void> {
  await tx.query(WRITE_USER_FEATURES_SQL, [
    textArray(states.map((s) => s.userId)),
    int4Array(states.map((s) => s.events)),
    int4Array(states.map((s) => s.positives)),
    int4Array(states.map((s) => s.negatives)),
    float8Array(states.map((s) => s.firstAt)),
    float8Array(states.map((s) => s.lastAt)),
    int8Array(states.map((s) => s.version)),
    textArray(
      states.map((s) =>
        JSON.stringify(
          s.recent.map((r): StoredRecent => [r.eventId, r.itemId, r.type, r.value, r.weight, r.at]),
        ),
      ),
    ),
    textArray(states.map((s) => JSON.stringify(s.disliked))),
  ]);
}

/** Adds the item deltas; returns the items' whole records. */
async function writeItems(tx: PoolClient, { items }: BatchDeltas): Promise<ItemFeatures[]> {
  const found = await rows<ItemRow>(tx, UPSERT_ITEM_FEATURES_SQL, [
    textArray(items.map((d) => d.itemId)),
    int4Array(items.map((d) => d.events)),
    int4Array(items.map((d) => d.positives)),
    int4Array(items.map((d) => d.negatives)),
    float8Array(items.map((d) => d.ratingSum)),
    int4Array(items.map((d) => d.ratingCount)),
    float8Array(items.map((d) => d.popAll)),
    float8Array(items.map((d) => d.logDay)),
    float8Array(items.map((d) => d.logWeek)),
    float8Array(items.map((d) => d.logMonth)),
    float8Array(items.map((d) => d.lastAt)),
  ]);
  return found.map(toItemFeatures);
}

/**
 * Each new positive event pairs with every other positive event of the same
 * user within the window, in event time. A pair of two new events counts
 * once (from the one with the larger id); a pair with an older event counts
 * when the newer one arrives. So every pair counts exactly once, in any
 * arrival order, provided one user's batches never run concurrently (the
 * advisory lock).
 */
async function addCovisitation(
  tx: PoolClient,
  events: readonly StoredEvent[],
  windowMs: number,
): Promise<ItemPairWeight[]> {
  const positive = events.filter((e) => e.weight > 0);
  if (positive.length === 0 || windowMs <= 0) return [];
  const found = await rows<{ item_a: string; item_b: string; weight: number }>(
    tx,
    COVISITATION_SQL,
    [
      textArray(positive.map((e) => e.eventId)),
      textArray(positive.map((e) => e.userId)),
      textArray(positive.map((e) => e.itemId)),
      float8Array(positive.map((e) => e.occurredAt)),
      textArray(events.map((e) => e.eventId)),
      windowMs,
    ],
  );
  return found.map((r) => ({ itemA: r.item_a, itemB: r.item_b, weight: Number(r.weight) }));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const group = groups.get(key(value));
    if (group) group.push(value);
    else groups.set(key(value), [value]);
  }
  return groups;
}
