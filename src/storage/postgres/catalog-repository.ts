/**
 * Catalogue writes and profile reads. Upserts are two batched statements in
 * one transaction: insert what is new, then update what existed, keeping
 * stored values for fields the caller left out.
 *
 * Items go to the node-postgres pool directly, as the pipeline's writes do:
 * the two share an item lock (LOCK_ITEMS_SQL), and the whole item records
 * are read inside the transaction, under that lock, so their versions stand
 * in the same order as the writes.
 */
import type { ItemUpsert, UserUpsert } from '../../catalog/validation';
import type { ItemFeatures } from '../../domain/features';
import { type Db, inTransaction, rows } from './client';
import { LOCK_ITEMS_SQL } from './feature-sql';
import { ITEM_RECORDS_SQL, type ItemRow, toItemFeatures } from './records';

export interface UpsertCounts {
  created: number;
  updated: number;
}

export interface ItemUpsertResult extends UpsertCounts {
  /** The whole records of the items as this upsert left them, for the hot copy. */
  records: ItemFeatures[];
  /** The categories each item already in the catalogue had before. */
  previousCategories: Map<string, string[]>;
}

export interface UserProfile {
  id: string;
  attributes: Record<string, unknown>;
}

export interface CatalogOptions {
  /**
   * How long an item upsert waits for each lock it queues for (PostgreSQL's
   * `lock_timeout`): item locks held by pipeline batches writing the same
   * items, and row locks after them. Then it gives up, retryably.
   */
  lockTimeoutMs?: number;
}

export class CatalogRepository {
  private readonly lockTimeoutMs: number;

  constructor(
    private readonly db: Db,
    options: CatalogOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
  }

  async upsertItems(items: readonly ItemUpsert[]): Promise<ItemUpsertResult> {
    if (items.length === 0) {
      return { created: 0, updated: 0, records: [], previousCategories: new Map() };
    }
    const ids = items.map((i) => i.id);
    const columns = [
      ids,
      items.map((i) => i.title ?? null),
      items.map((i) => (i.categories == null ? null : JSON.stringify(i.categories))),
      items.map((i) => (i.attributes == null ? null : JSON.stringify(i.attributes))),
      items.map((i) => i.available ?? null),
    ];
    return inTransaction(this.db.pool, async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = ${Math.round(this.lockTimeoutMs)}`);
      await tx.query(LOCK_ITEMS_SQL, [ids]);
      const previous = await rows<{ id: string; categories: string[] }>(
        tx,
        'SELECT id, categories FROM items WHERE id = ANY($1::text[])',
        [ids],
      );
      const created = await rows<{ id: string }>(tx, INSERT_ITEMS_SQL, columns);
      const fresh = created.map((r) => r.id);
      const updated = await tx.query(UPDATE_ITEMS_SQL, [...columns, fresh]);
      const records = await rows<ItemRow>(tx, ITEM_RECORDS_SQL, [ids]);
      return {
        created: fresh.length,
        updated: updated.rowCount ?? 0,
        records: records.map(toItemFeatures),
        previousCategories: new Map(previous.map((r) => [r.id, r.categories])),
      };
    });
  }

  async upsertUsers(users: readonly UserUpsert[]): Promise<UpsertCounts> {
    if (users.length === 0) return { created: 0, updated: 0 };
    const columns = [
      users.map((u) => u.id),
      users.map((u) => (u.attributes == null ? null : JSON.stringify(u.attributes))),
    ];
    return this.db.$transaction(async (tx) => {
      const created = await tx.$queryRawUnsafe<Array<{ id: string }>>(INSERT_USERS_SQL, ...columns);
      const fresh = created.map((r) => r.id);
      const updated = await tx.$executeRawUnsafe(UPDATE_USERS_SQL, ...columns, fresh);
      return { created: fresh.length, updated };
    });
  }

  /** Profiles by id, in one query. */
  async profiles(ids: readonly string[]): Promise<Map<string, UserProfile>> {
    const rows = await this.db.user.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true, attributes: true },
    });
    return new Map(
      rows.map((r) => [
        r.id,
        { id: r.id, attributes: (r.attributes ?? {}) as Record<string, unknown> },
      ]),
    );
  }
}

const ITEM_ROWS = `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[])
  AS d(id, title, categories, attributes, available)`;

const INSERT_ITEMS_SQL = `
INSERT INTO items (id, title, categories, attributes, available)
SELECT d.id, COALESCE(d.title, ''),
       COALESCE(ARRAY(SELECT jsonb_array_elements_text(d.categories::jsonb)), '{}'),
       COALESCE(d.attributes::jsonb, '{}'), COALESCE(d.available, true)
FROM ${ITEM_ROWS}
ORDER BY d.id
ON CONFLICT (id) DO NOTHING
RETURNING id`;

const UPDATE_ITEMS_SQL = `
UPDATE items AS i SET
  title = COALESCE(d.title, i.title),
  categories = CASE WHEN d.categories IS NULL THEN i.categories
                    ELSE ARRAY(SELECT jsonb_array_elements_text(d.categories::jsonb)) END,
  attributes = COALESCE(d.attributes::jsonb, i.attributes),
  available = COALESCE(d.available, i.available),
  version = i.version + 1,
  updated_at = now()
FROM ${ITEM_ROWS}
WHERE i.id = d.id AND NOT (d.id = ANY($6::text[]))`;

const INSERT_USERS_SQL = `
INSERT INTO users (id, attributes)
SELECT d.id, COALESCE(d.attributes::jsonb, '{}')
FROM unnest($1::text[], $2::text[]) AS d(id, attributes)
ORDER BY d.id
ON CONFLICT (id) DO NOTHING
RETURNING id`;

const UPDATE_USERS_SQL = `
UPDATE users AS u SET
  attributes = COALESCE(d.attributes::jsonb, u.attributes),
  version = u.version + 1,
  updated_at = now()
FROM unnest($1::text[], $2::text[]) AS d(id, attributes)
WHERE u.id = d.id AND NOT (d.id = ANY($3::text[]))`;
