/**
 * The batched SQL behind FeatureRepository: one statement per table, each
 * fed whole arrays through unnest(). Every upsert adds a commutative delta
 * (sums, log-add-exp, order-free picks), so batches may apply in any order.
 */

export const LOCK_USERS_SQL = `
SELECT count(pg_advisory_xact_lock(k)) FROM (
  SELECT DISTINCT hashtextextended(u, 7) AS k FROM unnest($1::text[]) AS u ORDER BY k) s`;

export const INSERT_EVENTS_SQL = `
INSERT INTO events (event_id, user_id, item_id, type, value, weight, occurred_at, context,
                    stream_seq)
SELECT e.event_id, e.user_id, e.item_id, e.type, e.value, e.weight,
       to_timestamp(e.at_ms / 1000.0), e.context::jsonb, e.seq
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
            $7::float8[], $8::text[], $9::int8[])
     AS e(event_id, user_id, item_id, type, value, weight, at_ms, context, seq)
ORDER BY e.event_id
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id`;

export const UPSERT_USER_FEATURES_SQL = `
INSERT INTO user_features AS f (user_id, events, positives, negatives, first_at, last_at)
SELECT d.user_id, d.events, d.positives, d.negatives,
       to_timestamp(d.first_ms / 1000.0), to_timestamp(d.last_ms / 1000.0)
FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::float8[], $6::float8[])
     AS d(user_id, events, positives, negatives, first_ms, last_ms)
ON CONFLICT (user_id) DO UPDATE SET
  events = f.events + EXCLUDED.events,
  positives = f.positives + EXCLUDED.positives,
  negatives = f.negatives + EXCLUDED.negatives,
  first_at = LEAST(f.first_at, EXCLUDED.first_at),
  last_at = GREATEST(f.last_at, EXCLUDED.last_at),
  version = f.version + 1`;

export const UPSERT_USER_ITEMS_SQL = `
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
  last_key = GREATEST(ui.last_key COLLATE "C", EXCLUDED.last_key COLLATE "C")`;

export const UPSERT_USER_CATEGORIES_SQL = `
INSERT INTO user_categories AS c (user_id, category, events, log_pos, log_neg)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::float8[], $5::float8[])
ON CONFLICT (user_id, category) DO UPDATE SET
  events = c.events + EXCLUDED.events,
  log_pos = recflow_logaddexp(c.log_pos, EXCLUDED.log_pos),
  log_neg = recflow_logaddexp(c.log_neg, EXCLUDED.log_neg)`;

export const UPSERT_ITEM_FEATURES_SQL = `
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
  version = f.version + 1`;

export const COVISITATION_SQL = `
WITH fresh AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])
           AS n(event_id, user_id, item_id, at_ms)
), pairs AS (
  SELECT LEAST(n.item_id, e.item_id) AS a, GREATEST(n.item_id, e.item_id) AS b, count(*)::int AS c
  FROM fresh n
  JOIN events e ON e.user_id = n.user_id
   AND e.occurred_at BETWEEN to_timestamp((n.at_ms - $6) / 1000.0)
                         AND to_timestamp((n.at_ms + $6) / 1000.0)
   AND e.weight > 0
   AND e.item_id <> n.item_id
  WHERE NOT (e.event_id = ANY($5::text[]) AND e.event_id COLLATE "C" >= n.event_id COLLATE "C")
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
