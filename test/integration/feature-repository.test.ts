import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import {
  catalogue,
  differences,
  expectedPairs,
  snapshot,
  storedEvent as event,
  storedPairs,
  T0,
} from '../support/features';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

const WINDOW = 300_000;

let env: IsolatedEnv;
let db: Db;
let repo: FeatureRepository;

beforeAll(async () => {
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 4);
  repo = new FeatureRepository(db);
  await new CatalogRepository(db).upsertItems(catalogue(12));
});

afterAll(async () => {
  await db.$disconnect();
  await env.dropDatabase();
});

test('applies a batch once and reads the features back', async () => {
  const t = Date.UTC(2024, 0, 1);
  const batch = [event('e1', 'u1', 'i1', t), event('e2', 'u1', 'i2', t + 1000, 'RATE', 5)];
  const first = await repo.applyBatch(batch, WINDOW);
  expect(first.applied.sort()).toEqual(['e1', 'e2']);
  expect(first.users[0]).toMatchObject({ userId: 'u1', events: 2, positives: 2 });
  expect(first.pairs).toEqual([{ itemA: 'i1', itemB: 'i2', weight: 1 }]);
  const again = await repo.applyBatch(batch, WINDOW);
  expect(again.applied).toEqual([]);
  expect(again.users[0].events).toBe(2);
});

test('names the users whose records a batch folded, with the versions it made', async () => {
  const t = Date.UTC(2024, 0, 2);
  const first = await repo.applyBatch(
    [
      event('n1', 'new-1', 'i1', t),
      event('n2', 'new-1', 'i2', t + 1),
      event('n3', 'new-2', 'i1', t),
    ],
    WINDOW,
  );
  const byUser = (folded: Array<{ userId: string; version: number }>) =>
    Object.fromEntries(folded.map((f) => [f.userId, f.version]));
  expect(byUser(first.folded)).toEqual({ 'new-1': 1, 'new-2': 1 });
  const later = await repo.applyBatch(
    [event('n4', 'new-1', 'i3', t + 2), event('n5', 'new-3', 'i3', t + 2)],
    WINDOW,
  );
  expect(byUser(later.folded)).toEqual({ 'new-1': 2, 'new-3': 1 });
  // A redelivery folds nothing: its users are read back as they stand.
  const again = await repo.applyBatch([event('n3', 'new-2', 'i1', t)], WINDOW);
  expect(again.folded).toEqual([]);
  expect(again.users).toMatchObject([{ userId: 'new-2', version: 1 }]);
});

// Items of their own, so that other tests' item features stay as they expect.
test('tracks disliked items by the sign of their net weight across batches', async () => {
  const first = await repo.applyBatch(
    [
      event('k1', 'uk', 'ik01', T0, 'DISLIKE'),
      event('k2', 'uk', 'ik02', T0 + 1_000, 'SKIP'),
      event('k3', 'uk', 'ik03', T0 + 2_000, 'VIEW'),
    ],
    WINDOW,
  );
  expect(first.users[0].disliked).toEqual(['ik01', 'ik02']);

  // ik02 turns positive, ik03 negative; ik01 is untouched and stays.
  const second = await repo.applyBatch(
    [
      event('k4', 'uk', 'ik02', T0 + 3_000, 'CLICK'),
      event('k5', 'uk', 'ik03', T0 + 4_000, 'DISLIKE'),
      event('k6', 'uk', 'ik04', T0 + 5_000, 'VIEW'),
    ],
    WINDOW,
  );
  expect(second.users[0].disliked).toEqual(['ik01', 'ik03']);
  expect((await repo.loadUsers(['uk'])).get('uk')?.disliked).toEqual(['ik01', 'ik03']);
});

describe('exactly-once application', () => {
  test('applying the same events a second time changes no feature table', async () => {
    const events = [
      event('x1', 'ux', 'i00', T0, 'VIEW'),
      event('x2', 'ux', 'i01', T0 + 1_000, 'PURCHASE', 2),
      event('x3', 'ux', 'i02', T0 + 2_000, 'RATE', 4),
      event('x4', 'ux', 'i01', T0 + 3_000, 'DISLIKE'),
    ];
    const first = await repo.applyBatch(events, WINDOW);
    expect(first.applied.sort()).toEqual(['x1', 'x2', 'x3', 'x4']);
    const before = await snapshot(db);

    const second = await repo.applyBatch([...events].reverse(), WINDOW);

    expect(second.applied).toEqual([]);
    expect(second.pairs).toEqual([]);
    expect(differences(before, await snapshot(db))).toEqual([]);
  });

  test('a batch overlapping an earlier one applies only the events it adds', async () => {
    const events = [
      event('y1', 'uy', 'i02', T0, 'CLICK'),
      event('y2', 'uy', 'i03', T0 + 1_000, 'VIEW'),
      event('y3', 'uy', 'i02', T0 + 2_000, 'SKIP'),
      event('y4', 'uz', 'i03', T0 + 3_000, 'PURCHASE'),
    ];
    await repo.applyBatch(events.slice(0, 3), WINDOW);
    const before = await snapshot(db);
    const row = (s: typeof before, table: string, key: string) =>
      s[table].find((r) => Object.values(r)[0] === key);

    const overlap = await repo.applyBatch(events.slice(1), WINDOW);

    expect(overlap.applied).toEqual(['y4']);
    const after = await snapshot(db);
    expect(row(after, 'user_features', 'uy')).toEqual(row(before, 'user_features', 'uy'));
    expect(row(after, 'user_features', 'uz')).toMatchObject({ events: 1, positives: 1 });
    expect(row(after, 'item_features', 'i03')).toMatchObject({
      events: (row(before, 'item_features', 'i03')?.events as number) + 1,
    });
    expect(after.events).toEqual([{ n: (before.events[0].n as number) + 1 }]);
  });

  test('a batch that holds one event twice counts it once', async () => {
    const once = event('d1', 'ud', 'i04', T0, 'PURCHASE');
    const other = event('d2', 'ud', 'i05', T0 + 60_000, 'CLICK');

    const applied = await repo.applyBatch([once, other, once], WINDOW);

    expect(applied.applied.sort()).toEqual(['d1', 'd2']);
    expect(applied.users).toEqual([
      expect.objectContaining({ userId: 'ud', events: 2, positives: 2 }),
    ]);
    const item = applied.items.find((i) => i.itemId === 'i04');
    expect(item).toMatchObject({ events: 1, positives: 1, popAll: 8 });
    expect(applied.pairs).toEqual([{ itemA: 'i04', itemB: 'i05', weight: 1 }]);
  });
});

describe('co-visitation', () => {
  const W = 600_000;

  test("counts each unordered pair of a user's positive events in the window once", async () => {
    // uc: a, b, c positive and close; n negative; far is outside the window
    // of all but edge, which sits exactly on the window's edge from far.
    const events = [
      event('c1', 'uc', 'i06', T0, 'VIEW'),
      event('c2', 'uc', 'i07', T0 + 60_000, 'CLICK'),
      event('c3', 'uc', 'i08', T0 + 120_000, 'PURCHASE'),
      event('c4', 'uc', 'i09', T0 + 180_000, 'DISLIKE'),
      event('c5', 'uc', 'i06', T0 + 240_000, 'RATE', 5),
      event('c6', 'uc', 'i10', T0 + 10 * W, 'VIEW'),
      event('c7', 'uc', 'i11', T0 + 11 * W, 'CLICK'),
      event('c8', 'uc', 'i09', T0 + 11 * W + 1, 'VIEW'),
      // Another user's event on the same items at the same time pairs with nothing of uc's.
      event('c9', 'uo', 'i07', T0 + 60_000, 'CLICK'),
    ];
    // Split so that pairs form within a batch and across batches.
    await repo.applyBatch([events[4], events[0], events[8]], W);
    await repo.applyBatch([events[2], events[6]], W);
    await repo.applyBatch([events[1], events[3], events[5], events[7]], W);
    await repo.applyBatch(events, W);

    const stored = await storedPairs(db);
    const mine = [...stored].filter(([k]) => /^i(0[6-9]|1[01])\|/.test(k));
    expect(new Map(mine)).toEqual(
      new Map([...expectedPairs(events, W)].map(([k, n]) => [k, { weight: n, events: n }])),
    );
    // The expectation itself, spelled out: c1-c2, c1-c3, c2-c3, c2-c5, c3-c5,
    // c6-c7 (exactly W apart) and c7-c8; c1-c5 share an item, c4 is negative.
    expect(Object.fromEntries(mine.map(([k, v]) => [k, v.events]))).toEqual({
      'i06|i07': 2,
      'i06|i08': 2,
      'i07|i08': 1,
      'i10|i11': 1,
      'i09|i11': 1,
    });
  });
});

test('events decades apart on one item apply without a numeric underflow', async () => {
  const old = Date.UTC(1998, 0, 1);
  const now = Date.UTC(2026, 11, 1);
  await repo.applyBatch([event('far-1', 'u-far', 'i-far', old, 'LIKE')], 300_000);
  const applied = await repo.applyBatch([event('far-2', 'u-far2', 'i-far', now, 'LIKE')], 300_000);
  expect(applied.applied).toEqual(['far-2']);
  const item = applied.items.find((i) => i.itemId === 'i-far');
  expect(item?.positives).toBe(2);
  // The old like is negligible next to the new one in the day window.
  expect(item?.logDay).toBeCloseTo(
    Math.log(6) + (Math.LN2 * (now - Date.UTC(2000, 0, 1))) / 86_400_000,
    6,
  );
});
