/**
 * The pipeline's writes of one batch, a statement per table, each run inside
 * the batch's transaction (FeatureRepository.applyBatch says in which order).
 * Every statement takes whole columns as arrays in PostgreSQL's binary
 * format and returns what the hot copy needs.
 */
import type { PoolClient } from 'pg';
import type { BatchDeltas } from '../../domain/aggregate';
import type { CategoryAffinity, ItemFeatures } from '../../domain/features';
import type { UserRecordState } from '../../domain/user-record';
import { float8Array, int4Array, int8Array, textArray } from './binary-arrays';
import { rows } from './client';
import type { ItemPairWeight, StoredEvent } from './feature-repository';
import {
  COVISITATION_SQL,
  UPSERT_ITEM_FEATURES_SQL,
  UPSERT_USER_CATEGORIES_SQL,
  UPSERT_USER_ITEMS_SQL,
  USER_STATES_SQL,
  WRITE_USER_FEATURES_SQL,
} from './feature-sql';
import { type ItemRow, type StoredRecent, type UserRow, toItemFeatures } from './records';

export function eventColumns(events: readonly StoredEvent[]): unknown[] {
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

/**
 * Adds the per-item sums; returns, per user, every item the batch touched and
 * whether its net weight is now negative.
 */
export async function writeUserItems(
  tx: PoolClient,
  { userItems }: BatchDeltas,
): Promise<Map<string, Map<string, boolean>>> {
  const negative = await rows<{ user_id: string; item_id: string }>(tx, UPSERT_USER_ITEMS_SQL, [
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
  ]);
  const result = new Map<string, Map<string, boolean>>();
  for (const { userId, itemId } of userItems) {
    const items = result.get(userId);
    if (items) items.set(itemId, false);
    else result.set(userId, new Map([[itemId, false]]));
  }
  for (const row of negative) result.get(row.user_id)?.set(row.item_id, true);
  return result;
}

/** Adds category affinities; returns every category of `userIds`, as it now stands. */
export async function writeUserCategories(
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

export async function readUserStates(
  tx: PoolClient,
  userIds: readonly string[],
): Promise<Map<string, UserRecordState>> {
  const found = await rows<Omit<UserRow, 'categories' | 'seen'>>(tx, USER_STATES_SQL, [
    textArray(userIds),
  ]);
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

export async function writeUserStates(
  tx: PoolClient,
  states: readonly UserRecordState[],
): Promise<void> {
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
export async function writeItems(tx: PoolClient, { items }: BatchDeltas): Promise<ItemFeatures[]> {
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
export async function addCovisitation(
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
