/**
 * The known-users filter against the local PostgreSQL and Redis: once a
 * build completes, a user Redis misses is asked of PostgreSQL only if the
 * filter may hold it; every user with features, built in or written since,
 * is still found; and whoever may have lost bits withdraws the mark.
 */
import { Metrics } from '../../src/observability/metrics';
import { silentLogger } from '../../src/observability/logger';
import { HotCopyWriter } from '../../src/pipeline/hot-copy';
import { KnownUsersBuilder } from '../../src/pipeline/known-users-builder';
import { FeatureStore } from '../../src/storage/feature-store';
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import { KnownUsers } from '../../src/storage/redis/known-users';
import { catalogue, storedEvent as event, T0 } from '../support/features';
import { cleanUp } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(30_000);

/** A repository that records which user ids it was asked for. */
class WatchedRepository extends FeatureRepository {
  asked: string[] = [];

  override loadUsers(ids: readonly string[]) {
    this.asked.push(...ids);
    return super.loadUsers(ids);
  }
}

let env: IsolatedEnv;
let db: Db;
let redis: RedisClient;
let hot: HotStore;
let known: KnownUsers;
let repository: WatchedRepository;
let store: FeatureStore;

beforeAll(async () => {
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 4);
  redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  hot = new HotStore(redis, env.config.redis.prefix);
  known = new KnownUsers(redis, hot);
  repository = new WatchedRepository(db);
  store = new FeatureStore(
    hot,
    repository,
    new Metrics({ defaultMetrics: false }),
    silentLogger(),
    {
      neighbourDepth: 10,
    },
  );
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

function builder(pageSize = 2): KnownUsersBuilder {
  return new KnownUsersBuilder(known, repository, silentLogger(), { pageSize });
}

/** Loads users through a fresh set of loaders; returns who was found and whom PostgreSQL was asked. */
async function load(ids: string[]) {
  repository.asked = [];
  const users = await store.loaders().users.loadMany(ids);
  return {
    found: users.map((u) => (u && !(u instanceof Error) ? u.userId : null)),
    asked: [...repository.asked].sort(),
  };
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

test('after a build, strangers cost no query and every user with features is still found', async () => {
  // Three users in pages of two: the build reads past its first page.
  await builder().check();
  expect(await known.complete()).toBe(true);

  const read = await load(['u1', 'u2', 'u3', 'stranger-b', 'stranger-c']);

  expect(read.found).toEqual(['u1', 'u2', 'u3', null, null]);
  expect(read.asked).toEqual(['u1', 'u2', 'u3']);
  // Strangers are not written to Redis as remembered absences either.
  expect(await redis.exists(hot.userKey('stranger-b'))).toBe(0);
  await dropHotRecords(['u1', 'u2', 'u3']);
});

test('a user the pipeline writes after the build is known, once its hot record is gone', async () => {
  expect(await known.complete()).toBe(true);
  const applied = await repository.applyBatch([event('k4', 'late', 'i03', T0, 'LIKE')], 300_000);
  await new HotCopyWriter(hot, 10, silentLogger(), known).write(applied);
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
  const stalled = new KnownUsersBuilder(
    known,
    {
      userIdsAfter: async () => {
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

test('without the mark, as after a Redis restart, strangers are asked of PostgreSQL again', async () => {
  await known.withdraw();

  const read = await load(['stranger-d']);

  expect(read.found).toEqual([null]);
  expect(read.asked).toEqual(['stranger-d']);
});

test('a hot-copy writer that dropped queued user writes withdraws the mark once Redis takes writes', async () => {
  await builder().check();
  expect(await known.complete()).toBe(true);
  const failing = Object.create(hot) as HotStore;
  let down = true;
  // Once Redis is back, the writes are taken (here without writing 100,000 keys).
  failing.writeBatch = () =>
    down ? Promise.reject(new Error('Redis is down')) : Promise.resolve();
  const writer = new HotCopyWriter(failing, 10, silentLogger(), known);

  // Past the writer's queue limit (100,000 records), the oldest are dropped.
  const interactions = Array.from({ length: 100_001 }, (_, n) => ({
    userId: `queued-${n}`,
    itemId: 'i00',
  }));
  expect(await writer.write({ users: [], items: [], pairs: [], interactions })).toBe(false);
  expect(await known.complete()).toBe(true);

  down = false;
  expect(await writer.flush()).toBe(true);
  expect(await known.complete()).toBe(false);
});

test('a build page, and a read, of thousands of users at once', async () => {
  const token = 'large-page';
  expect(await known.begin(token, true)).toBe(true);
  const members = Array.from({ length: 5000 }, (_, n) => `member-${n}`);
  expect(await known.add(token, members)).toBe(true);
  expect(await known.finish(token)).toBe(true);

  const strangers = Array.from({ length: 5000 }, (_, n) => `passer-by-${n}`);
  const read = await hot.getUsers([...members, ...strangers]);

  // Members have no hot record: a miss, for PostgreSQL to answer.
  expect(read.slice(0, 5000).every((u) => u === undefined)).toBe(true);
  expect(read.slice(5000).every((u) => u === null)).toBe(true);
});
