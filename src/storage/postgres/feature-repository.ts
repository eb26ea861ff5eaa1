/**
 * PostgreSQL side of the features: applying a batch of events exactly once,
 * and reading whole feature records back. Every write is one batched
 * statement per table (feature-writes.ts), and returns the values the hot copy needs, so a
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
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../../domain/features';
import { foldUserRecord } from '../../domain/user-record';
import { textArray } from './binary-arrays';
import { type Db, inTransaction, type Queryable, rows } from './client';
import { INSERT_EVENTS_SQL, LOCK_ITEMS_SQL, LOCK_USERS_SQL, NEIGHBOURS_SQL } from './feature-sql';
import {
  addCovisitation,
  eventColumns,
  readUserStates,
  writeItems,
  writeUserCategories,
  writeUserItems,
  writeUserStates,
} from './feature-writes';
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
  /**
   * Users whose records this batch folded, with the version it made. Every
   * event of that version is in this batch, so `interactions` holds all
   * the items it added to the user's seen list.
   */
  folded: Array<{ userId: string; version: number }>;
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

/** A listed item with its score, and the version of its record when it was read. */
export interface VersionedScore {
  itemId: string;
  score: number;
  version: number;
}

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
      const recorded = await this.step('record', () =>
        rows<{ event_id: string | null; item_id: string | null; categories: string[] | null }>(
          tx,
          INSERT_EVENTS_SQL,
          eventColumns(events),
        ),
      );
      const before = new Set<string>();
      const categories = new Map<string, string[]>();
      for (const row of recorded) {
        if (row.event_id !== null) before.add(row.event_id);
        else categories.set(row.item_id as string, row.categories ?? []);
      }
      const newEvents = events.filter((e) => !before.has(e.eventId));
      const fresh = newEvents.map((e) => e.eventId);
      // Folding the new events into deltas needs no lock either.
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
        // The catalogue writes the other half of each item record: wait for
        // any change of it in flight, so the record below includes it.
        await this.step('lock_items', () =>
          tx.query(LOCK_ITEMS_SQL, [textArray(deltas.items.map((d) => d.itemId))]),
        );
        items = await this.step('item_features', () => writeItems(tx, deltas));

        // 4. Co-visitation against the user's other events, in event time.
        pairs = await this.step('covisitation', () =>
          addCovisitation(tx, newEvents, covisitWindowMs),
        );
      }

      // 5. Users and items touched only by events applied before (a
      //    redelivery): read back as they stand, for the hot copy.
      const folded = users.map(({ userId, version }) => ({ userId, version }));
      const foldedIds = new Set(folded.map((u) => u.userId));
      const staleUsers = userIds.filter((id) => !foldedIds.has(id));
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
        applied: fresh,
        users,
        items,
        pairs,
        interactions: events.map((e) => ({ userId: e.userId, itemId: e.itemId })),
        folded,
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

  /**
   * A page of the ids of users with features, in id order after `after`
   * (from the first when null): the known-users build reads them all.
   */
  userIdsAfter(after: string | null, limit: number): Promise<string[]> {
    return this.idsAfter('user_features', 'user_id', after, limit);
  }

  /**
   * A page of the ids of items with features (every item with co-visitation
   * pairs has them), in id order after `after` (from the first when null).
   */
  itemIdsAfter(after: string | null, limit: number): Promise<string[]> {
    return this.idsAfter('item_features', 'item_id', after, limit);
  }

  private async idsAfter(
    table: 'user_features' | 'item_features',
    column: 'user_id' | 'item_id',
    after: string | null,
    limit: number,
  ): Promise<string[]> {
    const found = await rows<Record<string, string>>(
      this.pool,
      `SELECT ${column} AS id FROM ${table} WHERE $1::text IS NULL OR ${column} > $1
       ORDER BY ${column} LIMIT $2`,
      [after, limit],
    );
    return found.map((r) => r.id);
  }

  /**
   * A page of the catalogue's categories, in order after `after` (from the
   * first when null); the first is '', standing for no category.
   */
  async categoriesAfter(after: string | null, limit: number): Promise<string[]> {
    const found = await rows<{ category: string }>(
      this.pool,
      `SELECT category FROM (
         SELECT '' AS category UNION SELECT DISTINCT unnest(categories) FROM items
       ) c WHERE $1::text IS NULL OR category > $1
       ORDER BY category LIMIT $2`,
      [after, limit],
    );
    return found.map((r) => r.category);
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

  /**
   * Top available items of a window, optionally within one category, each
   * with its record's version as read (see HotStore.fillPopular).
   */
  async popular(
    window: PopularityWindow,
    category: string | null,
    k: number,
  ): Promise<VersionedScore[]> {
    const column = POPULARITY_COLUMN[window];
    const found = await rows<{ item_id: string; score: number; version: number }>(
      this.pool,
      `SELECT f.item_id, f.${column} AS score, (i.version + f.version)::float8 AS version
       FROM item_features f JOIN items i ON i.id = f.item_id
       WHERE i.available AND f.pop_all > 0 AND f.${column} IS NOT NULL
         AND ($1::text IS NULL OR i.categories @> ARRAY[$1::text])
       ORDER BY f.${column} DESC, f.item_id COLLATE "C"
       LIMIT $2`,
      [category, k],
    );
    return found.map((r) => ({
      itemId: r.item_id,
      score: Number(r.score),
      version: Number(r.version),
    }));
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
    const negative = await this.step('user_items', () => writeUserItems(tx, deltas));
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
        negative.get(delta.userId) ?? new Map(),
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
