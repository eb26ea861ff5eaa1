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

/** A pipeline write of a user's record at `version`, its items covering `covers`. */
function versioned(userId: string, version: number, seen: string[], covers: [number, number]) {
  return hot.writeBatch({
    users: [user(userId, version, version)],
    seen: new Map([[userId, new Set(seen)]]),
    covers: new Map([[userId, covers]]),
    items: [],
    pairs: [],
    keep: 10,
  });
}

/** The mark before a user's seen items (user-codec.ts). */
async function mark(userId: string): Promise<string> {
  const value = (await redis.get(hot.userKey(userId))) as string;
  return value.split('\n')[1].split('\t')[0];
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

  test('only users without a key are looked up in the known-users filter', async () => {
    await hot.writeRecords([user('k1', 1, 1)], []);
    await hot.fillSeen([user('k1', 1, 1)]);
    await hot.writeAbsent('user', ['k2']);
    // A record whose seen list was never filled: a miss, though it has a key.
    await hot.writeRecords([user('k5', 1, 1)], []);
    let lookups = 0;
    const count = () => (lookups += 1);

    const keyed = await hot.getUsers(['k5', 'k1', 'k2', 'k1'], count);
    expect(lookups).toBe(0);
    expect(keyed.map((u) => u?.userId ?? u)).toEqual([undefined, 'k1', null, 'k1']);
    expect(Object.keys(keyed)).toEqual(['0', '1', '2', '3']);

    // No filter mark here: a user without a key is a miss, each in its place.
    const mixed = await hot.getUsers(['k3', 'k1', 'k2', 'k4'], count);
    expect(lookups).toBe(1);
    expect(mixed.map((u) => u?.userId ?? u)).toEqual([undefined, 'k1', null, undefined]);
    expect(mixed).toHaveLength(4);
    expect(Object.keys(mixed)).toEqual(['0', '1', '2', '3']);
  });

  test('forgetting absences deletes only remembered absences of users, page by page', async () => {
    await hot.forgetAbsentUsers(); // those that earlier tests remembered
    const absent = Array.from({ length: 2500 }, (_, n) => `gone-${n}`);
    await hot.writeAbsent('user', absent);
    await hot.writeRecords([user('kept', 1, 1)], []);
    await hot.fillSeen([user('kept', 1, 1)]);
    await hot.addSeen(new Map([['seen-only', new Set(['i1'])]]));
    await hot.writeAbsent('item', ['no-such-item']);

    // Over two SCAN pages of 1,000.
    expect(await hot.forgetAbsentUsers()).toBe(2500);

    expect(await redis.exists(...absent.slice(0, 100).map((id) => hot.userKey(id)))).toBe(0);
    expect((await hot.getUsers(['kept']))[0]).toMatchObject({ userId: 'kept', version: 1 });
    expect(await redis.exists(hot.userKey('seen-only'))).toBe(1);
    expect(await redis.exists(hot.itemKey('no-such-item'))).toBe(1);
    expect(await hot.forgetAbsentUsers()).toBe(0);
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

  test("a user's first version makes a list complete; each next one keeps it so", async () => {
    await versioned('uv', 1, ['a'], [1, 1]);
    expect((await hot.getUsers(['uv']))[0]).toMatchObject({ version: 1, seen: ['a'] });
    await versioned('uv', 2, ['b'], [2, 2]);
    expect((await hot.getUsers(['uv']))[0]).toMatchObject({ version: 2, seen: ['a', 'b'] });

    // Version 3's write never arrives: version 4's cannot vouch for it.
    await versioned('uv', 4, ['d'], [4, 4]);
    expect(await hot.getUsers(['uv'])).toEqual([undefined]);
    // A fill from PostgreSQL at version 4 makes it complete again.
    await hot.fillSeen([{ ...user('uv', 4, 4), seen: ['a', 'b', 'c', 'd'] }]);
    expect((await hot.getUsers(['uv']))[0]?.seen.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a list marked complete before versions were marked is not trusted', async () => {
    await hot.writeRecords([user('ul', 3, 3)], []);
    const value = (await redis.get(hot.userKey('ul'))) as string;
    await redis.set(hot.userKey('ul'), `${value.split('\n')[0]}\nF\ti1\t`);
    expect(await hot.getUsers(['ul'])).toEqual([undefined]);
    // Nor does the next version's write vouch for what came before it.
    await versioned('ul', 4, ['i4'], [4, 4]);
    expect(await hot.getUsers(['ul'])).toEqual([undefined]);
  });

  test('versions written out of order make the list complete once the gap fills', async () => {
    await versioned('uo', 1, ['a'], [1, 1]);
    await versioned('uo', 2, ['b'], [2, 2]);
    // Two workers' writes for versions 3 and 4 arrive the other way round.
    await versioned('uo', 4, ['d'], [4, 4]);
    expect(await hot.getUsers(['uo'])).toEqual([undefined]);
    await versioned('uo', 3, ['c'], [3, 3]);
    expect((await hot.getUsers(['uo']))[0]).toMatchObject({
      version: 4,
      seen: ['a', 'b', 'd', 'c'],
    });
  });

  test('a fill read before a newer write landed still makes the list complete', async () => {
    await versioned('uf', 1, ['a'], [1, 1]);
    // Version 2's write is lost; 3's and then 4's arrive.
    await versioned('uf', 3, ['c'], [3, 3]);
    await versioned('uf', 4, ['d'], [4, 4]);
    // A gateway read PostgreSQL at version 3; its fill lands after 4's write.
    await hot.writeRecords([user('uf', 3, 3)], []);
    await hot.fillSeen([{ ...user('uf', 3, 3), seen: ['a', 'b', 'c'] }]);
    const [found] = await hot.getUsers(['uf']);
    expect(found?.version).toBe(4);
    expect(found?.seen.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a fill from an older read never takes completeness back', async () => {
    await versioned('us', 5, ['a', 'e'], [1, 5]);
    await hot.fillSeen([{ ...user('us', 3, 3), seen: ['a'] }]);
    expect((await hot.getUsers(['us']))[0]).toMatchObject({ version: 5 });
  });

  test('only the nearest eight ranges written ahead are remembered', async () => {
    await versioned('ur', 1, ['v1'], [1, 1]);
    for (let v = 3; v <= 21; v += 2) await versioned('ur', v, [`v${v}`], [v, v]);
    // 19 and 21, the farthest ahead, were forgotten: v stops at 3, then 17.
    await versioned('ur', 21, ['v2'], [2, 2]);
    expect(await mark('ur')).toBe('F3+5-5+7-7+9-9+11-11+13-13+15-15+17-17');
    expect(await hot.getUsers(['ur'])).toEqual([undefined]);
  });

  test('ranges ahead join each other and v, whatever their order', async () => {
    await versioned('uj', 1, ['a'], [1, 1]);
    await versioned('uj', 2, ['b'], [2, 2]);
    await versioned('uj', 5, ['e'], [5, 5]);
    await versioned('uj', 4, ['d'], [4, 4]);
    expect(await mark('uj')).toBe('F2+4-5');
    await versioned('uj', 3, ['c'], [3, 3]);
    expect((await hot.getUsers(['uj']))[0]).toMatchObject({ version: 5 });
  });

  test('a version written again and again takes one range', async () => {
    await versioned('ud', 1, ['a'], [1, 1]);
    await versioned('ud', 3, ['c'], [3, 3]);
    for (let i = 0; i < 9; i += 1) await versioned('ud', 4, ['d'], [4, 4]);
    expect(await mark('ud')).toBe('F1+3-4');
    await versioned('ud', 2, ['b'], [2, 2]);
    expect((await hot.getUsers(['ud']))[0]?.seen.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  test('items that look like marks or patterns are only items', async () => {
    const odd = ['F9', '+1-9', 'a%b', '%d', 'x-y', 'p+q', 'd.t', '[s]', '^c$', '(u)*'];
    await hot.writeRecords([user('uo2', 3, 3)], []);
    await hot.addSeen(new Map([['uo2', new Set(odd)]]));
    await hot.addSeen(new Map([['uo2', new Set(odd)]]));
    expect(await hot.getUsers(['uo2'])).toEqual([undefined]);
    await hot.fillSeen([{ ...user('uo2', 3, 3), seen: odd }]);
    expect((await hot.getUsers(['uo2']))[0]?.seen).toEqual(odd);
  });

  test('versions past 10^14 are written in full', async () => {
    const version = 100_000_000_000_000;
    await hot.writeRecords([user('ub', version, 1)], []);
    await hot.fillSeen([{ ...user('ub', version, 1), seen: ['a'] }]);
    expect(await mark('ub')).toBe(`F${version}`);
    expect((await hot.getUsers(['ub']))[0]).toMatchObject({ version });
  });

  test('a write of many users with many items each reaches every one', async () => {
    const users = Array.from({ length: 300 }, (_, u) => `um${u}`);
    const items = Array.from({ length: 100 }, (_, i) => `i${i}`);
    await hot.addSeen(new Map(users.map((u) => [u, new Set(items)])));
    const lengths = await Promise.all(
      users.map(async (u) => ((await redis.get(hot.userKey(u))) as string).split('\t').length),
    );
    // The mark, 100 items, and what follows the last tab.
    expect(new Set(lengths)).toEqual(new Set([102]));
  });

  test('a fill of a very long list is written whole', async () => {
    const seen = Array.from({ length: 130_000 }, (_, i) => `item-${i}`);
    await hot.writeRecords([user('uh', 2, 2)], []);
    await hot.fillSeen([{ ...user('uh', 2, 2), seen }]);
    expect((await hot.getUsers(['uh']))[0]?.seen).toHaveLength(130_000);
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

    await hot.fillPopular(key, 'films', [
      { itemId: 'b', score: 5, version: 1 },
      { itemId: 'c', score: 1, version: 1 },
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
    await hot.fillPopular(empty, 'none', []);
    await hot.fillPopular(
      full,
      'many',
      [1, 2, 3, 4, 5].map((n) => ({ itemId: `x${n}`, score: n, version: 1 })),
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

  test('a popular list filled from a stale read leaves out items changed since', async () => {
    // PostgreSQL listed f1-f5 at version 2. Since then f1 was withdrawn and
    // f2 moved out of the category (their version 3 records reached Redis
    // first); f3's record there is the one read; f4 has none in Redis; f5's
    // is older (its own write listed it at its score then), and the write of
    // version 2 will raise it.
    const key = hot.popularityKey('ALL_TIME', 'fill-shelf');
    const record = (id: string, version: number, available = true) =>
      itemRecord(id, { version, categories: ['fill-shelf'], popAll: 1, available });
    await hot.writeRecords(
      [],
      [record('f1', 3, false), { ...record('f2', 3), categories: ['elsewhere'] }, record('f3', 2)],
    );
    await hot.writeRecords([], [record('f5', 1)]);
    await hot.fillPopular(
      key,
      'fill-shelf',
      ['f1', 'f2', 'f3', 'f4', 'f5'].map((itemId, i) => ({ itemId, score: 10 - i, version: 2 })),
    );
    expect(await hot.getTop([key], 10)).toEqual([
      {
        filled: true,
        entries: [
          { itemId: 'f3', score: 8 },
          { itemId: 'f4', score: 7 },
          { itemId: 'f5', score: 1 },
        ],
      },
    ]);
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
    const inBoth = (id: string, version: number) =>
      itemRecord(id, { version, categories: ['leaving-a', 'leaving-b'], popAll: 5, logDay: 1 });
    await hot.writeRecords(
      [],
      ['m1', 'm2', 'm3'].map((id) => inBoth(id, 1)),
    );
    const only = (id: string, categories: string[]) =>
      itemRecord(id, { version: 2, categories, popAll: 5, logDay: 1 });
    await hot.writeRecords(
      [],
      [only('m1', ['leaving-b']), only('m2', [])],
      new Map([
        ['m1', ['leaving-a']],
        ['m2', ['leaving-a', 'leaving-b']],
      ]),
    );
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

  const shelf = (itemId: string, version: number, category: string, popAll = 5) =>
    itemRecord(itemId, { version, categories: [category], popAll, logDay: 1 });
  const listed = async (itemId: string) => {
    const on: string[] = [];
    for (const category of ['shelf-x', 'shelf-y', 'shelf-z']) {
      if ((await redis.zscore(hot.popularityKey('ALL_TIME', category), itemId)) !== null) {
        on.push(category);
      }
    }
    return on;
  };

  test('a record older than the stored one adds its item to no popularity set', async () => {
    // A pipeline batch read mv1 on shelf-x; the catalogue then moved it to
    // shelf-y (a newer record, leaving shelf-x).
    await hot.writeRecords([], [shelf('mv1', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('mv1', 3, 'shelf-y')], new Map([['mv1', ['shelf-x']]]));
    // The batch's own write of its older record comes late, with higher scores.
    await hot.writeRecords([], [shelf('mv1', 2, 'shelf-x', 50)]);

    expect(await listed('mv1')).toEqual(['shelf-y']);
    expect(await redis.zscore(hot.popularityKey('ALL_TIME', 'shelf-y'), 'mv1')).toBe('5');
    expect(await redis.zscore(hot.popularityKey('ALL_TIME'), 'mv1')).toBe('5');
    expect(await hot.getItems(['mv1'])).toEqual([
      expect.objectContaining({ version: 3, categories: ['shelf-y'] }),
    ]);
    // The same version again (a retried write) still counts.
    await hot.writeRecords([], [shelf('mv1', 3, 'shelf-y', 7)]);
    expect(await redis.zscore(hot.popularityKey('ALL_TIME', 'shelf-y'), 'mv1')).toBe('7');
  });

  test('moves reaching Redis in reverse order leave the item where the newest put it', async () => {
    // x -> y (version 2), then y -> x (version 3): the second move's write
    // comes first. The first's late write must not take the item off shelf-x,
    // where the newest record has it.
    await hot.writeRecords([], [shelf('mv2', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('mv2', 3, 'shelf-x')], new Map([['mv2', ['shelf-y']]]));
    await hot.writeRecords([], [shelf('mv2', 2, 'shelf-y')], new Map([['mv2', ['shelf-x']]]));
    expect(await listed('mv2')).toEqual(['shelf-x']);
    expect(await hot.getItems(['mv2'])).toEqual([
      expect.objectContaining({ version: 3, categories: ['shelf-x'] }),
    ]);
  });

  test('a move after a newer pipeline write still takes the item off its old shelf', async () => {
    // The catalogue moved mv3 from shelf-x to shelf-z (version 2); a pipeline
    // batch then wrote version 3 (on shelf-z) before the catalogue's write.
    await hot.writeRecords([], [shelf('mv3', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('mv3', 3, 'shelf-z')]);
    await hot.writeRecords([], [shelf('mv3', 2, 'shelf-z')], new Map([['mv3', ['shelf-x']]]));
    expect(await listed('mv3')).toEqual(['shelf-z']);
  });

  test("a move that never reached Redis is mended by the item's next write", async () => {
    // mv4 was on shelf-x; the catalogue moved it to shelf-y, but that write
    // was lost (Redis down, then the gateway restarted). A pipeline batch then
    // writes the newer record, which knows nothing of the move.
    await hot.writeRecords([], [shelf('mv4', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('mv4', 3, 'shelf-y')]);
    expect(await listed('mv4')).toEqual(['shelf-y']);
  });

  test('a Redis that lost a move gets it back from the next newer write', async () => {
    await hot.writeRecords([], [shelf('mv5', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('mv5', 2, 'shelf-y')], new Map([['mv5', ['shelf-x']]]));
    // Redis restarted from a snapshot taken before the move, or lost the
    // key: the old record is back, and with it the old shelf.
    await redis.del(hot.itemKey('mv5'));
    await hot.writeRecords([], [shelf('mv5', 1, 'shelf-x')]);
    expect(await listed('mv5')).toEqual(['shelf-x', 'shelf-y']);
    await hot.writeRecords([], [shelf('mv5', 3, 'shelf-y')]);
    expect(await listed('mv5')).toEqual(['shelf-y']);
  });

  test('deeply nested attributes change nothing in how categories are left', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 1200; i += 1) deep = [deep];
    const nested = (version: number, category: string) => ({
      ...shelf('mv6', version, category),
      attributes: { deep },
    });
    await hot.writeRecords([], [nested(1, 'shelf-x')]);
    await hot.writeRecords([], [nested(3, 'shelf-x')], new Map([['mv6', ['shelf-y']]]));
    await hot.writeRecords([], [nested(2, 'shelf-y')], new Map([['mv6', ['shelf-x']]]));
    expect(await listed('mv6')).toEqual(['shelf-x']);
    expect(await hot.getItems(['mv6'])).toEqual([expect.objectContaining({ version: 3 })]);
  });

  test('a record stored without its category list is read from its JSON', async () => {
    // Written by an earlier version of recflow: "<version>|<json>" alone.
    const oldFormat = (item: ItemFeatures) => `${item.version}|${JSON.stringify(item)}`;
    await hot.writeRecords([], [shelf('mv7', 1, 'shelf-x')]);
    await redis.set(hot.itemKey('mv7'), oldFormat(shelf('mv7', 1, 'shelf-x')));
    expect(await hot.getItems(['mv7'])).toEqual([expect.objectContaining({ version: 1 })]);
    await hot.writeRecords([], [shelf('mv7', 2, 'shelf-y')]);
    expect(await listed('mv7')).toEqual(['shelf-y']);

    // A late move meeting a newer record in the old format.
    await hot.writeRecords([], [shelf('mv8', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('mv8', 3, 'shelf-y')]);
    await redis.set(hot.itemKey('mv8'), oldFormat(shelf('mv8', 3, 'shelf-y')));
    await hot.writeRecords([], [shelf('mv8', 2, 'shelf-y')], new Map([['mv8', ['shelf-x']]]));
    expect(await listed('mv8')).toEqual(['shelf-y']);

    // Old JSON too deep for Redis to parse: a move still leaves what it left.
    let deep: unknown = 'leaf';
    for (let i = 0; i < 1200; i += 1) deep = [deep];
    await hot.writeRecords([], [shelf('mv9', 1, 'shelf-x')]);
    const unreadable = { ...shelf('mv9', 3, 'shelf-y'), attributes: { deep } };
    await hot.writeRecords([], [unreadable]);
    await redis.set(hot.itemKey('mv9'), oldFormat(unreadable));
    await hot.writeRecords([], [shelf('mv9', 2, 'shelf-y')], new Map([['mv9', ['shelf-x']]]));
    expect(await listed('mv9')).toEqual(['shelf-y']);
  });

  test('item records do not expire, as the sets naming them do not', async () => {
    await hot.writeRecords([], [shelf('ttl1', 1, 'shelf-x')]);
    expect(await redis.ttl(hot.itemKey('ttl1'))).toBe(-1);
    // A remembered absence still expires, and a record replacing it does not.
    await hot.writeAbsent('item', ['ttl2']);
    expect(await redis.ttl(hot.itemKey('ttl2'))).toBeGreaterThan(0);
    await hot.writeRecords([], [shelf('ttl2', 1, 'shelf-x')]);
    expect(await redis.ttl(hot.itemKey('ttl2'))).toBe(-1);
  });

  test('a refill ahead of the stored record, then a lost move, still converges', async () => {
    await hot.writeRecords([], [shelf('mv10', 1, 'shelf-x')]);
    // The move x -> y (version 2) is on its way; a refill of shelf-y reads
    // PostgreSQL's version 2 first. Then the move y -> z is lost.
    await hot.fillPopular(hot.popularityKey('ALL_TIME', 'shelf-y'), 'shelf-y', [
      { itemId: 'mv10', score: 5, version: 2 },
    ]);
    await hot.writeRecords([], [shelf('mv10', 4, 'shelf-z')]);
    expect(await listed('mv10')).toEqual(['shelf-z']);
  });

  test('an item a refill listed with no record leaves that list once it has one', async () => {
    // Created on shelf-x; the record's write to Redis was lost. A refill of
    // shelf-x lists the item (PostgreSQL had it there), and notes it.
    await hot.fillPopular(hot.popularityKey('ALL_TIME', 'shelf-x'), 'shelf-x', [
      { itemId: 'st1', score: 1, version: 1 },
    ]);
    await hot.fillPopular(hot.popularityKey('DAY', 'shelf-x'), 'shelf-x', [
      { itemId: 'st1', score: 1, version: 1 },
    ]);
    // Still no record as far as readers go: a miss, read from PostgreSQL.
    expect(await hot.getItems(['st1'])).toEqual([undefined]);
    // The move to shelf-y was lost too; the next write is a pipeline batch's.
    await hot.writeRecords([], [shelf('st1', 3, 'shelf-y')]);
    expect(await listed('st1')).toEqual(['shelf-y']);
    expect(await redis.zscore(hot.popularityKey('DAY', 'shelf-x'), 'st1')).toBeNull();

    // Withdrawn instead, it leaves every list the refill put it in.
    await hot.fillPopular(hot.popularityKey('ALL_TIME', 'shelf-x'), 'shelf-x', [
      { itemId: 'st2', score: 1, version: 1 },
    ]);
    await hot.writeRecords([], [{ ...shelf('st2', 3, 'shelf-y'), available: false }]);
    expect(await listed('st2')).toEqual([]);
  });

  test('two writes of one item in one call leave it where the newer one puts it', async () => {
    await hot.writeRecords([], [shelf('tw1', 1, 'shelf-x')]);
    await hot.writeRecords([], [shelf('tw1', 2, 'shelf-y'), shelf('tw1', 3, 'shelf-x')]);
    expect(await listed('tw1')).toEqual(['shelf-x']);
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
