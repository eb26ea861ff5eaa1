/**
 * Horizontal scale: two stateless gateways and two competing workers on one
 * stream. A subscription on one gateway sees changes recorded through the
 * other, because notices travel over NATS, not through process memory.
 */
import { RecflowApp } from '../../src/app/app';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/observability/logger';
import { waitForPipeline } from '../../src/pipeline/wait';
import { cleanUp, eventId, eventually, gql, wsClient } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(60_000);

let env: IsolatedEnv;
const apps: RecflowApp[] = [];

beforeAll(async () => {
  // Small pulls, so that both workers get a share of the messages.
  // Long caches, so that only the catalogue notice can explain a prompt change.
  env = await isolatedEnv({
    RECFLOW_WORKER_BATCH: '20',
    RECFLOW_ITEM_CACHE: '60s',
    RECFLOW_POPULAR_CACHE: '60s',
  });
  const config = loadConfig(env.env);
  for (const role of ['worker', 'worker', 'gateway', 'gateway'] as const) {
    apps.push(await RecflowApp.start({ config, role, log: silentLogger() }));
  }
});

afterAll(async () => {
  for (const app of apps) await app.stop();
  await cleanUp(env);
});

test('a subscription on one gateway is pushed a change recorded through another', async () => {
  const [, , a, b] = apps;
  const urlA = a.gateway?.url ?? '';
  const urlB = b.gateway?.url ?? '';
  expect(urlA).not.toBe(urlB);

  const client = wsClient(urlB.replace(/^http/, 'ws'));
  const pushes: string[][] = [];
  const dispose = client.subscribe(
    {
      query: 'subscription { recommendationsUpdated(userId: "roamer") { items { item { id } } } }',
    },
    {
      next: (msg: any) =>
        pushes.push(msg.data.recommendationsUpdated.items.map((i: any) => i.item.id)),
      error: () => undefined,
      complete: () => undefined,
    },
  );
  await eventually(async () => pushes.length >= 1, 10_000, 'the initial list');

  const r = await gql(urlA, 'mutation($i: EventInput!) { recordEvent(input: $i) { status } }', {
    i: { eventId: eventId(), userId: 'roamer', itemId: 'x1', type: 'LIKE' },
  });
  expect(r.data.recordEvent.status).toBe('ACCEPTED');
  await eventually(async () => pushes.length >= 2, 10_000, 'a push on the other gateway');
  dispose();
  await client.dispose();
});

test('two competing workers apply every event exactly once', async () => {
  const [, , a] = apps;
  const url = a.gateway?.url ?? '';
  const inputs = Array.from({ length: 600 }, (_, n) => ({
    eventId: eventId('compete'),
    userId: `c${n % 30}`,
    itemId: `x${n % 17}`,
    type: 'VIEW',
  }));
  for (let i = 0; i < inputs.length; i += 200) {
    const r = await gql(
      url,
      'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { status } }',
      {
        i: inputs.slice(i, i + 200),
      },
    );
    expect(r.errors).toBeUndefined();
  }
  await eventually(
    async () => {
      const workers = apps.slice(0, 2).map((app) => app.worker?.health().processed ?? 0);
      return workers[0] + workers[1] >= 600 && workers;
    },
    30_000,
    'both workers to finish',
  );
  const counts = await Promise.all(
    Array.from({ length: 30 }, (_, u) =>
      gql(url, `{ user(id: "c${u}") { features { events } } }`).then(
        (r) => r.data.user.features.events as number,
      ),
    ),
  );
  expect(counts.reduce((a, b) => a + b, 0)).toBe(600);
  expect(counts.every((c) => c === 20)).toBe(true);
  for (const worker of apps.slice(0, 2))
    expect(worker.worker?.health().processed).toBeGreaterThan(0);
});

test('a catalogue change on one gateway clears the cache of the other', async () => {
  const [, , a, b] = apps;
  const urlA = a.gateway?.url ?? '';
  const urlB = b.gateway?.url ?? '';
  const upsert = 'mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created updated } }';
  await gql(urlA, upsert, { i: [{ id: 'hot-item', title: 'Hot', categories: ['News'] }] });
  const events = Array.from({ length: 3 }, (_, n) => ({
    eventId: eventId(),
    userId: `fan-${n}`,
    itemId: 'hot-item',
    type: 'PURCHASE',
  }));
  await gql(urlA, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { status } }', {
    i: events,
  });
  await waitForPipeline(a.core.nc, a.core.config, 30_000);
  const recommendedOnB = async () => {
    const r = await gql(
      urlB,
      '{ recommendations(userId: "someone", limit: 50) { items { item { id title } } } }',
    );
    return r.data.recommendations.items.map(
      (i: { item: { id: string; title: string } }) => `${i.item.id}:${i.item.title}`,
    ) as string[];
  };

  // B may have cached its lists and records for a minute; a new title through
  // A must show on B at once, and so must a withdrawal.
  await recommendedOnB();
  await gql(urlA, upsert, { i: [{ id: 'hot-item', title: 'Hotter' }] });
  await eventually(
    async () => (await recommendedOnB()).includes('hot-item:Hotter'),
    5_000,
    'the new title on the other gateway',
  );
  await gql(urlA, upsert, { i: [{ id: 'hot-item', available: false }] });
  await eventually(
    async () => !(await recommendedOnB()).some((entry) => entry.startsWith('hot-item:')),
    5_000,
    'the other gateway to drop the withdrawn item',
  );
});
