/**
 * The SQL migrations and prisma/schema.prisma must describe the same tables:
 * Prisma selects every column of a model, so a column missing from the SQL,
 * or stored in a type the client cannot read, fails here.
 */
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { ModelRepository } from '../../src/storage/postgres/model-repository';
import { storedEvent, T0 } from '../support/features';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

let env: IsolatedEnv;
let db: Db;

beforeAll(async () => {
  // isolatedEnv() runs migrate() on a fresh database.
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 2);
});

afterAll(async () => {
  await db?.$disconnect();
  await env?.dropDatabase();
});

const MODELS = [
  'item',
  'user',
  'event',
  'userFeatures',
  'userItem',
  'userCategory',
  'itemFeatures',
  'itemPair',
  'model',
] as const;

function findFirst(model: (typeof MODELS)[number]): Promise<unknown> {
  const delegate = db[model] as unknown as { findFirst(): Promise<unknown> };
  return delegate.findFirst();
}

test('every Prisma model can be read from the migrated, empty database', async () => {
  for (const model of MODELS) {
    await expect(findFirst(model)).resolves.toBeNull();
  }
});

test("every Prisma model reads back rows written by the repositories' SQL", async () => {
  const catalog = new CatalogRepository(db);
  await catalog.upsertItems([
    { id: 'a', title: 'A', categories: ['books'], attributes: { year: 2001 } },
    { id: 'b', categories: ['music'] },
  ]);
  await catalog.upsertUsers([{ id: 'u1', attributes: { country: 'NO' } }]);
  await new FeatureRepository(db).applyBatch(
    [
      { ...storedEvent('p1', 'u1', 'a', T0, 'RATE', 4), streamSeq: 12 },
      storedEvent('p2', 'u1', 'b', T0 + 1000, 'PURCHASE', 2),
    ],
    300_000,
  );
  await new ModelRepository(db).save({
    watermark: { streamSeq: 12, processedAt: new Date(T0) },
    interactions: 2,
    users: 1,
    items: 2,
    params: { factors: 2 },
    evaluation: {},
    timings: {},
    data: Uint8Array.from([1, 2, 3]),
  });

  for (const model of MODELS) {
    await expect(findFirst(model)).resolves.not.toBeNull();
  }
  expect(await db.event.findUnique({ where: { eventId: 'p1' } })).toMatchObject({
    userId: 'u1',
    type: 'RATE',
    value: 4,
    streamSeq: 12n,
    occurredAt: new Date(T0),
  });
  expect(await db.item.findUnique({ where: { id: 'a' } })).toMatchObject({
    categories: ['books'],
    attributes: { year: 2001 },
    available: true,
    version: 1n,
  });
  expect(await db.model.findFirst()).toMatchObject({
    watermarkSeq: 12n,
    params: { factors: 2 },
    sizeBytes: 3,
    retiredAt: null,
  });
  expect(await db.itemPair.findFirst()).toMatchObject({ itemA: 'a', itemB: 'b', weight: 1 });
  expect(
    await db.userItem.findUnique({ where: { userId_itemId: { userId: 'u1', itemId: 'a' } } }),
  ).toMatchObject({ events: 1, rating: 4, ratingAt: new Date(T0), lastType: 'RATE' });
});
