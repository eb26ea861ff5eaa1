/**
 * The two writers of an item record, the catalogue and the pipeline, racing
 * on real PostgreSQL. A record's version is the sum of its catalogue row's
 * and its feature row's versions, and Redis keeps the highest, so the
 * record with the highest version either writer returns must be the item as
 * it finally stands. Each test holds the pipeline's feature write on a row
 * lock of its own, lets a catalogue change start, then releases the row.
 */
import type { ItemFeatures } from '../../src/domain/features';
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { LOCK_ITEMS_SQL } from '../../src/storage/postgres/feature-sql';
import { isTransient } from '../../src/pipeline/retry';
import { CatalogService } from '../../src/catalog/catalog-service';
import { ErrorCode } from '../../src/domain/errors';
import { silentLogger } from '../../src/observability/logger';
import { HotCopyWriter } from '../../src/pipeline/hot-copy';
import { createRedis } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import { storedEvent, T0 } from '../support/features';
import { cleanUp } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

const WINDOW = 300_000;

let env: IsolatedEnv;
let db: Db;
let features: FeatureRepository;
let catalog: CatalogRepository;

beforeAll(async () => {
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 6);
  features = new FeatureRepository(db);
  catalog = new CatalogRepository(db);
});

afterAll(async () => {
  await db.$disconnect();
  await cleanUp(env);
  await env.dropDatabase();
});

test('a withdrawal during a feature write ends in the highest version', async () => {
  await catalog.upsertItems([{ id: 'w1', title: 'Kept', categories: ['film'] }]);
  await features.applyBatch([storedEvent('w-e1', 'wu1', 'w1', T0)], WINDOW);

  const { pipeline, change } = await race(
    'SELECT 1 FROM item_features WHERE item_id = $1 FOR UPDATE',
    'w1',
    () => features.applyBatch([storedEvent('w-e2', 'wu2', 'w1', T0 + 1_000)], WINDOW),
    () => catalog.upsertItems([{ id: 'w1', available: false }]),
  );

  const final = await stored('w1');
  expect(final).toMatchObject({ available: false, events: 2 });
  expect(newest(record(pipeline.items, 'w1'), record(change.records, 'w1'))).toEqual(final);
});

test("an item's first events racing its creation end in the highest version", async () => {
  const { pipeline, change } = await race(
    // An uncommitted feature row, rolled back on release: the pipeline's
    // insert waits for it, then inserts its own.
    'INSERT INTO item_features (item_id) VALUES ($1)',
    'n1',
    () => features.applyBatch([storedEvent('n-e1', 'nu1', 'n1', T0)], WINDOW),
    () => catalog.upsertItems([{ id: 'n1', title: 'New', categories: ['music'] }]),
  );

  const final = await stored('n1');
  expect(final).toMatchObject({ known: true, available: true, title: 'New', events: 1 });
  expect(newest(record(pipeline.items, 'n1'), record(change.records, 'n1'))).toEqual(final);
});

test('the catalogue read of an upsert is the item as committed', async () => {
  const result = await catalog.upsertItems([
    { id: 'c1', title: 'One', categories: ['books'] },
    { id: 'c2', title: 'Two', categories: ['games'] },
  ]);
  expect(result).toMatchObject({ created: 2, updated: 0 });
  expect(result.previousCategories.size).toBe(0);
  const moved = await catalog.upsertItems([{ id: 'c1', categories: ['film'] }]);
  expect(moved).toMatchObject({ created: 0, updated: 1 });
  expect(moved.previousCategories.get('c1')).toEqual(['books']);
  expect(moved.records).toEqual([await stored('c1')]);
  expect(moved.records[0]).toMatchObject({ categories: ['film'], title: 'One', version: 2 });
});

test('an upsert that cannot lock its items in time fails, retryably, writing nothing', async () => {
  const impatient = new CatalogRepository(db, { lockTimeoutMs: 100 });
  const holder = await db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(LOCK_ITEMS_SQL, [['t1']]);
    const refused = await impatient.upsertItems([{ id: 't1', title: 'Late' }]).catch((e) => e);
    expect(refused).toMatchObject({ code: '55P03' });
    expect(isTransient(refused)).toBe(true);
    expect(await stored('t1')).toBeUndefined();
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
  await expect(impatient.upsertItems([{ id: 't1', title: 'Late' }])).resolves.toMatchObject({
    created: 1,
  });
});

test('item writes beyond the allowed few queue briefly, then are unavailable', async () => {
  const redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  const hot = new HotStore(redis, env.config.redis.prefix);
  const service = new CatalogService(
    new CatalogRepository(db, { lockTimeoutMs: 5000 }),
    new HotCopyWriter(hot, env.config.pipeline.neighbours, silentLogger()),
    { concurrentWrites: 1, queueWaitMs: 100 },
  );
  const holder = await db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(LOCK_ITEMS_SQL, [['q1']]);
    const first = service.upsertItems([{ id: 'q1', title: 'First' }]);
    await waitForLockWaiters(1);
    // The one slot is taken by a write waiting on its lock: the next gives up
    // on the slot, and reads still find free connections.
    const second = await service.upsertItems([{ id: 'q2' }]).catch((e) => e);
    expect(second).toMatchObject({ code: ErrorCode.SERVICE_UNAVAILABLE });
    expect(second.message).toMatch(/busy with other item writes/);
    expect(await features.loadItems(['w1'])).toBeInstanceOf(Map);
    await holder.query('ROLLBACK');
    await expect(first).resolves.toEqual({ created: 1, updated: 0 });
    expect(await stored('q2')).toBeUndefined();
  } finally {
    holder.release();
    redis.disconnect();
  }
});

/**
 * Holds a row lock (taken by `hold` on `itemId`) in a transaction of its
 * own, starts the pipeline write, which waits on it, then the catalogue
 * change; releases the row once the change has either finished or is
 * waiting too. Returns both results.
 */
async function race<P, C>(
  hold: string,
  itemId: string,
  pipelineWrite: () => Promise<P>,
  catalogueChange: () => Promise<C>,
): Promise<{ pipeline: P; change: C }> {
  const holder = await db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(hold, [itemId]);
    const pipeline = pipelineWrite();
    await waitForLockWaiters(1);
    let changed = false;
    const change = catalogueChange().finally(() => (changed = true));
    await waitForLockWaiters(2, () => changed);
    await holder.query('ROLLBACK');
    return { pipeline: await pipeline, change: await change };
  } finally {
    holder.release();
  }
}

/**
 * Waits until `count` sessions of this database wait on a lock, or `done()`
 * holds. (It asks outside any transaction: inside one, PostgreSQL shows the
 * activity as it stood at the transaction's first look.)
 */
async function waitForLockWaiters(count: number, done: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= count || done()) return;
    if (Date.now() > deadline) throw new Error(`never saw ${count} sessions waiting on a lock`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function record(records: readonly ItemFeatures[], itemId: string): ItemFeatures {
  const found = records.find((r) => r.itemId === itemId);
  if (!found) throw new Error(`no record of ${itemId}`);
  return found;
}

function newest(a: ItemFeatures, b: ItemFeatures): ItemFeatures {
  expect(a.version).not.toBe(b.version);
  return a.version > b.version ? a : b;
}

async function stored(itemId: string): Promise<ItemFeatures | undefined> {
  return (await features.loadItems([itemId])).get(itemId);
}
