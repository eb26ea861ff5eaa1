/**
 * Trained model versions and the training data they are learned from.
 *
 * The serving version is the newest one not retired. Rolling back retires
 * it, so the one before serves again; training afterwards adds a newer
 * version, which serves from then on.
 */
import type { Db } from './client';

/** One stored (user, item) pair as training reads it. */
export interface TrainingRow {
  userId: string;
  itemId: string;
  /** Net implicit weight of every event of this user on this item. */
  weight: number;
  /** Event time of the latest of those events, in ms. */
  lastAt: number;
}

export interface Watermark {
  /** Highest JetStream sequence among the applied events; null if none had one. */
  streamSeq: number | null;
  /** Latest time an applied event was processed; null when there are none. */
  processedAt: Date | null;
}

export interface TrainingSnapshot {
  watermark: Watermark;
  rows: TrainingRow[];
  /** Every available catalogue item, so new items are known to the model. */
  catalogue: string[];
}

/** What describes a model version besides its data. */
export interface ModelDescription {
  watermark: Watermark;
  interactions: number;
  users: number;
  items: number;
  params: unknown;
  evaluation: unknown;
  timings: unknown;
}

export interface ModelInfo extends ModelDescription {
  version: number;
  createdAt: Date;
  sizeBytes: number;
  retiredAt: Date | null;
}

export interface NewModel extends ModelDescription {
  data: Uint8Array;
}

const PAGE = 50_000;

const SERVING_ORDER = 'watermark_seq DESC NULLS LAST, watermark_at DESC NULLS LAST, version DESC';

const INFO_COLUMNS = `version, created_at, watermark_seq::float8 AS watermark_seq, watermark_at,
  interactions, users, items, params, evaluation, timings, size_bytes, retired_at`;

interface InfoRow {
  version: number;
  created_at: Date;
  watermark_seq: number | null;
  watermark_at: Date | null;
  interactions: number;
  users: number;
  items: number;
  params: unknown;
  evaluation: unknown;
  timings: unknown;
  size_bytes: number;
  retired_at: Date | null;
}

export class ModelRepository {
  constructor(private readonly db: Db) {}

  /**
   * Reads every (user, item) pair and the watermark they cover, in one
   * repeatable-read transaction so both describe the same moment. Pages by
   * key, so a large history never becomes one huge result.
   */
  async snapshot(): Promise<TrainingSnapshot> {
    return this.db.$transaction(
      async (tx) => {
        const [mark] = await tx.$queryRawUnsafe<Array<{ seq: number | null; at: Date | null }>>(
          `SELECT max(stream_seq)::float8 AS seq, max(processed_at) AS at FROM events`,
        );
        const rows: TrainingRow[] = [];
        let after: [string, string] = ['', ''];
        for (;;) {
          const page = await tx.$queryRawUnsafe<
            Array<{ user_id: string; item_id: string; weight_sum: number; last_at: number }>
          >(
            `SELECT user_id, item_id, weight_sum,
                    (extract(epoch FROM last_at) * 1000)::float8 AS last_at
             FROM user_items
             WHERE (user_id, item_id) > ($1, $2)
             ORDER BY user_id, item_id
             LIMIT ${PAGE}`,
            after[0],
            after[1],
          );
          for (const r of page) {
            rows.push({
              userId: r.user_id,
              itemId: r.item_id,
              weight: Number(r.weight_sum),
              lastAt: Number(r.last_at),
            });
          }
          if (page.length < PAGE) break;
          const last = page[page.length - 1];
          after = [last.user_id, last.item_id];
        }
        const catalogue = await tx.$queryRawUnsafe<Array<{ id: string }>>(
          `SELECT id FROM items WHERE available ORDER BY id`,
        );
        return {
          watermark: { streamSeq: mark?.seq ?? null, processedAt: mark?.at ?? null },
          rows,
          catalogue: catalogue.map((c) => c.id),
        };
      },
      { isolationLevel: 'RepeatableRead', timeout: 10 * 60_000 },
    );
  }

  /** The watermark of the data as it stands now, to decide whether training is due. */
  async currentWatermark(): Promise<Watermark> {
    const [mark] = await this.db.$queryRawUnsafe<Array<{ seq: number | null; at: Date | null }>>(
      `SELECT max(stream_seq)::float8 AS seq, max(processed_at) AS at FROM events`,
    );
    return { streamSeq: mark?.seq ?? null, processedAt: mark?.at ?? null };
  }

  async save(model: NewModel): Promise<ModelInfo> {
    const [row] = await this.db.$queryRawUnsafe<InfoRow[]>(
      `INSERT INTO models (watermark_seq, watermark_at, interactions, users, items,
                           params, evaluation, timings, size_bytes, data)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10)
       RETURNING ${INFO_COLUMNS}`,
      model.watermark.streamSeq,
      model.watermark.processedAt,
      model.interactions,
      model.users,
      model.items,
      JSON.stringify(model.params),
      JSON.stringify(model.evaluation),
      JSON.stringify(model.timings),
      model.data.byteLength,
      Buffer.from(model.data.buffer, model.data.byteOffset, model.data.byteLength),
    );
    return toInfo(row);
  }

  /** Every version, newest first, without the model data. */
  async list(): Promise<ModelInfo[]> {
    const rows = await this.db.$queryRawUnsafe<InfoRow[]>(
      `SELECT ${INFO_COLUMNS} FROM models ORDER BY version DESC`,
    );
    return rows.map(toInfo);
  }

  /** The version gateways should serve, or null when none is. */
  async serving(): Promise<ModelInfo | null> {
    return (await this.serviceable(1))[0] ?? null;
  }

  /**
   * Versions that are not retired, in serving order: the one covering the
   * most data first (the highest watermark), the newest among equals. A
   * training that read older data but finished later never displaces one
   * that read newer data.
   */
  async serviceable(count: number): Promise<ModelInfo[]> {
    const rows = await this.db.$queryRawUnsafe<InfoRow[]>(
      `SELECT ${INFO_COLUMNS} FROM models WHERE retired_at IS NULL
       ORDER BY ${SERVING_ORDER} LIMIT $1`,
      count,
    );
    return rows.map(toInfo);
  }

  /** One version's encoded model, or null when there is no such version. */
  async data(version: number): Promise<Uint8Array | null> {
    const [row] = await this.db.$queryRawUnsafe<Array<{ data: Uint8Array }>>(
      `SELECT data FROM models WHERE version = $1`,
      version,
    );
    return row?.data ?? null;
  }

  /**
   * Retires the serving version, so the previous one serves again. Returns
   * the retired and the now-serving versions, or null when fewer than two
   * versions are serviceable (there would be nothing to go back to).
   */
  async rollback(): Promise<{ retired: ModelInfo; serving: ModelInfo } | null> {
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<InfoRow[]>(
        `SELECT ${INFO_COLUMNS} FROM models WHERE retired_at IS NULL
         ORDER BY ${SERVING_ORDER} LIMIT 2 FOR UPDATE`,
      );
      if (rows.length < 2) return null;
      const [retired] = await tx.$queryRawUnsafe<InfoRow[]>(
        `UPDATE models SET retired_at = now() WHERE version = $1 RETURNING ${INFO_COLUMNS}`,
        rows[0].version,
      );
      return { retired: toInfo(retired), serving: toInfo(rows[1]) };
    });
  }

  /** Deletes retired versions and all but the `keep` newest serviceable ones. */
  async prune(keep: number): Promise<number> {
    return this.db.$executeRawUnsafe(
      `DELETE FROM models WHERE version NOT IN (
         SELECT version FROM models WHERE retired_at IS NULL ORDER BY ${SERVING_ORDER} LIMIT $1)`,
      keep,
    );
  }
}

function toInfo(row: InfoRow): ModelInfo {
  return {
    version: Number(row.version),
    createdAt: row.created_at,
    watermark: {
      streamSeq: row.watermark_seq === null ? null : Number(row.watermark_seq),
      processedAt: row.watermark_at,
    },
    interactions: Number(row.interactions),
    users: Number(row.users),
    items: Number(row.items),
    params: row.params,
    evaluation: row.evaluation,
    timings: row.timings,
    sizeBytes: Number(row.size_bytes),
    retiredAt: row.retired_at,
  };
}
