/**
 * The parts of the hot copy trusted only while marked whole, against the
 * local PostgreSQL and Redis.
 *
 * The known-users filter: once a build completes, a user Redis misses is
 * asked of PostgreSQL only if the filter may hold it; every user with
 * features, built in or written since, is still found; and whoever may have
 * lost bits withdraws the mark.
 *
 * The neighbour and popularity sets: a build fills every set from
 * PostgreSQL, so reads need no query; a set only the pipeline wrote is
 * still read from PostgreSQL once, then filled.
 */
import { Metrics } from '../../src/observability/metrics';
import { silentLogger } from '../../src/observability/logger';
import { HotCopyWriter } from '../../src/pipeline/hot-copy';
import { HotCopyBuilder } from '../../src/pipeline/hot-copy-builder';
import { knownUsersPart, neighboursPart, popularPart } from '../../src/pipeline/hot-copy-parts';
import type { PopularityWindow } from '../../src/domain/features';
import { popularKey } from '../../src/storage/feature-store';
import { FeatureStore } from '../../src/storage/feature-store';
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import type { BuildMark } from '../../src/storage/redis/build-mark';
import { catalogue, itemRecord, storedEvent as event, T0 } from '../support/features';
import { cleanUp, eventually } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(30_000);

/** A repository that records which user ids, and whose neighbours, it was asked for. */
class WatchedRepository extends FeatureRepository {
  asked: string[] = [];
  neighboursAsked: string[] = [];

  override loadUsers(ids: readonly string[]) {
    this.asked.push(...ids);
    return super.loadUsers(ids);
  }

  override neighbours(ids: readonly string[], k: number) {
    this.neighboursAsked.push(...ids);
    return super.neighbours(ids, k);
  }

  popularAsked: string[] = [];

  override popular(window: PopularityWindow, category: string | null, k: number) {
    this.popularAsked.push(`${window}:${category ?? ''}`);
    return super.popular(window, category, k);
  }
}

let env: IsolatedEnv;
let db: Db;
let redis: RedisClient;
let hot: HotStore;
let known: BuildMark;
let repository: WatchedRepository;
let store: FeatureStore;
let metrics: Metrics;

beforeAll(async () => {
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 4);
  redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  hot = new HotStore(redis, env.config.redis.prefix);
  known = hot.marks.users;
  repository = new WatchedRepository(db);
  metrics = new Metrics({ defaultMetrics: false });
  store = new FeatureStore(hot, repository, metrics, silentLogger(), {
    neighbourDepth: 10,
  });
  await new CatalogRepository(db).upsertItems(catalogue(4));
  // In PostgreSQL only: Redis has no hot record of these users.
  await repository.applyBatch(
    [
      event('k1', 'u1', 'i00', T0, 'PURCHASE'),
      event('k2', 'u2', 'i01', T0 + 1_000, 'CLICK'),
      event('k3', 'u3', 'i02', T0 + 2_000, 'VIEW'),
    ],
    300_000,
  );
});

afterAll(async () => {
  redis.disconnect();
  await db.$disconnect();
  await cleanUp(env);
});

function builder(pageSize = 2): HotCopyBuilder {
  return new HotCopyBuilder(knownUsersPart(hot, repository), silentLogger(), { pageSize });
}

/**
 * A hot-copy writer whose Redis refuses writes while `redis.down`, and
 * then takes them without writing them (the tests queue 100,000 records).
 */
function droppingWriter(redis: { down: boolean }): HotCopyWriter {
  const failing = Object.create(hot) as HotStore;
  failing.writeBatch = () =>
    redis.down ? Promise.reject(new Error('Redis is down')) : Promise.resolve();
  return new HotCopyWriter(failing, 10, silentLogger(), hot.marks);
}

function neighbourBuilder(pageSize = 100): HotCopyBuilder {
  const part = neighboursPart(hot, repository, 10);
  return new HotCopyBuilder(part, silentLogger(), { pageSize });
}

/** Loads users through fresh loaders: who was found, and whom PostgreSQL was asked for. */
async function load(ids: string[]) {
  repository.asked = [];
  const users = await store.loaders().users.loadMany(ids);
  return {
    found: users.map((u) => (u && !(u instanceof Error) ? u.userId : null)),
    asked: [...repository.asked].sort(),
  };
}

/** Round trips counted so far that looked users up in the known-users filter. */
async function filterReads(): Promise<number> {
  const { values } = await metrics.storeRoundTrips.get();
  return values.find((v) => v.labels.kind === 'known-users')?.value ?? 0;
}

/** Forgets every hot record of these users, as their TTL would. */
async function dropHotRecords(ids: string[]): Promise<void> {
  await redis.del(...ids.map((id) => hot.userKey(id)));
}

test('without a completed build, every user Redis misses is asked of PostgreSQL', async () => {
  expect(await known.complete()).toBe(false);

  const read = await load(['u1', 'stranger-a']);

  expect(read.found).toEqual(['u1', null]);
  expect(read.asked).toEqual(['stranger-a', 'u1']);
  await dropHotRecords(['u1', 'stranger-a']);
});

test('after a build, strangers cost no query; users with features are found', async () => {
  // Three users in pages of two: the build reads past its first page.
  await builder().check();
  expect(await known.complete()).toBe(true);

  const before = await filterReads();
  const read = await load(['u1', 'u2', 'u3', 'stranger-b', 'stranger-c']);

  expect(read.found).toEqual(['u1', 'u2', 'u3', null, null]);
  expect(read.asked).toEqual(['u1', 'u2', 'u3']);
  // One lookup in the filter, for the five users without a key, counted.
  expect((await filterReads()) - before).toBe(1);
  // Strangers are not written to Redis as remembered absences either.
  expect(await redis.exists(hot.userKey('stranger-b'))).toBe(0);
  await dropHotRecords(['u1', 'u2', 'u3']);
});

test('a user the pipeline writes after the build is known without its hot record', async () => {
  expect(await known.complete()).toBe(true);
  const applied = await repository.applyBatch([event('k4', 'late', 'i03', T0, 'LIKE')], 300_000);
  await new HotCopyWriter(hot, 10, silentLogger(), hot.marks).write(applied);
  await dropHotRecords(['late']);

  const read = await load(['late']);

  expect(read.found).toEqual(['late']);
  expect(read.asked).toEqual(['late']);
});

test('a starting worker supersedes the mark and any build in progress', async () => {
  expect(await known.complete()).toBe(true);
  const other = 'a-build-elsewhere';
  expect(await known.begin(other, false)).toBe(true);
  // No second build starts while one is in progress.
  expect(await known.begin('another', false)).toBe(false);

  // A new builder supersedes: it withdraws the mark before it reads anything.
  const stalled = new HotCopyBuilder(
    {
      ...knownUsersPart(hot, repository),
      ids: async () => {
        expect(await known.complete()).toBe(false);
        throw new Error('PostgreSQL is down');
      },
    },
    silentLogger(),
  );
  await stalled.check();
  expect(await known.complete()).toBe(false);
  // The build it superseded can no longer set the mark.
  expect(await known.finish(other)).toBe(false);
  expect(await known.complete()).toBe(false);

  // Its next check supersedes again and completes.
  await builder().check();
  expect(await known.complete()).toBe(true);
});

test('without the mark (a restarted Redis), strangers are asked of PostgreSQL', async () => {
  await known.withdraw();

  const read = await load(['stranger-d']);

  expect(read.found).toEqual([null]);
  expect(read.asked).toEqual(['stranger-d']);
});

test('a writer that dropped user writes withdraws the mark once Redis is back', async () => {
  await builder().check();
  expect(await known.complete()).toBe(true);
  await neighbourBuilder().check();
  const redisDown = { down: true };
  const writer = droppingWriter(redisDown);

  // Past the writer's queue limit (100,000 records), the oldest are dropped.
  const interactions = Array.from({ length: 100_001 }, (_, n) => ({
    userId: `queued-${n}`,
    itemId: 'i00',
  }));
  expect(await writer.write({ users: [], items: [], pairs: [], interactions })).toBe(false);
  expect(await known.complete()).toBe(true);

  redisDown.down = false;
  expect(await writer.flush()).toBe(true);
  expect(await known.complete()).toBe(false);
  // Only the part whose writes were dropped.
  expect(await hot.marks.neighbours.complete()).toBe(true);
});

test('a build page, and a read, of thousands of users at once', async () => {
  const token = 'large-page';
  expect(await known.begin(token, true)).toBe(true);
  const members = Array.from({ length: 5000 }, (_, n) => `member-${n}`);
  expect(await known.sendPage(hot.knownUsersPipeline(members), token)).toBe(true);
  expect(await known.finish(token)).toBe(true);

  const strangers = Array.from({ length: 5000 }, (_, n) => `passer-by-${n}`);
  const read = await hot.getUsers([...members, ...strangers]);

  // Members have no hot record: a miss, for PostgreSQL to answer.
  expect(read.slice(0, 5000).every((u) => u === undefined)).toBe(true);
  expect(read.slice(5000).every((u) => u === null)).toBe(true);
});

describe('neighbour sets', () => {
  /** Applies co-visits in PostgreSQL and writes them to Redis as the pipeline does. */
  async function covisit(id: string, userId: string, items: string[]) {
    const applied = await repository.applyBatch(
      items.map((itemId, n) => event(`${id}-${n}`, userId, itemId, T0 + n * 1_000, 'VIEW')),
      300_000,
    );
    await new HotCopyWriter(hot, 10, silentLogger(), hot.marks).write(applied);
  }

  async function neighboursOf(itemIds: string[]) {
    repository.neighboursAsked = [];
    const lists = await store.loaders().neighboursOf(itemIds);
    return { lists: lists.map((l) => l.map((n) => n.itemId)), asked: repository.neighboursAsked };
  }

  beforeAll(async () => {
    await hot.marks.neighbours.withdraw();
    // Sets an earlier build filled go: these tests start from what the pipeline writes.
    await redis.del(...['i00', 'i01', 'i02', 'i03'].map((id) => hot.neighboursKey(id)));
    await covisit('nb1', 'viewer', ['i00', 'i01', 'i02']);
  });

  test('a set only the pipeline wrote is read from PostgreSQL', async () => {
    expect(await hot.marks.neighbours.complete()).toBe(false);

    const read = await neighboursOf(['i00']);

    expect(read.lists).toEqual([['i01', 'i02']]);
    expect(read.asked).toEqual(['i00']);
    await redis.del(hot.neighboursKey('i00'));
  });

  test('a build fills every set from PostgreSQL, then marks the part built', async () => {
    await redis.del(hot.neighboursKey('i02'));

    // Four items with features, in pages of three.
    await neighbourBuilder(3).check();
    expect(await hot.marks.neighbours.complete()).toBe(true);
    // An item without pairs gets a filled, empty set, kept for good.
    expect(await redis.zrange(hot.neighboursKey('i03'), 0, -1)).toEqual(['\u0000']);
    expect(await redis.ttl(hot.neighboursKey('i03'))).toBe(-1);

    expect(await redis.zrange(hot.neighboursKey('i02'), 0, -1, 'REV')).toEqual([
      '\u0000',
      'i01',
      'i00',
    ]);
    const read = await neighboursOf(['i00', 'i01', 'i02']);
    expect(read.lists).toEqual([['i01', 'i02'], ['i00', 'i02'], ['i01', 'i00'].sort()]);
    expect(read.asked).toEqual([]);
  });

  test('a set the pipeline makes after the build is read once from PostgreSQL', async () => {
    // As if the item's set had expired, or its first write was lost: the
    // pipeline's next write makes a set with only its own pairs.
    await redis.del(hot.neighboursKey('i03'));
    await covisit('nb2', 'late-viewer', ['i03', 'i00']);
    expect(await redis.zscore(hot.neighboursKey('i03'), '\u0000')).toBeNull();

    const first = await neighboursOf(['i03', 'no-such-item']);

    expect(first.lists).toEqual([['i00'], []]);
    expect(first.asked).toEqual(['i03', 'no-such-item']);
    await eventually(
      async () => (await redis.zscore(hot.neighboursKey('i03'), '\u0000')) !== null,
      5000,
      'the refill of the set',
    );
    expect((await neighboursOf(['i03'])).asked).toEqual([]);
  });

  test('a hot-copy writer that dropped pair writes withdraws the mark', async () => {
    expect(await hot.marks.neighbours.complete()).toBe(true);
    await builder().check();
    const redisDown = { down: true };
    const writer = droppingWriter(redisDown);
    const pairs = Array.from({ length: 100_001 }, (_, n) => ({
      itemA: 'i00',
      itemB: `other-${n}`,
      weight: 1,
    }));

    expect(await writer.write({ users: [], items: [], pairs, interactions: [] })).toBe(false);
    redisDown.down = false;
    expect(await writer.flush()).toBe(true);

    expect(await hot.marks.neighbours.complete()).toBe(false);
    expect(await known.complete()).toBe(true);
  });
});

describe('popularity sets', () => {
  const ALL = popularKey('ALL_TIME', null);

  async function popularOf(keys: string[]) {
    repository.popularAsked = [];
    const lists = await store.loaders().popularOf(keys);
    return { lists: lists.map((l) => l.map((e) => e.itemId)), asked: repository.popularAsked };
  }

  beforeAll(async () => {
    await hot.marks.popular.withdraw();
    // Popularity the pipeline wrote: sets not filled from PostgreSQL.
    const applied = await repository.applyBatch(
      [event('p1', 'fan', 'i01', T0, 'PURCHASE'), event('p2', 'fan', 'i02', T0, 'LIKE')],
      300_000,
    );
    await new HotCopyWriter(hot, 10, silentLogger(), hot.marks).write(applied);
  });

  test('a set only the pipeline wrote is read from PostgreSQL', async () => {
    expect(await redis.exists(hot.popularityKey('ALL_TIME'))).toBe(1);
    expect(await redis.zscore(hot.popularityKey('ALL_TIME'), '\u0000')).toBeNull();

    const read = await popularOf([ALL]);

    expect(read.asked).toEqual(['ALL_TIME:']);
    expect(read.lists[0]).toHaveLength(4);
  });

  test('a build fills every set from PostgreSQL, then marks the part built', async () => {
    const [category] = catalogue(4)[1].categories;
    await redis.del(hot.popularityKey('WEEK', category));

    await new HotCopyBuilder(popularPart(hot, repository), silentLogger(), {
      pageSize: 2,
    }).check();
    expect(await hot.marks.popular.complete()).toBe(true);

    const keys = [ALL, popularKey('WEEK', category), popularKey('DAY', 'no-such-category')];
    const read = await popularOf(keys);
    // Only the list of a category the build did not know is asked of PostgreSQL.
    expect(read.asked).toEqual(['DAY:no-such-category']);
    const want = await Promise.all([
      repository.popular('ALL_TIME', null, 500),
      repository.popular('WEEK', category, 500),
    ]);
    expect(read.lists).toEqual([...want.map((list) => list.map((e) => e.itemId)), []]);
    expect(read.lists[1].length).toBeGreaterThan(0);
  });

  test('a hot-copy writer that dropped item writes withdraws the mark', async () => {
    expect(await hot.marks.popular.complete()).toBe(true);
    const redisDown = { down: true };
    const writer = droppingWriter(redisDown);
    const items = Array.from({ length: 100_001 }, (_, n) => ({
      ...itemRecord(`queued-${n}`),
    }));

    expect(await writer.write({ users: [], items, pairs: [], interactions: [] })).toBe(false);
    redisDown.down = false;
    expect(await writer.flush()).toBe(true);

    expect(await hot.marks.popular.complete()).toBe(false);
  });
});
