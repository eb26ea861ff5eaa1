/**
 * recflow in use while its dependencies fail: Redis stopped (reads fall back
 * to PostgreSQL, answers stay correct, Redis refills when back), NATS
 * stopped (event mutations answer a retryable error, queries keep working),
 * and SIGTERM (graceful shutdown, WebSockets closed with 1001).
 */
import Redis from 'ioredis';
import {
  cleanUp,
  eventId,
  eventually,
  exited,
  gql,
  spawnCli,
  startRecflow,
  type TestRecflow,
  wsClient,
} from '../support/recflow';
import { ownNats, ownRedis, type OwnServer } from '../support/own-servers';
import { isolatedEnv } from '../support/services';
import { parseUserValue } from '../../src/storage/redis/user-codec';

jest.setTimeout(90_000);

const RECOMMEND = `query($u: ID!) {
  recommendations(userId: $u, limit: 5) { strategy degradedSources items { item { id } } }
}`;
const RECORD = `mutation($i: EventInput!) { recordEvent(input: $i) { status } }`;
const ITEMS = `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created } }`;

async function seed(rf: TestRecflow) {
  await gql(rf.url, ITEMS, {
    i: ['a', 'b', 'c', 'd'].map((id) => ({ id, title: `Item ${id}`, categories: ['X'] })),
  });
  for (const user of ['p', 'q']) {
    for (const item of ['a', 'b', 'c']) {
      await gql(rf.url, RECORD, {
        i: { eventId: eventId(), userId: user, itemId: item, type: 'LIKE' },
      });
    }
  }
  await gql(rf.url, RECORD, { i: { eventId: eventId(), userId: 'me', itemId: 'a', type: 'LIKE' } });
  await eventually(
    async () => {
      const r = await gql(rf.url, `{ user(id: "me") { features { events } } }`);
      return r.data?.user?.features?.events === 1;
    },
    15_000,
    'seed events applied',
  );
}

const ids = (r: { data?: any }) =>
  r.data.recommendations.items.map((i: { item: { id: string } }) => i.item.id);

describe('with Redis stopped', () => {
  let redis: OwnServer;
  let rf: TestRecflow;

  beforeAll(async () => {
    redis = await ownRedis();
    rf = await startRecflow({ env: { RECFLOW_REDIS_URL: redis.url } });
    await seed(rf);
  });

  afterAll(async () => {
    await rf.stop();
    await redis.start().catch(() => undefined);
    await cleanUp({ ...rf.env, env: { ...rf.env.env, RECFLOW_REDIS_URL: redis.url } });
    await redis.dispose();
  });

  test('answers stay correct from PostgreSQL, events apply, Redis refills', async () => {
    const before = await gql(rf.url, RECOMMEND, { u: 'me' });
    expect(before.errors).toBeUndefined();
    expect(ids(before)).toEqual(expect.arrayContaining(['b', 'c']));

    await redis.stop();
    const during = await gql(rf.url, RECOMMEND, { u: 'me' });
    expect(during.errors).toBeUndefined();
    expect(ids(during)).toEqual(ids(before));
    const ready = await fetch(rf.url.replace(/graphql$/, 'ready'));
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { redis: boolean } }).checks.redis).toBe(false);

    // The pipeline keeps applying events to PostgreSQL, and reads see them.
    await gql(rf.url, RECORD, {
      i: { eventId: eventId(), userId: 'me', itemId: 'b', type: 'LIKE' },
    });
    await eventually(
      async () => {
        const r = await gql(rf.url, RECOMMEND, { u: 'me' });
        return r.errors === undefined && !ids(r).includes('b');
      },
      15_000,
      'the new like to exclude b',
    );

    await redis.start();
    const client = new Redis(redis.url);
    await eventually(
      async () => {
        await gql(rf.url, RECOMMEND, { u: 'me' });
        return (await client.exists(`${rf.config.redis.prefix}u:me`)) === 1;
      },
      15_000,
      'redis to be refilled',
    );
    const cached = parseUserValue('me', await client.get(`${rf.config.redis.prefix}u:me`));
    client.disconnect();
    expect(cached?.record.events).toBe(2);
  });
});

describe('with NATS stopped', () => {
  let nats: OwnServer;
  let rf: TestRecflow;

  beforeAll(async () => {
    nats = await ownNats();
    rf = await startRecflow({ env: { RECFLOW_NATS_URL: nats.url } });
    await seed(rf);
  });

  afterAll(async () => {
    await nats.start().catch(() => undefined);
    await rf.stop();
    await cleanUp(rf.env);
    await nats.dispose();
  });

  test('events answer INGESTION_UNAVAILABLE, never accepted; queries work', async () => {
    await nats.stop();
    const started = Date.now();
    const r = await gql(rf.url, RECORD, {
      i: { eventId: eventId(), userId: 'me', itemId: 'c', type: 'VIEW' },
    });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.data?.recordEvent ?? null).toBeNull();
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'INGESTION_UNAVAILABLE',
      retryable: true,
    });

    const query = await gql(rf.url, RECOMMEND, { u: 'me' });
    expect(query.errors).toBeUndefined();
    expect(ids(query).length).toBeGreaterThan(0);

    await nats.start();
    await eventually(
      async () => {
        const again = await gql(rf.url, RECORD, {
          i: { eventId: eventId(), userId: 'me', itemId: 'c', type: 'VIEW' },
        });
        return again.data?.recordEvent?.status === 'ACCEPTED';
      },
      20_000,
      'ingestion to recover',
    );
  });
});

describe('with NATS restarted without its storage', () => {
  let nats: OwnServer;
  let rf: TestRecflow;

  beforeAll(async () => {
    nats = await ownNats();
    rf = await startRecflow({ env: { RECFLOW_NATS_URL: nats.url } });
  });

  afterAll(async () => {
    await rf.stop();
    await cleanUp(rf.env);
    await nats.dispose();
  });

  test('the stream and the consumer are created again, and events flow', async () => {
    await nats.stop();
    nats.wipe?.();
    await nats.start();
    await eventually(
      async () => {
        const r = await gql(rf.url, RECORD, {
          i: { eventId: eventId(), userId: 'reborn', itemId: 'a', type: 'VIEW' },
        });
        return r.data?.recordEvent?.status === 'ACCEPTED';
      },
      20_000,
      'ingestion on the new server',
    );
    await eventually(
      async () => {
        const r = await gql(rf.url, '{ user(id: "reborn") { features { events } } }');
        return (r.data?.user?.features?.events ?? 0) >= 1;
      },
      30_000,
      'the worker to apply it',
    );
    const ready = await fetch(rf.url.replace(/graphql$/, 'ready'));
    expect(ready.status).toBe(200);
  });
});

describe('on SIGTERM', () => {
  test('the server stops accepting, closes WebSockets with 1001 and exits 0', async () => {
    const env = await isolatedEnv({ RECFLOW_LOG_LEVEL: 'info' });
    const child = spawnCli(['serve', '--role', 'all'], env.env);
    try {
      const line = await eventually(
        async () => /"endpoint":"([^"]+)"/.exec(child.output())?.[1],
        20_000,
        'listening',
      );
      const url = line;
      const client = wsClient(url.replace(/^http/, 'ws'));
      let closeCode: number | undefined;
      client.on('closed', (event) => (closeCode = (event as { code: number }).code));
      let lists = 0;
      client.subscribe(
        { query: 'subscription { recommendationsUpdated(userId: "z") { strategy } }' },
        { next: () => (lists += 1), error: () => undefined, complete: () => undefined },
      );
      await eventually(async () => lists > 0, 10_000, 'first list');

      child.kill('SIGTERM');
      const end = await exited(child);
      expect(end.code).toBe(0);
      await eventually(async () => closeCode !== undefined, 5000, 'socket close');
      expect(closeCode).toBe(1001);
      await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
      const log = child.output();
      expect(log.indexOf('shutting down')).toBeLessThan(log.indexOf('"msg":"stopped"'));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await cleanUp(env);
    }
  });
});

describe('stopping a worker while NATS is down', () => {
  let nats: OwnServer;
  let rf: TestRecflow | undefined;

  beforeAll(async () => {
    nats = await ownNats();
  });

  afterAll(async () => {
    await nats.start().catch(() => undefined);
    await rf?.stop();
    if (rf) await cleanUp(rf.env);
    await nats.dispose();
  });

  test('the worker stops within seconds instead of waiting for NATS', async () => {
    rf = await startRecflow({ role: 'worker', env: { RECFLOW_NATS_URL: nats.url } });
    // Idle long enough for a pull to be open on the server when it goes.
    await new Promise((r) => setTimeout(r, 2500));
    await nats.stop();
    await new Promise((r) => setTimeout(r, 300));

    const started = Date.now();
    const stopped = await Promise.race([
      rf.stop().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref()),
    ]);
    expect(stopped).toBe(true);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(rf.app.worker?.health().state).toBe('stopped');
  });
});
