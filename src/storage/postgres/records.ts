/**
 * The SQL that reads whole feature records, one statement per entity kind,
 * and the mapping from its rows to the domain's plain records. The pipeline
 * uses the same reads to refresh the hot copy after commit, so Redis always
 * holds exactly what PostgreSQL computed.
 */
import type { EventType } from '../../domain/events';
import type { ItemFeatures, UserFeatures } from '../../domain/features';
import { sortCategoriesByAffinity } from '../../domain/affinity';

/**
 * Whole user records. `seen` (every item the user touched) is read only
 * when asked: the pipeline never needs it (it adds to the hot copy instead),
 * and it grows with the user's history.
 */
export function userRecordsSql(withSeen: boolean): string {
  const seen = withSeen
    ? `COALESCE((SELECT array_agg(ui.item_id ORDER BY ui.item_id COLLATE "C") FROM user_items ui
                 WHERE ui.user_id = f.user_id), '{}')`
    : `'{}'::text[]`;
  return `
SELECT f.user_id, f.events, f.positives, f.negatives,
       (extract(epoch FROM f.first_at) * 1000)::float8 AS first_at,
       (extract(epoch FROM f.last_at) * 1000)::float8 AS last_at,
       f.version::float8 AS version,
       COALESCE((SELECT json_agg(json_build_object(
                   'c', c.category, 'e', c.events, 'p', c.log_pos, 'n', c.log_neg))
                 FROM user_categories c WHERE c.user_id = f.user_id), '[]'::json) AS categories,
       f.recent, f.disliked,
       ${seen} AS seen
FROM user_features f
WHERE f.user_id = ANY($1::text[])`;
}

export const ITEM_RECORDS_SQL = `
SELECT k.id AS item_id, i.id IS NOT NULL AS known,
       COALESCE(i.title, '') AS title, COALESCE(i.categories, '{}') AS categories,
       COALESCE(i.available, false) AS available, COALESCE(i.attributes, '{}'::jsonb) AS attributes,
       (COALESCE(i.version, 0) + COALESCE(f.version, 0))::float8 AS version,
       COALESCE(f.events, 0) AS events, COALESCE(f.positives, 0) AS positives,
       COALESCE(f.negatives, 0) AS negatives, COALESCE(f.rating_sum, 0) AS rating_sum,
       COALESCE(f.rating_count, 0) AS rating_count, COALESCE(f.pop_all, 0) AS pop_all,
       f.log_day, f.log_week, f.log_month,
       (extract(epoch FROM f.last_at) * 1000)::float8 AS last_at
FROM unnest($1::text[]) AS k(id)
LEFT JOIN LATERAL (SELECT * FROM items WHERE items.id = k.id OFFSET 0) i ON true
LEFT JOIN LATERAL (SELECT * FROM item_features WHERE item_features.item_id = k.id OFFSET 0) f
  ON true
WHERE i.id IS NOT NULL OR f.item_id IS NOT NULL`;

/** One entry of user_features.recent. */
export type StoredRecent = [
  eventId: string,
  itemId: string,
  type: EventType,
  value: number | null,
  weight: number,
  at: number,
];

interface UserRow {
  user_id: string;
  events: number;
  positives: number;
  negatives: number;
  first_at: number;
  last_at: number;
  version: number;
  categories: Array<{ c: string; e: number; p: number | null; n: number | null }>;
  /** Stored as [eventId, itemId, type, value, weight, atMs], newest first. */
  recent: StoredRecent[];
  disliked: string[];
  seen: string[];
}

export function toUserFeatures(row: UserRow): UserFeatures {
  return {
    userId: row.user_id,
    version: Number(row.version),
    events: Number(row.events),
    positives: Number(row.positives),
    negatives: Number(row.negatives),
    firstAt: Number(row.first_at),
    lastAt: Number(row.last_at),
    categories: sortCategoriesByAffinity(
      row.categories.map((c) => ({ category: c.c, events: c.e, logPos: c.p, logNeg: c.n })),
    ),
    recent: row.recent.map(([, itemId, type, value, weight, at]) => ({
      itemId,
      type,
      value,
      weight,
      at,
    })),
    disliked: row.disliked,
    seen: row.seen,
  };
}

interface ItemRow {
  item_id: string;
  known: boolean;
  title: string;
  categories: string[];
  available: boolean;
  attributes: Record<string, unknown>;
  version: number;
  events: number;
  positives: number;
  negatives: number;
  rating_sum: number;
  rating_count: number;
  pop_all: number;
  log_day: number | null;
  log_week: number | null;
  log_month: number | null;
  last_at: number | null;
}

export function toItemFeatures(row: ItemRow): ItemFeatures {
  return {
    itemId: row.item_id,
    version: Number(row.version),
    known: row.known,
    title: row.title,
    categories: row.categories,
    available: row.known && row.available,
    attributes: row.attributes,
    events: Number(row.events),
    positives: Number(row.positives),
    negatives: Number(row.negatives),
    ratingSum: Number(row.rating_sum),
    ratingCount: Number(row.rating_count),
    popAll: Number(row.pop_all),
    logDay: row.log_day,
    logWeek: row.log_week,
    logMonth: row.log_month,
    lastAt: row.last_at === null ? null : Number(row.last_at),
  };
}

export type { UserRow, ItemRow };
