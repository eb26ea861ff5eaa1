/**
 * The response cache end to end, on two gateways and a worker over the real
 * services. Answers live 60 s here, so an answer that changes within the
 * test's few seconds changed because something dropped it: the user's own
 * features-changed notice, a catalogue notice, or a client asking for a
 * fresh answer.
 */
import { waitForPipeline } from '../../src/pipeline/wait';
import {
  cleanUp,
  eventId,
  eventually,
  gql,
  startRecflow,
  type TestRecflow,
} from '../support/recflow';

jest.setTimeout(60_000);

let rf: TestRecflow;
/** A second gateway on the same services. */
let other: TestRecflow;

const RECOMMEND = `query($userId: ID!) {
  recommendations(userId: $userId, limit: 5) { computedAt items { item { id title } } }
}`;

type Answer = { computedAt: string; items: Array<{ item: { id: string; title: string } }> };

async function recommend(url: string, userId: string, headers?: Record<string, string>) {
  const answer = await gql<{ recommendations: Answer }>(url, RECOMMEND, { userId }, headers);
  expect(answer.errors).toBeUndefined();
  return answer.data!.recommendations;
}

async function record(events: Array<{ userId: string; itemId: string; type: string }>) {
  const answer = await gql(
    rf.url,
    `mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { status } }`,
    { i: events.map((e) => ({ ...e, eventId: eventId() })) },
  );
  expect(answer.errors).toBeUndefined();
  await waitForPipeline(rf.app.core.nc, rf.config, 30_000);
}

/** The gateway's response cache lookups, by result. */
async function lookups(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url.replace(/\/graphql$/, '')}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, result, n] of text.matchAll(
    /^recflow_response_cache_lookups_total\{result="(\w+)"\} (\d+)/gm,
  )) {
    counts[result] = Number(n);
  }
  return counts;
}

beforeAll(async () => {
  rf = await startRecflow({ env: { RECFLOW_RESPONSE_CACHE: '60s' } });
  other = await startRecflow({
    role: 'gateway',
    isolated: rf.env,
    env: { RECFLOW_RESPONSE_CACHE: '60s' },
  });
  const items = Array.from({ length: 12 }, (_, i) => ({
    id: `m${i}`,
    title: `Movie ${i}`,
    categories: ['Drama'],
  }));
  await gql(rf.url, `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created } }`, {
    i: items,
  });
  const events = [];
  for (let u = 0; u < 10; u += 1) {
    for (let i = 0; i < 12; i += 1) {
      if ((u + i) % 3 === 0) events.push({ userId: `fan${u}`, itemId: `m${i}`, type: 'PURCHASE' });
    }
  }
  events.push({ userId: 'ann', itemId: 'm0', type: 'VIEW' });
  events.push({ userId: 'bob', itemId: 'm1', type: 'VIEW' });
  await record(events);
});

afterAll(async () => {
  await other?.stop();
  await rf?.stop();
  if (rf) await cleanUp(rf.env);
});

test('a repeated query is answered from the cache', async () => {
  const before = await lookups(rf.url);
  const first = await recommend(rf.url, 'ann');
  const second = await recommend(rf.url, 'ann');
  expect(second).toEqual(first);
  const after = await lookups(rf.url);
  expect((after.hit ?? 0) - (before.hit ?? 0)).toBe(1);
  expect((after.miss ?? 0) - (before.miss ?? 0)).toBe(1);
});

test.each<Record<string, string>>([
  { 'cache-control': 'no-cache' },
  { 'cache-control': 'private, no-store' },
  { 'cache-control': 'max-age=0' },
  { pragma: 'no-cache' },
])('%j computes a fresh answer', async (headers) => {
  const kept = await recommend(rf.url, 'ann');
  await new Promise((resolve) => setTimeout(resolve, 5));
  const fresh = await recommend(rf.url, 'ann', headers);
  expect(fresh.computedAt).not.toBe(kept.computedAt);
  // Kept for the next request.
  expect(await recommend(rf.url, 'ann')).toEqual(fresh);
});

test('other Cache-Control values read the cache', async () => {
  const kept = await recommend(rf.url, 'ann');
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const value of ['max-age=60', 'max-age=05', 'no-transform']) {
    expect(await recommend(rf.url, 'ann', { 'cache-control': value })).toEqual(kept);
  }
});

test("a user's event drops that user's answers on every gateway, and nobody else's", async () => {
  const ann = await recommend(rf.url, 'ann');
  const annThere = await recommend(other.url, 'ann');
  const bob = await recommend(rf.url, 'bob');
  const top = ann.items[0].item.id;

  await record([{ userId: 'ann', itemId: top, type: 'PURCHASE' }]);

  // A purchase leaves the item out of the user's list, on both gateways.
  for (const url of [rf.url, other.url]) {
    const changed = await eventually(async () => {
      const now = await recommend(url, 'ann');
      return now.computedAt !== ann.computedAt && now.computedAt !== annThere.computedAt && now;
    });
    expect(changed.items.map((x) => x.item.id)).not.toContain(top);
  }
  expect(await recommend(rf.url, 'bob')).toEqual(bob);
});

test("a catalogue change made on one gateway drops the other's answers", async () => {
  const bob = await recommend(rf.url, 'bob');
  const shown = bob.items[0].item.id;
  const renamed = await gql(
    other.url,
    `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { updated } }`,
    { i: [{ id: shown, title: 'A New Title', categories: ['Drama'] }] },
  );
  expect(renamed.errors).toBeUndefined();
  const now = await eventually(async () => {
    const answer = await recommend(rf.url, 'bob');
    return answer.computedAt !== bob.computedAt && answer;
  });
  expect(now.items.find((x) => x.item.id === shown)?.item.title).toBe('A New Title');
});
