/**
 * PostgreSQL side of the features: applying a batch of events exactly once,
 * and reading whole feature records back. Every write is one batched
 * statement per table; every read is one statement per entity kind.
 */
import { aggregateBatch, type BatchDeltas, type WeightedInteraction } from '../../domain/aggregate';
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../../domain/features';
import type { Db } from './client';
import {
  LOCK_USERS_SQL,
  INSERT_EVENTS_SQL,
  UPSERT_USER_FEATURES_SQL,
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
  constructor(
    private readonly db: Db,
    private readonly observe: StepObserver = () => undefined,
  ) {}

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

    return this.db.$transaction(async (tx) => {
      // 1. Serialise per user, so co-visitation sees every earlier event of the user.
      await this.step('lock', () => tx.$queryRawUnsafe(LOCK_USERS_SQL, userIds));

      // 2. Record the events; only the newly inserted ones apply effects.
      const inserted = await this.step('record', () =>
        tx.$queryRawUnsafe<Array<{ event_id: string }>>(INSERT_EVENTS_SQL, ...eventColumns(events)),
      );
      const fresh = new Set(inserted.map((r) => r.event_id));
      const newEvents = events.filter((e) => fresh.has(e.eventId));

      let pairs: ItemPairWeight[] = [];
      if (newEvents.length > 0) {
        // 3. Fold the new events into deltas and add them, one statement per table.
        const categories = await this.step('categories', () =>
          this.categoriesOf(tx, unique(newEvents.map((e) => e.itemId))),
        );
        const deltas = aggregateBatch(newEvents, (id) => categories.get(id) ?? []);
        await applyDeltas(tx, deltas, (step, run) => this.step(step, run));

        // 4. Co-visitation against the user's other events, in event time.
        pairs = await this.step('covisitation', () =>
          addCovisitation(tx, newEvents, covisitWindowMs),
        );
      }

      // 5. Read back what the hot copy must now hold.
      const users = await this.step('read_users', () => readUsers(tx, userIds, false));
      const items = await this.step('read_items', () => readItems(tx, itemIds));
      return {
        applied: [...fresh],
        users: [...users.values()],
        items: [...items.values()],
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
    return readUsers(this.db, ids, true);
  }

  /** How many applied events have ids starting with `prefix` (to tell a loaded data set). */
  async countEvents(prefix: string): Promise<number> {
    const rows = await this.db.$queryRawUnsafe<Array<{ n: number }>>(
      'SELECT count(*)::int AS n FROM events WHERE starts_with(event_id, $1)',
      prefix,
    );
    return rows[0].n;
  }

  /** Whole item records (catalogue and features), in one query. */
  loadItems(ids: readonly string[]): Promise<Map<string, ItemFeatures>> {
    return readItems(this.db, ids);
  }

  /** Each item's strongest co-visitation neighbours, in one query. */
  async neighbours(itemIds: readonly string[], k: number): Promise<Map<string, Neighbour[]>> {
    const rows = await this.db.$queryRawUnsafe<
      Array<{ anchor: string; other: string; weight: number }>
    >(NEIGHBOURS_SQL, [...itemIds], k);
    const result = new Map<string, Neighbour[]>(itemIds.map((id) => [id, []]));
    for (const row of rows) result.get(row.anchor)?.push({ itemId: row.other, weight: row.weight });
    return result;
  }

  /** Top available items of a window, optionally within one category. */
  async popular(
    window: PopularityWindow,
    category: string | null,
    k: number,
  ): Promise<Array<{ itemId: string; score: number }>> {
    const column = POPULARITY_COLUMN[window];
    const rows = await this.db.$queryRawUnsafe<Array<{ item_id: string; score: number }>>(
      `SELECT f.item_id, f.${column} AS score
       FROM item_features f JOIN items i ON i.id = f.item_id
       WHERE i.available AND f.pop_all > 0 AND f.${column} IS NOT NULL
         AND ($1::text IS NULL OR i.categories @> ARRAY[$1::text])
       ORDER BY f.${column} DESC, f.item_id COLLATE "C"
       LIMIT $2`,
      category,
      k,
    );
    return rows.map((r) => ({ itemId: r.item_id, score: Number(r.score) }));
  }

  private async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await run();
    } finally {
      this.observe(name, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async categoriesOf(tx: Tx, itemIds: string[]): Promise<Map<string, string[]>> {
    const rows = await tx.$queryRawUnsafe<Array<{ id: string; categories: string[] }>>(
      'SELECT id, categories FROM items WHERE id = ANY($1::text[])',
      itemIds,
    );
    return new Map(rows.map((r) => [r.id, r.categories]));
  }
}

type Tx = Pick<Db, '$queryRawUnsafe' | '$executeRawUnsafe'>;

async function readUsers(
  db: Tx,
  ids: readonly string[],
  withSeen: boolean,
): Promise<Map<string, UserFeatures>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRawUnsafe<UserRow[]>(userRecordsSql(withSeen), [...ids]);
  return new Map(rows.map((row) => [row.user_id, toUserFeatures(row)]));
}

async function readItems(db: Tx, ids: readonly string[]): Promise<Map<string, ItemFeatures>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRawUnsafe<ItemRow[]>(ITEM_RECORDS_SQL, [...ids]);
  return new Map(rows.map((row) => [row.item_id, toItemFeatures(row)]));
}

function eventColumns(events: readonly StoredEvent[]): unknown[] {
  return [
    events.map((e) => e.eventId),
    events.map((e) => e.userId),
    events.map((e) => e.itemId),
    events.map((e) => e.type),
    events.map((e) => e.value),
    events.map((e) => e.weight),
    events.map((e) => e.occurredAt),
    events.map((e) => (e.context === null ? null : JSON.stringify(e.context))),
    events.map((e) => (e.streamSeq === null ? null : BigInt(e.streamSeq))),
  ];
}

type Timed = <T>(step: string, run: () => Promise<T>) => Promise<T>;

async function applyDeltas(tx: Tx, deltas: BatchDeltas, timed: Timed): Promise<void> {
  const { users, items, userItems, userCategories } = deltas;
  const run = (step: string, sql: string, columns: unknown[]) =>
    timed(step, () => tx.$executeRawUnsafe(sql, ...columns));

  await run('user_features', UPSERT_USER_FEATURES_SQL, [
    users.map((d) => d.userId),
    users.map((d) => d.events),
    users.map((d) => d.positives),
    users.map((d) => d.negatives),
    users.map((d) => d.firstAt),
    users.map((d) => d.lastAt),
  ]);
  await run('user_items', UPSERT_USER_ITEMS_SQL, [
    userItems.map((d) => d.userId),
    userItems.map((d) => d.itemId),
    userItems.map((d) => d.events),
    userItems.map((d) => d.weightSum),
    userItems.map((d) => d.logPos),
    userItems.map((d) => d.logNeg),
    userItems.map((d) => d.rating),
    userItems.map((d) => d.ratingAt),
    userItems.map((d) => d.lastAt),
    userItems.map((d) => d.lastType),
    userItems.map((d) => d.lastKey),
  ]);
  if (userCategories.length > 0) {
    await run('user_categories', UPSERT_USER_CATEGORIES_SQL, [
      userCategories.map((d) => d.userId),
      userCategories.map((d) => d.category),
      userCategories.map((d) => d.events),
      userCategories.map((d) => d.logPos),
      userCategories.map((d) => d.logNeg),
    ]);
  }
  await run('item_features', UPSERT_ITEM_FEATURES_SQL, [
    items.map((d) => d.itemId),
    items.map((d) => d.events),
    items.map((d) => d.positives),
    items.map((d) => d.negatives),
    items.map((d) => d.ratingSum),
    items.map((d) => d.ratingCount),
    items.map((d) => d.popAll),
    items.map((d) => d.logDay),
    items.map((d) => d.logWeek),
    items.map((d) => d.logMonth),
    items.map((d) => d.lastAt),
  ]);
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
  tx: Tx,
  events: readonly StoredEvent[],
  windowMs: number,
): Promise<ItemPairWeight[]> {
  const positive = events.filter((e) => e.weight > 0);
  if (positive.length === 0 || windowMs <= 0) return [];
  const rows = await tx.$queryRawUnsafe<Array<{ item_a: string; item_b: string; weight: number }>>(
    COVISITATION_SQL,
    positive.map((e) => e.eventId),
    positive.map((e) => e.userId),
    positive.map((e) => e.itemId),
    positive.map((e) => e.occurredAt),
    events.map((e) => e.eventId),
    windowMs,
  );
  return rows.map((r) => ({ itemA: r.item_a, itemB: r.item_b, weight: Number(r.weight) }));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
