-- recflow initial schema. Mirrors prisma/schema.prisma.

CREATE TABLE items (
  id          TEXT PRIMARY KEY,
  title       TEXT NOT NULL DEFAULT '',
  categories  TEXT[] NOT NULL DEFAULT '{}',
  attributes  JSONB NOT NULL DEFAULT '{}',
  available   BOOLEAN NOT NULL DEFAULT TRUE,
  version     BIGINT NOT NULL DEFAULT 1,
  created_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id          TEXT PRIMARY KEY,
  attributes  JSONB NOT NULL DEFAULT '{}',
  version     BIGINT NOT NULL DEFAULT 1,
  created_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

CREATE TABLE events (
  event_id     TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  item_id      TEXT NOT NULL,
  type         TEXT NOT NULL,
  value        DOUBLE PRECISION,
  weight       DOUBLE PRECISION NOT NULL,
  occurred_at  TIMESTAMPTZ(3) NOT NULL,
  context      JSONB,
  stream_seq   BIGINT,
  processed_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX events_user_id_occurred_at_idx ON events (user_id, occurred_at DESC);
CREATE INDEX events_item_id_idx ON events (item_id);

CREATE TABLE user_features (
  user_id   TEXT PRIMARY KEY,
  events    INTEGER NOT NULL DEFAULT 0,
  positives INTEGER NOT NULL DEFAULT 0,
  negatives INTEGER NOT NULL DEFAULT 0,
  first_at  TIMESTAMPTZ(3) NOT NULL,
  last_at   TIMESTAMPTZ(3) NOT NULL,
  version   BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE user_items (
  user_id    TEXT NOT NULL,
  item_id    TEXT NOT NULL,
  events     INTEGER NOT NULL DEFAULT 0,
  weight_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
  log_pos    DOUBLE PRECISION,
  log_neg    DOUBLE PRECISION,
  rating     DOUBLE PRECISION,
  rating_at  TIMESTAMPTZ(3),
  last_at    TIMESTAMPTZ(3) NOT NULL,
  last_type  TEXT NOT NULL,
  last_key   TEXT NOT NULL,
  PRIMARY KEY (user_id, item_id)
);

CREATE TABLE user_categories (
  user_id  TEXT NOT NULL,
  category TEXT NOT NULL,
  events   INTEGER NOT NULL DEFAULT 0,
  log_pos  DOUBLE PRECISION,
  log_neg  DOUBLE PRECISION,
  PRIMARY KEY (user_id, category)
);

CREATE TABLE item_features (
  item_id      TEXT PRIMARY KEY,
  events       INTEGER NOT NULL DEFAULT 0,
  positives    INTEGER NOT NULL DEFAULT 0,
  negatives    INTEGER NOT NULL DEFAULT 0,
  rating_sum   DOUBLE PRECISION NOT NULL DEFAULT 0,
  rating_count INTEGER NOT NULL DEFAULT 0,
  pop_all      DOUBLE PRECISION NOT NULL DEFAULT 0,
  log_day      DOUBLE PRECISION,
  log_week     DOUBLE PRECISION,
  log_month    DOUBLE PRECISION,
  last_at      TIMESTAMPTZ(3),
  version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX item_features_pop_all_idx ON item_features (pop_all DESC);
CREATE INDEX item_features_log_day_idx ON item_features (log_day DESC NULLS LAST);
CREATE INDEX item_features_log_week_idx ON item_features (log_week DESC NULLS LAST);
CREATE INDEX item_features_log_month_idx ON item_features (log_month DESC NULLS LAST);

CREATE TABLE item_pairs (
  item_a TEXT NOT NULL,
  item_b TEXT NOT NULL,
  weight DOUBLE PRECISION NOT NULL DEFAULT 0,
  events INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (item_a, item_b)
);
CREATE INDEX item_pairs_item_a_weight_idx ON item_pairs (item_a, weight DESC);
CREATE INDEX item_pairs_item_b_weight_idx ON item_pairs (item_b, weight DESC);

-- SQL helper: log(exp(a) + exp(b)) without overflow; NULL stands for log(0).
CREATE FUNCTION recflow_logaddexp(a DOUBLE PRECISION, b DOUBLE PRECISION)
RETURNS DOUBLE PRECISION LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN a IS NULL THEN b
    WHEN b IS NULL THEN a
    ELSE greatest(a, b) + ln(1 + exp(-abs(a - b)))
  END
$$;

CREATE INDEX items_categories_idx ON items USING GIN (categories);
