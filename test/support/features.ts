/**
 * Events and feature-table snapshots for the feature repository tests: a
 * seeded event generator, a small catalogue, a dump of every feature table
 * and a comparison that is exact on counts and tolerant on floats; and an
 * item record builder for tests of what reads records.
 */
import type { EventType } from '../../src/domain/events';
import type { ItemFeatures } from '../../src/domain/features';
import { eventWeight } from '../../src/domain/weights';
import type { Db } from '../../src/storage/postgres/client';
import type { StoredEvent } from '../../src/storage/postgres/feature-repository';
import { seededRandom } from '../unit/support/random';

export const DAY_MS = 86_400_000;
export const T0 = Date.UTC(2024, 2, 1);

/** An item record with one positive event, as the hot copy holds it; `fields` override. */
export function itemRecord(itemId: string, fields: Partial<ItemFeatures> = {}): ItemFeatures {
  return {
    itemId,
    version: 1,
    known: true,
    title: itemId,
    categories: [],
    available: true,
    attributes: {},
    events: 1,
    positives: 1,
    negatives: 0,
    ratingSum: 0,
    ratingCount: 0,
    popAll: 1,
    logDay: null,
    logWeek: null,
    logMonth: null,
    lastAt: null,
    ...fields,
  };
}

/** A weighted event as the pipeline would hand it to the repository. */
export function storedEvent(
  eventId: string,
  userId: string,
  itemId: string,
  occurredAt: number,
  type: EventType = 'VIEW',
  value: number | null = null,
): StoredEvent {
  const base = { eventId, userId, itemId, type, value, occurredAt, context: null };
  return { ...base, weight: eventWeight(base), streamSeq: null };
}

export const CATEGORIES = ['books', 'music', 'film', 'games'];

/** Items i00..i(n-1), each in one or two categories. */
export function catalogue(count: number): Array<{ id: string; categories: string[] }> {
  return Array.from({ length: count }, (_, n) => ({
    id: `i${String(n).padStart(2, '0')}`,
    categories: n % 3 === 0 ? [CATEGORIES[n % 4], CATEGORIES[(n + 1) % 4]] : [CATEGORIES[n % 4]],
  }));
}

const TYPES: EventType[] = ['VIEW', 'CLICK', 'PURCHASE', 'RATE', 'DISLIKE', 'SKIP'];

/**
 * `count` mixed events of `users` users on `items` items over `days` days.
 * About a third fall on whole hours, and one in ten is a twin of an earlier
 * event (same user, item and time), which exercises the tie-breaks of
 * "latest type" and "latest rating".
 */
export function generateEvents(
  seed: number,
  count: number,
  options: { users?: number; items?: number; days?: number } = {},
): StoredEvent[] {
  const { users = 6, items = 12, days = 10 } = options;
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const events: StoredEvent[] = [];
  for (let n = 0; n < count; n += 1) {
    const user = `u${Math.floor(random() * users)}`;
    const item = `i${String(Math.floor(random() * items)).padStart(2, '0')}`;
    const type = pick(TYPES);
    const value =
      type === 'RATE'
        ? Math.floor(random() * 11) / 2
        : type === 'PURCHASE' && random() < 0.5
          ? 1 + Math.floor(random() * 3)
          : null;
    const span = days * DAY_MS;
    const at =
      random() < 0.35
        ? T0 + Math.floor((random() * span) / 3_600_000) * 3_600_000
        : T0 + Math.floor(random() * span);
    const id = `ev-${seed}-${String(n).padStart(4, '0')}`;
    // One in ten is a twin of an earlier event: same user, item and time.
    const twin = n > 0 && random() < 0.1 ? events[Math.floor(random() * n)] : undefined;
    events.push(
      twin
        ? storedEvent(id, twin.userId, twin.itemId, twin.occurredAt, type, value)
        : storedEvent(id, user, item, at, type, value),
    );
  }
  return events;
}

/** Splits `events` into consecutive batches of random sizes in [1, max]. */
export function randomBatches<T>(events: readonly T[], max: number, random: () => number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < events.length;) {
    const size = 1 + Math.floor(random() * max);
    batches.push(events.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** What co-visitation must hold: each unordered pair of positive events counted once. */
export function expectedPairs(
  events: readonly StoredEvent[],
  windowMs: number,
): Map<string, number> {
  const pairs = new Map<string, number>();
  const positive = events.filter((e) => e.weight > 0);
  for (let i = 0; i < positive.length; i += 1) {
    for (let j = i + 1; j < positive.length; j += 1) {
      const a = positive[i];
      const b = positive[j];
      if (a.userId !== b.userId || a.itemId === b.itemId) continue;
      if (Math.abs(a.occurredAt - b.occurredAt) > windowMs) continue;
      const key = a.itemId < b.itemId ? `${a.itemId}|${b.itemId}` : `${b.itemId}|${a.itemId}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
  }
  return pairs;
}

/** item_pairs as "a|b" -> { weight, events }. */
export async function storedPairs(
  db: Db,
): Promise<Map<string, { weight: number; events: number }>> {
  const rows = await db.$queryRawUnsafe<
    Array<{ item_a: string; item_b: string; weight: number; events: number }>
  >('SELECT item_a, item_b, weight, events FROM item_pairs');
  return new Map(
    rows.map((r) => [`${r.item_a}|${r.item_b}`, { weight: r.weight, events: r.events }]),
  );
}

type Row = Record<string, unknown>;
export type Snapshot = Record<string, Row[]>;

/**
 * Every feature table, rows in key order, `version` left out: it counts the
 * batches that touched a row, which legitimately depends on the batching.
 */
const TABLES: Record<string, string> = {
  user_features: `SELECT user_id, events, positives, negatives, first_at, last_at
                  FROM user_features ORDER BY user_id`,
  user_items: `SELECT user_id, item_id, events, weight_sum, log_pos, log_neg, rating, rating_at,
                      last_at, last_type, last_key
               FROM user_items ORDER BY user_id, item_id`,
  user_categories: `SELECT user_id, category, events, log_pos, log_neg
                    FROM user_categories ORDER BY user_id, category`,
  item_features: `SELECT item_id, events, positives, negatives, rating_sum, rating_count, pop_all,
                         log_day, log_week, log_month, last_at
                  FROM item_features ORDER BY item_id`,
  item_pairs: 'SELECT item_a, item_b, weight, events FROM item_pairs ORDER BY item_a, item_b',
  events: 'SELECT count(*)::int AS n FROM events',
};

export async function snapshot(db: Db): Promise<Snapshot> {
  const result: Snapshot = {};
  for (const [table, sql] of Object.entries(TABLES)) {
    result[table] = await db.$queryRawUnsafe<Row[]>(sql);
  }
  return result;
}

/**
 * Differences between two snapshots, as readable lines (empty when equal).
 * Numbers that are not integers may differ by 1e-9 relative (floating-point
 * sums in another order); everything else must be identical.
 */
export function differences(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const table of Object.keys(TABLES)) {
    const left = a[table];
    const right = b[table];
    if (left.length !== right.length) {
      out.push(`${table}: ${left.length} rows vs ${right.length}`);
      continue;
    }
    left.forEach((row, i) => {
      for (const column of Object.keys(row)) {
        if (!sameValue(row[column], right[i][column])) {
          const key = JSON.stringify(Object.values(row).slice(0, 2));
          out.push(`${table}${key}.${column}: ${show(row[column])} vs ${show(right[i][column])}`);
        }
      }
    });
  }
  return out;
}

function sameValue(x: unknown, y: unknown): boolean {
  if (typeof x === 'number' && typeof y === 'number') {
    if (Number.isInteger(x) && Number.isInteger(y)) return x === y;
    return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y), 1);
  }
  if (x instanceof Date && y instanceof Date) return x.getTime() === y.getTime();
  return x === y;
}

function show(value: unknown): string {
  return value instanceof Date ? value.toISOString() : JSON.stringify(value);
}
