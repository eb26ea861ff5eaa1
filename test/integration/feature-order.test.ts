/**
 * The features must not depend on how events were batched, in which order
 * they arrived, or whether two batches ran at the same time: three separate
 * databases take the same events in different ways and must agree.
 */
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository, type StoredEvent } from '../../src/storage/postgres/feature-repository';
import {
  catalogue,
  differences,
  expectedPairs,
  generateEvents,
  randomBatches,
  snapshot,
  type Snapshot,
  storedPairs,
} from '../support/features';
import { isolatedEnv, type IsolatedEnv } from '../support/services';
import { seededRandom, shuffled } from '../unit/support/random';

jest.setTimeout(30_000);

const WINDOW = 6 * 3_600_000;
const EVENTS = generateEvents(20240301, 300);

interface Store {
  env: IsolatedEnv;
  db: Db;
  repo: FeatureRepository;
}

const stores: Store[] = [];

async function freshStore(): Promise<Store> {
  const env = await isolatedEnv();
  const db = createDb(env.config.postgres.url, 4);
  await new CatalogRepository(db).upsertItems(catalogue(12));
  const store = { env, db, repo: new FeatureRepository(db) };
  stores.push(store);
  return store;
}

async function applyInOrder(store: Store, batches: readonly StoredEvent[][]): Promise<void> {
  for (const batch of batches) await store.repo.applyBatch(batch, WINDOW);
}

let reference: Snapshot;

beforeAll(async () => {
  // The reference: every event in one batch, in time order.
  const store = await freshStore();
  const byTime = [...EVENTS].sort((a, b) => a.occurredAt - b.occurredAt);
  await store.repo.applyBatch(byTime, WINDOW);
  reference = await snapshot(store.db);
});

afterAll(async () => {
  for (const { db, env } of stores) {
    await db.$disconnect();
    await env.dropDatabase();
  }
});

test('the generated events exercise every feature table and timestamp ties', () => {
  expect(reference.events).toEqual([{ n: 300 }]);
  for (const table of ['user_items', 'user_categories', 'item_features', 'item_pairs']) {
    expect(reference[table].length).toBeGreaterThan(10);
  }
  const types = new Set(EVENTS.map((e) => e.type));
  expect([...types].sort()).toEqual(['CLICK', 'DISLIKE', 'PURCHASE', 'RATE', 'SKIP', 'VIEW']);
  const key = (e: StoredEvent) => `${e.userId}|${e.itemId}|${e.occurredAt}`;
  const keys = EVENTS.map(key);
  expect(new Set(keys).size).toBeLessThan(keys.length);
});

test('co-visitation counts each pair of positive events within the window once', async () => {
  const stored = await storedPairs(stores[0].db);
  const expected = expectedPairs(EVENTS, WINDOW);
  expect(new Map([...stored].map(([k, v]) => [k, v.events]))).toEqual(expected);
  for (const [k, v] of stored) expect(v.weight).toBe(expected.get(k));
});

test('shuffled events in random batches, some redelivered, give the same features', async () => {
  const store = await freshStore();
  const random = seededRandom(7);
  const batches = randomBatches(shuffled(EVENTS, random), 40, random);
  for (const [n, batch] of batches.entries()) {
    await store.repo.applyBatch(batch, WINDOW);
    // Every third batch is delivered again, mixed with part of the next one.
    if (n % 3 === 0) {
      await store.repo.applyBatch([...batch, ...(batches[n + 1] ?? []).slice(0, 2)], WINDOW);
    }
  }
  expect(differences(reference, await snapshot(store.db))).toEqual([]);
});

test('two batches applied at the same time give the same features as in sequence', async () => {
  const store = await freshStore();
  const random = seededRandom(11);
  const rounds = randomBatches(shuffled(EVENTS, random), 60, random);
  expect(rounds.length).toBeGreaterThanOrEqual(5);
  let sharedUsers = 0;
  for (const round of rounds) {
    // Two halves of a round share users and items; they run concurrently.
    const left = round.filter(() => random() < 0.5);
    const right = round.filter((e) => !left.includes(e));
    const users = new Set(left.map((e) => e.userId));
    if (right.some((e) => users.has(e.userId))) sharedUsers += 1;
    await Promise.all([store.repo.applyBatch(left, WINDOW), store.repo.applyBatch(right, WINDOW)]);
  }
  expect(sharedUsers).toBeGreaterThanOrEqual(3);
  expect(differences(reference, await snapshot(store.db))).toEqual([]);
});

test('every event applied alone, newest first, gives the same features', async () => {
  const store = await freshStore();
  const newestFirst = [...EVENTS].sort((a, b) => b.occurredAt - a.occurredAt);
  await applyInOrder(
    store,
    newestFirst.map((e) => [e]),
  );
  expect(differences(reference, await snapshot(store.db))).toEqual([]);
});
