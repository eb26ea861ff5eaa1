/**
 * Learned recommendations end to end: events over GraphQL, `recflow train`
 * as a separate process, the gateway swapping the model in on the NATS
 * notice, fold-in for a user the model never saw (pushed over graphql-ws),
 * similar items from the cosine neighbours, and rollback, with queries
 * running throughout that must never fail.
 */
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
import { waitForPipeline } from '../../src/pipeline/wait';

jest.setTimeout(120_000);

let rf: TestRecflow;

/** Two tastes: space films (s0-s9, Sci-Fi) and costume dramas (d0-d9, Drama). */
const ITEMS = [
  ...Array.from({ length: 10 }, (_, i) => ({
    id: `s${i}`,
    title: `Space Film ${i}`,
    categories: ['Sci-Fi'],
  })),
  ...Array.from({ length: 10 }, (_, i) => ({
    id: `d${i}`,
    title: `Costume Drama ${i}`,
    categories: ['Drama'],
  })),
];

const RECOMMEND = `query($userId: ID!) {
  recommendations(userId: $userId, limit: 5) {
    strategy items { reasons sources item { id title } }
  }
}`;

async function cli(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnCli(args, rf.env.env);
  const { code } = await exited(child);
  return { code, output: child.output() };
}

beforeAll(async () => {
  rf = await startRecflow({ env: { RECFLOW_TRAIN_INTERVAL: '0', RECFLOW_MODEL_POLL: '0' } });
  await gql(rf.url, `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created } }`, {
    i: ITEMS,
  });
  const inputs = [];
  for (let u = 0; u < 40; u += 1) {
    const taste = u % 2 === 0 ? 's' : 'd';
    for (let i = 0; i < 10; i += 1) {
      if ((u * 7 + i * 3) % 10 < 6) {
        inputs.push({
          eventId: eventId(),
          userId: `fan${u}`,
          itemId: `${taste}${i}`,
          type: 'PURCHASE',
        });
      }
    }
  }
  const recorded = await gql(
    rf.url,
    `mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { status } }`,
    { i: inputs },
  );
  expect(recorded.errors).toBeUndefined();
  await waitForPipeline(rf.app.core.nc, rf.config, 60_000);
});

afterAll(async () => {
  await rf?.stop();
  if (rf) await cleanUp(rf.env);
});

test('recflow train stores a version and the running gateway swaps it in', async () => {
  expect(rf.app.models?.version).toBe(0);
  const trained = await cli('train');
  expect(trained.code).toBe(0);
  expect(trained.output).toMatch(/model version \d+ stored/);
  await eventually(async () => (rf.app.models?.version ?? 0) > 0, 15_000, 'the model swap');

  const listed = await cli('model', 'list');
  expect(listed.code).toBe(0);
  expect(listed.output).toMatch(new RegExp(`^${rf.app.models?.version}\\s+serving`, 'm'));
});

test('a known user gets learned, explained recommendations of their own taste', async () => {
  const r = await gql(rf.url, RECOMMEND, { userId: 'fan0' });
  const list = r.data.recommendations;
  expect(list.strategy).toBe('PERSONALIZED');
  expect(list.items.length).toBeGreaterThan(0);
  // fan0 bought six of the ten space films; the other four come first.
  const ids = list.items.map((i: { item: { id: string } }) => i.item.id);
  expect(ids.slice(0, 4).sort()).toEqual(['s2', 's3', 's6', 's9']);
  const sources = new Set(list.items.flatMap((i: { sources: string[] }) => i.sources));
  for (const s of ['model', 'ease', 'itemKnn']) expect(sources.has(s)).toBe(true);
  const reasons = list.items.flatMap((i: { reasons: string[] }) => i.reasons);
  expect(reasons).toContain('matches your taste');
  expect(reasons.some((r: string) => /^because you (bought|liked) Space Film \d$/.test(r))).toBe(
    true,
  );
});

test('a user the model never saw is folded in and pushed at once', async () => {
  const client = wsClient(rf.wsUrl);
  const lists: Array<{ strategy: string; ids: string[]; sources: string[] }> = [];
  const dispose = client.subscribe(
    {
      query: `subscription { recommendationsUpdated(userId: "newcomer", limit: 5) {
        strategy items { sources item { id } } } }`,
    },
    {
      next: (msg: any) =>
        lists.push({
          strategy: msg.data.recommendationsUpdated.strategy,
          ids: msg.data.recommendationsUpdated.items.map((i: any) => i.item.id),
          sources: msg.data.recommendationsUpdated.items.flatMap((i: any) => i.sources),
        }),
      error: (e) => {
        throw e;
      },
      complete: () => undefined,
    },
  );
  try {
    await eventually(async () => lists.length >= 1, 5000, 'the initial list');
    expect(lists[0].strategy).toBe('COLD_START');
    await gql(rf.url, `mutation($i: EventInput!) { recordEvent(input: $i) { status } }`, {
      i: { eventId: eventId(), userId: 'newcomer', itemId: 'd3', type: 'PURCHASE' },
    });
    const pushed = await eventually(
      async () => lists.find((l) => l.strategy === 'PERSONALIZED'),
      10_000,
      'a personalised push',
    );
    expect(pushed.sources).toContain('model');
    expect(pushed.ids).not.toContain('d3');
    expect(pushed.ids.slice(0, 3).every((id) => id.startsWith('d'))).toBe(true);
  } finally {
    dispose();
    await client.dispose();
  }
});

test('an MMR re-rank chosen in the query mixes in the other taste', async () => {
  const query = `query($f: RecommendationFilter) {
    recommendations(userId: "fan0", limit: 4, filter: $f) { items { item { id } } }
  }`;
  const plain = await gql(rf.url, query, {});
  const varied = await gql(rf.url, query, { f: { mmrLambda: 0.3 } });
  const tastes = (r: typeof plain) =>
    new Set(r.data.recommendations.items.map((i: { item: { id: string } }) => i.item.id[0]));
  expect([...tastes(plain)]).toEqual(['s']);
  expect(tastes(varied)).toEqual(new Set(['s', 'd']));
});

test('similarItems serves the learned cosine neighbours', async () => {
  const r = await gql(rf.url, `{ similarItems(itemId: "s1", limit: 5) { reasons item { id } } }`);
  const ids = r.data.similarItems.map((s: { item: { id: string } }) => s.item.id);
  expect(ids.length).toBe(5);
  expect(ids.every((id: string) => id.startsWith('s') && id !== 's1')).toBe(true);
  expect(r.data.similarItems[0].reasons[0]).toMatch(/Space Film 1/);
});

test('training and rollback swap models while queries keep succeeding', async () => {
  const first = rf.app.models?.version ?? 0;
  let failures = 0;
  let answered = 0;
  let running = true;
  const deadline = Date.now() + 60_000;
  const load = (async () => {
    while (running && Date.now() < deadline) {
      const r = await gql(rf.url, RECOMMEND, { userId: `fan${answered % 40}` });
      if (r.errors || r.status !== 200) failures += 1;
      answered += 1;
    }
  })();
  try {
    await gql(rf.url, `mutation($i: EventInput!) { recordEvent(input: $i) { status } }`, {
      i: { eventId: eventId(), userId: 'fan1', itemId: 'd9', type: 'LIKE' },
    });
    await waitForPipeline(rf.app.core.nc, rf.config, 30_000);
    expect((await cli('train')).code).toBe(0);
    await eventually(async () => (rf.app.models?.version ?? 0) > first, 15_000, 'the new model');
    const second = rf.app.models?.version;

    const rolled = await cli('model', 'rollback');
    expect(rolled.code).toBe(0);
    expect(rolled.output).toContain(`retired version ${second}; version ${first} serves again`);
    await eventually(async () => rf.app.models?.version === first, 15_000, 'the swap back');
    const listed = await cli('model', 'list');
    expect(listed.output).toMatch(new RegExp(`^${second}\\s+retired`, 'm'));
  } finally {
    running = false;
    await load;
  }
  expect(answered).toBeGreaterThan(0);
  expect(failures).toBe(0);
});

test('rollback with one serviceable version: nothing to go back to', async () => {
  const rolled = await cli('model', 'rollback');
  expect(rolled.code).toBe(1);
  expect(rolled.output).toMatch(/nothing to roll back to/);
  expect((await cli('model', 'bogus')).code).toBe(2);
});
