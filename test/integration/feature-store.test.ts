/**
 * FeatureStore.loaders() against PostgreSQL and a redis-server of our own,
 * which this file kills and restarts to see the fallback and the refill.
 */
import { Metrics } from '../../src/observability/metrics';
import { HotCopyWriter } from '../../src/pipeline/hot-copy';
import { silentLogger } from '../../src/observability/logger';
import { type FeatureLoaders, FeatureStore, popularKey } from '../../src/storage/feature-store';
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import { catalogue, storedEvent as event, T0 } from '../support/features';
import { eventually } from '../support/recflow';
import { ownRedis, type OwnServer } from '../support/own-servers';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(30_000);

const NEIGHBOURS = 10;

let env: IsolatedEnv;
let server: OwnServer;
let db: Db;
let redis: RedisClient;
let hot: HotStore;
let repository: FeatureRepository;
let metrics: Metrics;
let store: FeatureStore;

beforeAll(async () => {
  server = await ownRedis();
  env = await isolatedEnv({ RECFLOW_REDIS_URL: server.url });
  db = createDb(env.config.postgres.url, 4);
  redis = createRedis(server.url, 300);
  redis.on('error', () => undefined);
  await redis.connect();
  hot = new HotStore(redis, env.config.redis.prefix);
  repository = new FeatureRepository(db);
  metrics = new Metrics({ defaultMetrics: false });
  store = new FeatureStore(hot, repository, metrics, silentLogger(), {
    neighbourDepth: NEIGHBOURS,
  });

  await new CatalogRepository(db).upsertItems(catalogue(6));
  await repository.applyBatch(
    [
      event('f1', 'u1', 'i00', T0, 'PURCHASE'),
      event('f2', 'u1', 'i01', T0 + 1_000, 'CLICK'),
      event('f3', 'u2', 'i01', T0 + 2_000, 'VIEW'),
      event('f4', 'u2', 'i02', T0 + 3_000, 'RATE', 4),
      event('f5', 'u2', 'i00', T0 + 4_000, 'DISLIKE'),
    ],
    300_000,
  );
});

afterAll(async () => {
  redis?.disconnect();
  await db?.$disconnect();
  await server?.dispose();
  // The keys lived on our own server, which is gone; this drops the database.
  await env?.dropDatabase();
});

async function roundTrips(): Promise<Record<string, number>> {
  const { values } = await metrics.storeRoundTrips.get();
  return Object.fromEntries(values.map((v) => [`${v.labels.store}:${v.labels.kind}`, v.value]));
}

/** Loads everything this file checks, in one tick, so each kind is one batch. */
async function loadAll(loaders: FeatureLoaders, userIds = ['u1', 'u2']) {
  const [users, items, neighbours, popular] = await Promise.all([
    loaders.users.loadMany(userIds),
    loaders.items.loadMany(['i00', 'i01', 'i02']),
    loaders.neighboursOf(['i00', 'i01']),
    loaders.popularOf([popularKey('ALL_TIME', null)]).then(([list]) => list),
  ]);
  return { users, items, neighbours, popular };
}

async function expected(userIds = ['u1', 'u2']) {
  const users = await repository.loadUsers(userIds);
  const items = await repository.loadItems(['i00', 'i01', 'i02']);
  const neighbours = await repository.neighbours(['i00', 'i01'], NEIGHBOURS);
  const popular = (await repository.popular('ALL_TIME', null, 500)).map(({ itemId, score }) => ({
    itemId,
    score,
  }));
  return {
    users: userIds.map((id) => users.get(id) ?? null),
    items: ['i00', 'i01', 'i02'].map((id) => items.get(id)),
    neighbours: ['i00', 'i01'].map((id) =>
      (neighbours.get(id) ?? []).map((n) => ({ itemId: n.itemId, score: n.weight })),
    ),
    popular,
  };
}

function delta(before: Record<string, number>, after: Record<string, number>) {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return Object.fromEntries(
    [...keys].map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]).filter(([, d]) => d !== 0),
  );
}

test('a cold read asks PostgreSQL once per kind and refills Redis', async () => {
  const before = await roundTrips();

  const loaded = await loadAll(store.loaders(), ['u1', 'u2', 'nobody']);

  expect(loaded).toEqual(await expected(['u1', 'u2', 'nobody']));
  expect(loaded.users[0]).toMatchObject({ userId: 'u1', events: 2 });
  expect(loaded.users[2]).toBeNull();
  expect(loaded.neighbours[0]).toEqual([{ itemId: 'i01', score: 1 }]);
  expect(delta(before, await roundTrips())).toEqual({
    'redis:user': 1,
    // No user has a key yet: one lookup in the known-users filter (not built here).
    'redis:known-users': 1,
    'redis:item': 1,
    'redis:neighbours': 1,
    'redis:popular': 1,
    'postgres:user': 1,
    'postgres:item': 1,
    'postgres:neighbours': 1,
    'postgres:popular': 1,
  });
  await eventually(
    async () =>
      (await redis.exists(hot.userKey('u2'), hot.itemKey('i02'), hot.neighboursKey('i01'))) === 3,
    5000,
    'the refill of Redis',
  );
});

test('a warm read is served from Redis without a PostgreSQL query', async () => {
  await eventually(
    async () =>
      (await redis.exists(hot.popularityKey('ALL_TIME'), hot.userKey('u1'))) === 2 &&
      // The user's value holds a complete seen list.
      (await hot.getUsers(['u1']))[0] !== undefined,
    5000,
    'a warm Redis',
  );
  const before = await roundTrips();

  const loaded = await loadAll(store.loaders());

  expect(loaded).toEqual(await expected());
  expect(delta(before, await roundTrips())).toEqual({
    'redis:user': 1,
    'redis:item': 1,
    'redis:neighbours': 1,
    'redis:popular': 1,
  });
});

test('with Redis killed reads come from PostgreSQL; a restarted Redis is refilled', async () => {
  const want = await expected();
  await server.stop();

  // Reads stay correct while Redis is down, and the circuit opens.
  for (let n = 0; n < 3; n += 1) {
    const started = Date.now();
    expect(await loadAll(store.loaders())).toEqual(want);
    expect(Date.now() - started).toBeLessThan(2000);
  }
  expect(store.redisCircuit.state).toBe('open');
  const fallbacks = (await metrics.storeFallbacks.get()).values;
  expect(fallbacks.reduce((sum, v) => sum + v.value, 0)).toBeGreaterThan(0);
  expect((await metrics.circuitState.get()).values).toEqual([
    expect.objectContaining({ labels: { dependency: 'redis' }, value: 1 }),
  ]);

  // The new Redis is empty (nothing on disk); the next reads refill it.
  await server.start();
  await eventually(async () => redis.status === 'ready', 10_000, 'ioredis to reconnect');
  expect(await redis.exists(hot.userKey('u1'))).toBe(0);
  await eventually(
    async () => {
      expect(await loadAll(store.loaders())).toEqual(want);
      return (
        (await redis.exists(hot.userKey('u1'), hot.itemKey('i00'))) === 2 &&
        (await hot.getUsers(['u1']))[0] !== undefined
      );
    },
    10_000,
    'the refill of the restarted Redis',
  );
  expect(store.redisCircuit.state).toBe('closed');
});

test('popular lists are read once per cache period, whichever request asks', async () => {
  const cached = new FeatureStore(hot, repository, metrics, silentLogger(), {
    neighbourDepth: NEIGHBOURS,
    popularCacheMs: 60_000,
  });
  const [first] = await cached.loaders().popularOf([popularKey('ALL_TIME', null)]);
  const before = await roundTrips();
  const [again] = await cached.loaders().popularOf([popularKey('ALL_TIME', null)]);
  expect(again).toEqual(first);
  expect(delta(before, await roundTrips())).toEqual({});
  const [other] = await cached.loaders().popularOf([popularKey('DAY', null)]);
  expect(other).toEqual(
    await store
      .loaders()
      .popularOf([popularKey('DAY', null)])
      .then(([list]) => list),
  );
});

test('neighbours and items are read once per cache period, each item on its own', async () => {
  const cached = new FeatureStore(hot, repository, metrics, silentLogger(), {
    neighbourDepth: NEIGHBOURS,
    itemCacheMs: 60_000,
    neighbourCacheMs: 60_000,
  });
  const first = await cached.loaders().neighboursOf(['i00', 'i01']);
  await cached.loaders().items.loadMany(['i00', 'i01']);
  const before = await roundTrips();
  expect(await cached.loaders().neighboursOf(['i01', 'i00'])).toEqual([first[1], first[0]]);
  await cached.loaders().items.loadMany(['i01', 'i00']);
  expect(delta(before, await roundTrips())).toEqual({});
  // An item not read before costs one read of its own (i02 is cold: Redis, then PostgreSQL).
  await cached.loaders().neighboursOf(['i00', 'i02']);
  expect(delta(before, await roundTrips())).toEqual({
    'redis:neighbours': 1,
    'postgres:neighbours': 1,
  });
});

test('a list a lost write left short is read from PostgreSQL again, not served', async () => {
  const writer = new HotCopyWriter(hot, NEIGHBOURS, silentLogger());
  const apply = (id: string, item: string, at: number) =>
    repository.applyBatch([event(id, 'u-lost', item, T0 + at, 'VIEW')], 300_000);
  await writer.write(await apply('l1', 'i03', 10_000));
  expect((await hot.getUsers(['u-lost']))[0]?.seen).toEqual(['i03']);
  // The second batch commits, but its write never reaches Redis (the worker
  // died with it pending, or it was dropped for room); the third's does.
  await apply('l2', 'i04', 11_000);
  await writer.write(await apply('l3', 'i05', 12_000));
  expect(await hot.getUsers(['u-lost'])).toEqual([undefined]);

  const before = await roundTrips();
  const loaded = await store.loaders().users.load('u-lost');
  expect(loaded?.seen.sort()).toEqual(['i03', 'i04', 'i05']);
  expect(delta(before, await roundTrips())).toEqual({ 'redis:user': 1, 'postgres:user': 1 });
});
