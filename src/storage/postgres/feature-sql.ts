/**
 * The batched SQL behind FeatureRepository: one statement per table, each
 * fed whole arrays through unnest(). Every upsert adds a commutative delta
 * (sums, log-add-exp, order-free picks), so batches may apply in any order.
 */

/**
 * Serialises the batches of one user, until commit. Locks are taken in key
 * order in one statement, so two batches cannot deadlock on them.
 */
export const LOCK_USERS_SQL = `
SELECT count(pg_advisory_xact_lock(k)) FROM (
  SELECT DISTINCT hashtextextended(u, 7) AS k FROM unnest($1::text[]) AS u ORDER BY k) s`;

/** How many item locks there are: a transaction holds at most this many. */
export const ITEM_LOCK_BUCKETS = 256;

/**
 * Serialises the two writers of an item record, until commit: the catalogue
 * (items) and the pipeline (item_features). A record's version is the sum of
 * the two rows' versions, so each writer must read the other's row as last
 * committed: the statement after this one takes a snapshot that includes
 * every writer that held the lock before. Without it, a catalogue change
 * committing during a pipeline statement gave two different records one
 * version, and Redis, keeping the first, could keep a withdrawn item
 * available.
 *
 * Items hash into ITEM_LOCK_BUCKETS locks (two-key advisory locks, apart from
 * the users' one-key locks). That bounds what one transaction adds to
 * PostgreSQL's shared lock table, which a batch already fills with a lock
 * per user (max_locks_per_transaction × max_connections nominally, 6,400
 * here; about 12,500 fitted server-wide on this machine, borrowing spare
 * shared memory).
 * Two batches sharing a bucket wait as they would for a popular item's row,
 * which nearly every batch writes anyway.
 */
export const LOCK_ITEMS_SQL = `
SELECT count(pg_advisory_xact_lock(${0x7265}, k)) FROM (
  SELECT DISTINCT hashtext(i) & ${ITEM_LOCK_BUCKETS - 1} AS k FROM unnest($1::text[]) AS i
  ORDER BY k) s`;

/**
 * Records the events. Returns two kinds of rows, so that the common batch,
 * all of it new, costs a row per item rather than per event: the events that
 * were recorded before (`event_id` set; the others apply their effects now),
 * and each item of the new events with its categories as the catalogue knows
 * them (`item_id` set; items not in the catalogue have no row).
 */
export const INSERT_EVENTS_SQL = `
WITH inserted AS (
  INSERT INTO events (event_id, user_id, item_id, type, value, weight, occurred_at, context,
                      stream_seq)
  SELECT e.event_id, e.user_id, e.item_id, e.type, e.value, e.weight,
         to_timestamp(e.at_ms / 1000.0), e.context::jsonb, e.seq
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
              $7::float8[], $8::text[], $9::int8[])
       AS e(event_id, user_id, item_id, type, value, weight, at_ms, context, seq)
  ORDER BY e.event_id
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id, item_id)
SELECT e.event_id, NULL::text AS item_id, NULL::text[] AS categories
FROM unnest($1::text[]) AS e(event_id)
WHERE NOT EXISTS (SELECT 1 FROM inserted n WHERE n.event_id = e.event_id)
UNION ALL
SELECT NULL, i.id, i.categories
FROM items i
WHERE i.id IN (SELECT item_id FROM inserted)`;

/** The stored records of some users (see UserRecordState), to fold a batch into. */
export const USER_STATES_SQL = `
SELECT f.user_id, f.events, f.positives, f.negatives,
       (extract(epoch FROM f.first_at) * 1000)::float8 AS first_at,
       (extract(epoch FROM f.last_at) * 1000)::float8 AS last_at,
       f.version::float8 AS version, f.recent, f.disliked
FROM user_features f
WHERE f.user_id = ANY($1::text[])`;

/**
 * Writes whole user records, folded from the stored ones under the users'
 * locks: absolute values, never increments. `disliked` arrives as JSON
 * arrays, as unnest cannot take an array per row.
 */
export const WRITE_USER_FEATURES_SQL = `
INSERT INTO user_features AS f (user_id, events, positives, negatives, first_at, last_at,
                                version, recent, disliked)
SELECT d.user_id, d.events, d.positives, d.negatives,
       to_timestamp(d.first_ms / 1000.0), to_timestamp(d.last_ms / 1000.0), d.version,
       d.recent::json, ARRAY(SELECT json_array_elements_text(d.disliked::json))
FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::float8[], $6::float8[],
            $7::int8[], $8::text[], $9::text[])
     AS d(user_id, events, positives, negatives, first_ms, last_ms, version, recent, disliked)
ON CONFLICT (user_id) DO UPDATE SET
  events = EXCLUDED.events,
  positives = EXCLUDED.positives,
  negatives = EXCLUDED.negatives,
  first_at = EXCLUDED.first_at,
  last_at = EXCLUDED.last_at,
  version = EXCLUDED.version,
  recent = EXCLUDED.recent,
  disliked = EXCLUDED.disliked`;

/**
 * Adds the per-item sums, and returns only the pairs whose net weight is now
 * negative (the disliked ones, rare): every other pair the batch touched is
 * known not to be, so the worker does not read a row per event back.
 */
export const UPSERT_USER_ITEMS_SQL = `
WITH written AS (
INSERT INTO user_items AS ui (user_id, item_id, events, weight_sum, log_pos, log_neg,
                              rating, rating_at, last_at, last_type, last_key)
SELECT d.user_id, d.item_id, d.events, d.weight_sum, d.log_pos, d.log_neg, d.rating,
       to_timestamp(d.rating_ms / 1000.0), to_timestamp(d.last_ms / 1000.0), d.last_type, d.last_key
FROM unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::float8[], $6::float8[],
            $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[])
     AS d(user_id, item_id, events, weight_sum, log_pos, log_neg, rating, rating_ms, last_ms,
          last_type, last_key)
ON CONFLICT (user_id, item_id) DO UPDATE SET
  events = ui.events + EXCLUDED.events,
  weight_sum = ui.weight_sum + EXCLUDED.weight_sum,
  log_pos = recflow_logaddexp(ui.log_pos, EXCLUDED.log_pos),
  log_neg = recflow_logaddexp(ui.log_neg, EXCLUDED.log_neg),
  rating = CASE WHEN EXCLUDED.rating_at IS NULL THEN ui.rating
                WHEN ui.rating_at IS NULL OR EXCLUDED.rating_at > ui.rating_at
                  OR (EXCLUDED.rating_at = ui.rating_at AND EXCLUDED.rating > ui.rating)
                THEN EXCLUDED.rating ELSE ui.rating END,
  rating_at = GREATEST(ui.rating_at, EXCLUDED.rating_at),
  last_at = GREATEST(ui.last_at, EXCLUDED.last_at),
  last_type = CASE WHEN EXCLUDED.last_key COLLATE "C" > ui.last_key COLLATE "C"
                   THEN EXCLUDED.last_type ELSE ui.last_type END,
  last_key = GREATEST(ui.last_key COLLATE "C", EXCLUDED.last_key COLLATE "C")
RETURNING ui.user_id, ui.item_id, ui.weight_sum)
SELECT user_id, item_id FROM written WHERE weight_sum < 0`;

/**
 * Adds category affinities, and returns every category of the users in $6
 * as it stands after the addition: the rows just written, and the stored
 * rows the batch left alone (the statement reads the table as it was before
 * its own writes). One row per user, its categories as one JSON text of
 * [category, events, log_pos, log_neg] arrays: parsing that whole costs the
 * worker a fraction of parsing a row per category.
 */
export const UPSERT_USER_CATEGORIES_SQL = `
WITH d AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::float8[])
           AS d(user_id, category, events, log_pos, log_neg)
), written AS (
  INSERT INTO user_categories AS c (user_id, category, events, log_pos, log_neg)
  SELECT * FROM d
  ON CONFLICT (user_id, category) DO UPDATE SET
    events = c.events + EXCLUDED.events,
    log_pos = recflow_logaddexp(c.log_pos, EXCLUDED.log_pos),
    log_neg = recflow_logaddexp(c.log_neg, EXCLUDED.log_neg)
  RETURNING c.user_id, c.category, c.events, c.log_pos, c.log_neg
)
SELECT a.user_id, json_agg(json_build_array(a.category, a.events, a.log_pos, a.log_neg))::text
         AS categories
FROM (
  SELECT * FROM written
  UNION ALL
  SELECT c.user_id, c.category, c.events, c.log_pos, c.log_neg
  FROM user_categories c
  WHERE c.user_id = ANY($6::text[])
    AND NOT EXISTS (SELECT 1 FROM d WHERE d.user_id = c.user_id AND d.category = c.category)
) a
GROUP BY a.user_id`;

/** Adds item deltas, and returns the whole records (catalogue and features) of those items. */
export const UPSERT_ITEM_FEATURES_SQL = `
WITH written AS (
  INSERT INTO item_features AS f (item_id, events, positives, negatives, rating_sum, rating_count,
                                  pop_all, log_day, log_week, log_month, last_at)
  SELECT d.item_id, d.events, d.positives, d.negatives, d.rating_sum, d.rating_count, d.pop_all,
         d.log_day, d.log_week, d.log_month, to_timestamp(d.last_ms / 1000.0)
  FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::float8[], $6::int[], $7::float8[],
              $8::float8[], $9::float8[], $10::float8[], $11::float8[])
       AS d(item_id, events, positives, negatives, rating_sum, rating_count, pop_all,
            log_day, log_week, log_month, last_ms)
  ON CONFLICT (item_id) DO UPDATE SET
    events = f.events + EXCLUDED.events,
    positives = f.positives + EXCLUDED.positives,
    negatives = f.negatives + EXCLUDED.negatives,
    rating_sum = f.rating_sum + EXCLUDED.rating_sum,
    rating_count = f.rating_count + EXCLUDED.rating_count,
    pop_all = f.pop_all + EXCLUDED.pop_all,
    log_day = recflow_logaddexp(f.log_day, EXCLUDED.log_day),
    log_week = recflow_logaddexp(f.log_week, EXCLUDED.log_week),
    log_month = recflow_logaddexp(f.log_month, EXCLUDED.log_month),
    last_at = GREATEST(f.last_at, EXCLUDED.last_at),
    version = f.version + 1
  RETURNING f.*
)
SELECT w.item_id, i.id IS NOT NULL AS known,
       COALESCE(i.title, '') AS title, COALESCE(i.categories, '{}') AS categories,
       COALESCE(i.available, false) AS available,
       COALESCE(i.attributes, '{}'::jsonb) AS attributes,
       (COALESCE(i.version, 0) + w.version)::float8 AS version,
       w.events, w.positives, w.negatives, w.rating_sum, w.rating_count, w.pop_all,
       w.log_day, w.log_week, w.log_month,
       (extract(epoch FROM w.last_at) * 1000)::float8 AS last_at
FROM written w
LEFT JOIN LATERAL (SELECT * FROM items WHERE items.id = w.item_id OFFSET 0) i ON true`;

/**
 * Pairs each new positive event ($1-$4) with the user's other positive
 * events within $6 ms, through the (user_id, occurred_at) index. $5 holds
 * every new event of the batch: a pair of two new events counts once, from
 * the one with the larger id.
 *
 * `OFFSET 0` keeps each LATERAL subquery an index lookup per row: flattened
 * into a join, the planner took a hash join over the whole events table
 * whenever its statistics lagged behind a bulk load.
 */
export const COVISITATION_SQL = `
WITH fresh AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])
           AS n(event_id, user_id, item_id, at_ms)
), pairs AS (
  SELECT LEAST(n.item_id, e.item_id) AS a, GREATEST(n.item_id, e.item_id) AS b, count(*)::int AS c
  FROM fresh n
  CROSS JOIN LATERAL (
    SELECT e.item_id, e.event_id FROM events e
    WHERE e.user_id = n.user_id
      AND e.occurred_at BETWEEN to_timestamp((n.at_ms - $6) / 1000.0)
                            AND to_timestamp((n.at_ms + $6) / 1000.0)
      AND e.weight > 0
      AND e.item_id <> n.item_id
    OFFSET 0) e
  WHERE NOT (e.event_id COLLATE "C" >= n.event_id COLLATE "C"
             AND e.event_id IN (SELECT unnest($5::text[])))
  GROUP BY 1, 2
)
INSERT INTO item_pairs AS p (item_a, item_b, weight, events)
SELECT a, b, c, c FROM pairs ORDER BY a, b
ON CONFLICT (item_a, item_b) DO UPDATE SET
  weight = p.weight + EXCLUDED.weight,
  events = p.events + EXCLUDED.events
RETURNING item_a, item_b, weight`;

export const NEIGHBOURS_SQL = `
SELECT k.id AS anchor, n.other, n.weight
FROM unnest($1::text[]) AS k(id)
CROSS JOIN LATERAL (
  SELECT other, weight FROM (
    (SELECT item_b AS other, weight FROM item_pairs WHERE item_a = k.id
     ORDER BY weight DESC LIMIT $2)
    UNION ALL
    (SELECT item_a AS other, weight FROM item_pairs WHERE item_b = k.id
     ORDER BY weight DESC LIMIT $2)
  ) both_sides ORDER BY weight DESC, other COLLATE "C" LIMIT $2
) n`;
