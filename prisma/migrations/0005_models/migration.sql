-- Trained model versions. Gateways serve the newest version that is not
-- retired; `recflow model rollback` retires the serving one. `data` holds
-- the encoded model (src/learning/model.ts); everything else describes it.
CREATE TABLE models (
  version       SERIAL PRIMARY KEY,
  created_at    TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  -- What the training data covers: the highest stream sequence and the
  -- latest processing time among the applied events it read.
  watermark_seq BIGINT,
  watermark_at  TIMESTAMPTZ(3),
  interactions  INTEGER NOT NULL,
  users         INTEGER NOT NULL,
  items         INTEGER NOT NULL,
  params        JSONB NOT NULL,
  evaluation    JSONB NOT NULL DEFAULT '{}',
  timings       JSONB NOT NULL DEFAULT '{}',
  size_bytes    INTEGER NOT NULL,
  retired_at    TIMESTAMPTZ(3),
  data          BYTEA NOT NULL
);

CREATE INDEX models_serving ON models (version DESC) WHERE retired_at IS NULL;
