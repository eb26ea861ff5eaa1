import type { ItemFeatures, UserFeatures } from '../../src/domain/features';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { FILLED, HotStore } from '../../src/storage/redis/hot-store';
import { itemRecord } from '../support/features';
import { cleanUp } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

let env: IsolatedEnv;
let redis: RedisClient;
let hot: HotStore;

beforeAll(async () => {
  env = await isolatedEnv();
  redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  hot = new HotStore(redis, env.config.redis.prefix);
});

afterAll(async () => {
  redis.disconnect();
  await cleanUp(env);
});

function user(userId: string, version: number, events: number): UserFeatures {
  return {
    userId,
    version,
    events,
    positives: events,
    negatives: 0,
    firstAt: 1,
    lastAt: 2,
    categories: [],
    recent: [],
    disliked: [],
    seen: [],
  };
}

function item(
  itemId: string,
  version: number,
  popAll: number,
  logDay: number | null = null,
): ItemFeatures {
  return itemRecord(itemId, { version, categories: ['books'], popAll, logDay });
}

describe('records', () => {
  test('a write with an older version never replaces a newer record', async () => {
    await hot.writeRecords([user('u1', 5, 50)], [item('i1', 5, 10)]);
    await hot.writeRecords([user('u1', 4, 40)], [item('i1', 3, 3)]);
    await hot.fillSeen([user('u1', 5, 50)]);

    const [u] = await hot.getUsers(['u1']);
    const [i] = await hot.getItems(['i1']);
    expect(u).toMatchObject({ version: 5, events: 50 });
    expect(i).toMatchObject({ version: 5, popAll: 10 });
  });

  test('a write with the same version keeps the record already stored', async () => {
    await hot.writeRecords([user('u2', 7, 70)], []);
    await hot.writeRecords([user('u2', 7, 71)], []);
    await hot.fillSeen([user('u2', 7, 71)]);
    expect((await hot.getUsers(['u2']))[0]).toMatchObject({ version: 7, events: 70 });
  });

  test('a write with a newer version replaces the record', async () => {
    await hot.writeRecords([user('u3', 9, 90)], []);
    await hot.writeRecords([user('u3', 10, 100)], []);
    await hot.fillSeen([user('u3', 10, 100)]);
    expect((await hot.getUsers(['u3']))[0]).toMatchObject({ version: 10, events: 100 });
  });

  test('a user whose seen set was never filled reads as a miss', async () => {
    await hot.writeRecords([user('u4', 1, 1)], []);
    // The pipeline adds to a set it never read: after a Redis restart that
    // set holds only recent items, so it must not be trusted.
    await hot.addSeen(new Map([['u4', new Set(['i9'])]]));
    expect(await hot.getUsers(['u4'])).toEqual([undefined]);
  });

  test("a filled seen set keeps growing with the pipeline's additions", async () => {
    await hot.writeRecords([user('u5', 1, 1)], []);
    await hot.fillSeen([{ ...user('u5', 1, 1), seen: ['i1', 'i2'] }]);
    await hot.addSeen(new Map([['u5', new Set(['i2', 'i3'])]]));
    const [u5] = await hot.getUsers(['u5']);
    expect(u5?.seen.sort()).toEqual(['i1', 'i2', 'i3']);
  });

  test('seen items are added even with a record older than the stored one', async () => {
    await hot.writeRecords([user('u6', 5, 5)], []);
    await hot.fillSeen([{ ...user('u6', 5, 5), seen: ['a'] }]);
    const many = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await hot.writeBatch({
      users: [user('u6', 4, 4)],
      seen: new Map([['u6', new Set(['a', 'b', ...many])]]),
      items: [],
      pairs: [],
      keep: 10,
    });
    await hot.addSeen(new Map([['u6', new Set(['b', 'c'])]]));
    const [u6] = await hot.getUsers(['u6']);
    expect(u6).toMatchObject({ version: 5, events: 5 });
    expect(u6?.seen.sort()).toEqual(['a', 'b', 'c', ...many].sort());
  });

  test('a remembered absence gives way to a record, and never hides a seen list', async () => {
    await hot.writeAbsent('user', ['u7', 'u8']);
    expect(await hot.getUsers(['u7'])).toEqual([null]);
    await hot.writeRecords([user('u7', 1, 1)], []);
    await hot.fillSeen([{ ...user('u7', 1, 1), seen: ['x'] }]);
    expect((await hot.getUsers(['u7']))[0]).toMatchObject({ version: 1, seen: ['x'] });
    // Items alone (no record) drop the absence: the user reads as a miss.
    await hot.addSeen(new Map([['u8', new Set(['y'])]]));
    expect(await hot.getUsers(['u8'])).toEqual([undefined]);
  });

  test('a record that was never written reads as undefined', async () => {
    expect(await hot.getUsers(['nobody', 'u1'])).toEqual([
      undefined,
      expect.objectContaining({ userId: 'u1' }),
    ]);
  });
});

describe('sorted sets', () => {
  test('a set reports a miss until it is filled, and its entries after', async () => {
    const key = hot.popularityKey('WEEK', 'films');
    expect(await hot.getTop([key], 10)).toEqual([{ filled: false }]);

    // Entries written by the pipeline alone do not make the set complete.
    await redis.zadd(key, 3, 'a');
    expect(await hot.getTop([key], 10)).toEqual([{ filled: false }]);

    await hot.fillTop(key, [
      { itemId: 'b', score: 5 },
      { itemId: 'c', score: 1 },
    ]);
    expect(await hot.getTop([key], 10)).toEqual([
      {
        filled: true,
        entries: [
          { itemId: 'b', score: 5 },
          { itemId: 'a', score: 3 },
          { itemId: 'c', score: 1 },
        ],
      },
    ]);
  });

  test('an empty filled set reads as filled and empty; count limits the entries', async () => {
    const empty = hot.popularityKey('DAY', 'none');
    const full = hot.popularityKey('DAY', 'many');
    await hot.fillTop(empty, []);
    await hot.fillTop(
      full,
      [1, 2, 3, 4, 5].map((n) => ({ itemId: `x${n}`, score: n })),
    );

    const [a, b] = await hot.getTop([empty, full], 2);
    expect(a).toEqual({ filled: true, entries: [] });
    expect(b).toEqual({
      filled: true,
      entries: [
        { itemId: 'x5', score: 5 },
        { itemId: 'x4', score: 4 },
      ],
    });
    expect(await redis.zscore(full, FILLED)).toBe('inf');
    // A list nobody has is remembered briefly, not for good; a real one stays.
    const ttl = await redis.ttl(empty);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.ttl(full)).toBe(-1);
  });

  test('neighbour sets are trimmed to the `keep` heaviest neighbours', async () => {
    const pairs = [1, 2, 3, 4, 5, 6].map((n) => ({ itemA: 'n0', itemB: `n${n}`, weight: n }));
    await hot.writeNeighbours(pairs, 3);

    const members = await redis.zrange(hot.neighboursKey('n0'), 0, -1, 'REV');
    expect(members).toEqual(['n6', 'n5', 'n4']);
    // The other side of each pair records it too.
    expect(await redis.zrange(hot.neighboursKey('n6'), 0, -1, 'WITHSCORES')).toEqual(['n0', '6']);
  });

  test('a filled neighbour set keeps its sentinel and the `keep` heaviest', async () => {
    const key = hot.neighboursKey('m0');
    await hot.fillTop(key, [{ itemId: 'm1', score: 1 }]);
    const pairs = [2, 3, 4, 5].map((n) => ({ itemA: 'm0', itemB: `m${n}`, weight: n }));

    await hot.writeNeighbours(pairs, 2);

    expect(await hot.getTop([key], 10)).toEqual([
      {
        filled: true,
        entries: [
          { itemId: 'm5', score: 5 },
          { itemId: 'm4', score: 4 },
        ],
      },
    ]);
  });

  test('a neighbour weight never goes down', async () => {
    await hot.writeNeighbours([{ itemA: 'k0', itemB: 'k1', weight: 7 }], 10);
    await hot.writeNeighbours([{ itemA: 'k0', itemB: 'k1', weight: 2 }], 10);
    expect(await redis.zscore(hot.neighboursKey('k0'), 'k1')).toBe('7');
  });

  test('popularity writes only raise scores', async () => {
    await hot.writeRecords([], [item('p1', 1, 10, 4.5)]);
    await hot.writeRecords([], [item('p1', 2, 20, 6)]);
    // A late write with lower scores (and an older version) lowers nothing.
    await hot.writeRecords([], [item('p1', 1, 10, 4.5)]);

    expect(await redis.zscore(hot.popularityKey('ALL_TIME'), 'p1')).toBe('20');
    expect(await redis.zscore(hot.popularityKey('DAY'), 'p1')).toBe('6');
    expect(await redis.zscore(hot.popularityKey('DAY', 'books'), 'p1')).toBe('6');
    // Windows without a score are not written.
    expect(await redis.zscore(hot.popularityKey('WEEK'), 'p1')).toBeNull();
  });

  test('items leave the popularity sets of the categories they left, and only those', async () => {
    const inBoth = (id: string) =>
      itemRecord(id, { version: 1, categories: ['leaving-a', 'leaving-b'], popAll: 5, logDay: 1 });
    await hot.writeRecords([], ['m1', 'm2', 'm3'].map(inBoth));
    await hot.leaveCategories([
      { itemId: 'm1', left: ['leaving-a'] },
      { itemId: 'm2', left: ['leaving-a', 'leaving-b'] },
    ]);
    const members = (window: 'ALL_TIME' | 'DAY', category: string) =>
      redis.zrange(hot.popularityKey(window, category), 0, -1);
    for (const window of ['ALL_TIME', 'DAY'] as const) {
      expect(await members(window, 'leaving-a')).toEqual(['m3']);
      expect(await members(window, 'leaving-b')).toEqual(['m1', 'm3']);
    }
    expect(await redis.zrange(hot.popularityKey('ALL_TIME'), 0, -1)).toEqual(
      expect.arrayContaining(['m1', 'm2', 'm3']),
    );
  });

  test('a record older than the stored one adds its item to no popularity set', async () => {
    const moved = (version: number, category: string, popAll: number) =>
      itemRecord('mv1', { version, categories: [category], popAll, logDay: 1 });
    // A pipeline batch read mv1 in `old-shelf`; the catalogue then moved it to
    // `new-shelf` (a newer record) and took it out of `old-shelf`.
    await hot.writeRecords([], [moved(1, 'old-shelf', 5)]);
    await hot.writeRecords([], [moved(3, 'new-shelf', 5)]);
    await hot.leaveCategories([{ itemId: 'mv1', left: ['old-shelf'] }]);
    // The batch's own write of its older record comes late, with higher scores.
    await hot.writeRecords([], [moved(2, 'old-shelf', 50)]);

    expect(await redis.zrange(hot.popularityKey('ALL_TIME', 'old-shelf'), 0, -1)).toEqual([]);
    expect(await redis.zscore(hot.popularityKey('ALL_TIME', 'new-shelf'), 'mv1')).toBe('5');
    expect(await redis.zscore(hot.popularityKey('ALL_TIME'), 'mv1')).toBe('5');
    expect(await hot.getItems(['mv1'])).toEqual([
      expect.objectContaining({ version: 3, categories: ['new-shelf'] }),
    ]);
    // The same version again (a retried write) still counts.
    await hot.writeRecords([], [moved(3, 'new-shelf', 7)]);
    expect(await redis.zscore(hot.popularityKey('ALL_TIME', 'new-shelf'), 'mv1')).toBe('7');
  });

  test('one write of many items fills every set it names, across calls', async () => {
    const many = Array.from({ length: 600 }, (_, i) =>
      itemRecord(`bulk${i}`, { version: 1, categories: [`bulk-${i % 3}`], popAll: i + 1 }),
    );
    await hot.writeRecords([], many);
    for (let c = 0; c < 3; c += 1) {
      expect(await redis.zcard(hot.popularityKey('ALL_TIME', `bulk-${c}`))).toBe(200);
    }
    expect(await redis.zscore(hot.popularityKey('ALL_TIME', 'bulk-2'), 'bulk599')).toBe('600');
    expect(await hot.getItems(['bulk0', 'bulk599'])).toHaveLength(2);
  });

  test('items naming more sets than a call or a pipeline takes are split, none lost', async () => {
    // Each item in 50 categories of its own: 204 sets each, 1,224 in all, more
    // than one call (256) and one pipeline (1,024 keys) take.
    const wide = [0, 1, 2, 3, 4, 5].map((i) =>
      itemRecord(`wide${i}`, {
        version: 1,
        categories: Array.from({ length: 50 }, (_, c) => `wide${i}-${c}`),
        popAll: 3,
        logDay: 1,
        logWeek: 1,
        logMonth: 1,
      }),
    );
    await hot.writeRecords([], wide);
    for (const i of [0, 1, 2, 3, 4, 5]) {
      for (const c of [0, 49]) {
        for (const window of ['ALL_TIME', 'DAY', 'WEEK', 'MONTH'] as const) {
          expect(
            await redis.zscore(hot.popularityKey(window, `wide${i}-${c}`), `wide${i}`),
          ).not.toBeNull();
        }
      }
    }
  });

  test('an unavailable item is not added to popularity sets', async () => {
    await hot.writeRecords([], [{ ...item('q1', 1, 10, 1), available: false }]);
    expect(await redis.zscore(hot.popularityKey('ALL_TIME'), 'q1')).toBeNull();
    expect(await hot.getItems(['q1'])).toEqual([expect.objectContaining({ available: false })]);
  });

  test('a withdrawn item leaves its popularity sets, and comes back when available', async () => {
    const scored = async () => [
      await redis.zscore(hot.popularityKey('ALL_TIME'), 'wd1'),
      await redis.zscore(hot.popularityKey('DAY', 'books'), 'wd1'),
    ];
    await hot.writeRecords([], [item('wd1', 1, 10, 2)]);
    expect(await scored()).toEqual(['10', '2']);
    await hot.writeRecords([], [{ ...item('wd1', 2, 10, 2), available: false }]);
    expect(await scored()).toEqual([null, null]);
    // An older, available record arriving late brings nothing back.
    await hot.writeRecords([], [item('wd1', 1, 10, 2)]);
    expect(await scored()).toEqual([null, null]);
    await hot.writeRecords([], [item('wd1', 3, 12, 2)]);
    expect(await scored()).toEqual(['12', '2']);
  });
});
