import { DEFAULT_EVENT_LIMITS, EVENT_TYPES, validateEvent } from '../../../src/domain/events';
import {
  DEFAULT_SYNTHETIC,
  mulberry32,
  type SyntheticOptions,
  syntheticDataset,
  zipfSampler,
} from '../../../src/importers/synthetic';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const DAY_MS = 86_400_000;

const SMALL: SyntheticOptions = {
  users: 40,
  items: 30,
  events: 500,
  categories: 5,
  seed: 1,
  days: 10,
  now: NOW,
  batchSize: 64,
};

/** Everything a data set holds, events included, as plain values. */
function contents(options: Partial<SyntheticOptions>) {
  const dataset = syntheticDataset({ ...SMALL, ...options });
  return { items: dataset.items, users: dataset.users, events: [...dataset.events()].flat() };
}

describe('syntheticDataset', () => {
  test('yields identical items, users and events for the same options and seed', () => {
    expect(contents({ seed: 7 })).toEqual(contents({ seed: 7 }));
  });

  test('replays the same events each time they are read', () => {
    const dataset = syntheticDataset(SMALL);
    expect([...dataset.events()]).toEqual([...dataset.events()]);
  });

  test('yields different data for different seeds', () => {
    const a = contents({ seed: 1 });
    const b = contents({ seed: 2 });
    expect(b.items).not.toEqual(a.items);
    const pairs = (c: typeof a) => c.events.map((e) => `${e.userId}/${e.itemId}/${e.type}`);
    expect(pairs(b)).not.toEqual(pairs(a));
  });

  test('gives events of different seeds different ids, so both can be imported', () => {
    const ids = new Set(contents({ seed: 1 }).events.map((e) => e.eventId));
    expect(contents({ seed: 2 }).events.some((e) => ids.has(e.eventId))).toBe(false);
  });

  test('makes as many items, users and events as asked, in batches of batchSize', () => {
    const dataset = syntheticDataset(SMALL);
    expect(dataset.items).toHaveLength(30);
    expect(dataset.users).toHaveLength(40);
    expect(dataset.eventCount).toBe(500);
    const batches = [...dataset.events()];
    expect(batches.map((b) => b.length)).toEqual([64, 64, 64, 64, 64, 64, 64, 52]);
  });

  test('keeps the default for an option given as undefined', () => {
    const dataset = syntheticDataset({ ...SMALL, users: undefined, batchSize: undefined });
    expect(dataset.users).toHaveLength(DEFAULT_SYNTHETIC.users);
    expect(dataset.items).toHaveLength(SMALL.items);
    expect([...dataset.events()]).toHaveLength(1);
  });

  test('makes no events when asked for none', () => {
    const dataset = syntheticDataset({ ...SMALL, events: 0 });
    expect(dataset.eventCount).toBe(0);
    expect([...dataset.events()]).toEqual([]);
  });

  test('gives every item and user a distinct id', () => {
    const { items, users } = contents({});
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(new Set(users.map((u) => u.id)).size).toBe(users.length);
  });

  test('gives every item one or two distinct categories out of those asked for', () => {
    const allowed = new Set(['category-1', 'category-2', 'category-3', 'category-4', 'category-5']);
    for (const item of contents({}).items) {
      const categories = item.categories ?? [];
      expect(categories.length === 1 || categories.length === 2).toBe(true);
      expect(new Set(categories).size).toBe(categories.length);
      for (const c of categories) expect(allowed.has(c)).toBe(true);
    }
  });

  test('makes every event refer to a generated user and a generated item', () => {
    const { items, users, events } = contents({});
    const itemIds = new Set(items.map((i) => i.id));
    const userIds = new Set(users.map((u) => u.id));
    for (const event of events) {
      expect(userIds.has(event.userId)).toBe(true);
      expect(itemIds.has(event.itemId)).toBe(true);
    }
  });

  test('makes events that recflow accepts, with unique ids and times within the window', () => {
    const { events } = contents({});
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const event of events) {
      const valid = validateEvent(event, NOW, DEFAULT_EVENT_LIMITS);
      expect(EVENT_TYPES).toContain(valid.type);
      expect(valid.occurredAt).toBeGreaterThan(NOW - 10 * DAY_MS);
      expect(valid.occurredAt).toBeLessThanOrEqual(NOW);
    }
  });

  test('gives values to ratings (1-5) and purchases (1-3) only', () => {
    for (const event of contents({ events: 3000 }).events) {
      if (event.type === 'RATE') expect([1, 2, 3, 4, 5]).toContain(event.value);
      else if (event.type === 'PURCHASE') expect([1, 2, 3]).toContain(event.value);
      else expect(event.value).toBeNull();
    }
  });

  test("concentrates each user's events in categories of their own", () => {
    const { items, events } = contents({ users: 20, items: 200, categories: 10, events: 4000 });
    const categoriesOf = new Map(items.map((i) => [i.id, i.categories ?? []]));
    const everyone = new Map<string, number>();
    const byUser = new Map<string, Map<string, number>>();
    for (const e of events) {
      const counts = byUser.get(e.userId) ?? new Map<string, number>();
      for (const c of categoriesOf.get(e.itemId) ?? []) {
        counts.set(c, (counts.get(c) ?? 0) + 1);
        everyone.set(c, (everyone.get(c) ?? 0) + 1);
      }
      byUser.set(e.userId, counts);
    }
    const share = (counts: Map<string, number>, categories: string[]) =>
      sum(categories.map((c) => counts.get(c) ?? 0)) / sum([...counts.values()]);

    // Without preferences, a busy user's favourite categories would be everyone's.
    const busiest = [...byUser.values()]
      .sort((a, b) => sum([...b.values()]) - sum([...a.values()]))
      .slice(0, 5);
    for (const counts of busiest) {
      const topTwo = [...counts].sort(([, a], [, b]) => b - a).slice(0, 2);
      const favourites = topTwo.map(([c]) => c);
      expect(share(counts, favourites)).toBeGreaterThan(share(everyone, favourites) + 0.15);
    }
  });
});

describe('zipfSampler', () => {
  /** Ranks drawn for evenly spaced random numbers: the exact shape, without sampling noise. */
  function histogram(n: number, s: number, draws: number): number[] {
    const sample = zipfSampler(n, s);
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i += 1) counts[sample(() => (i + 0.5) / draws)] += 1;
    return counts;
  }

  test('draws each rank k in proportion to 1/(k+1)^s', () => {
    const draws = 100_000;
    const counts = histogram(5, 1, draws);
    const weights = [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5];
    const total = sum(weights);
    counts.forEach((count, k) => {
      expect(Math.abs(count / draws - weights[k] / total)).toBeLessThan(0.001);
    });
  });

  test('favours low ranks, the more so the larger s is', () => {
    const mild = histogram(20, 0.5, 10_000);
    const steep = histogram(20, 1.5, 10_000);
    for (let k = 1; k < 20; k += 1) expect(mild[k]).toBeLessThanOrEqual(mild[k - 1]);
    expect(mild[0]).toBeGreaterThan(mild[19]);
    expect(steep[0]).toBeGreaterThan(mild[0]);
  });

  test('draws every rank from 0 to n-1, and nothing outside', () => {
    const sample = zipfSampler(10, 1.05);
    const random = mulberry32(3);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i += 1) seen.add(sample(random));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('maps the ends of the random range to the first and last ranks', () => {
    const sample = zipfSampler(10, 1.05);
    expect(sample(() => 0)).toBe(0);
    expect(sample(() => 1 - Number.EPSILON)).toBe(9);
    expect(zipfSampler(1, 1.05)(() => 0.99)).toBe(0);
  });
});

describe('mulberry32', () => {
  test('repeats its sequence for a seed and differs between seeds', () => {
    const take = (seed: number) => Array.from({ length: 20 }, mulberry32(seed));
    expect(take(5)).toEqual(take(5));
    expect(take(6)).not.toEqual(take(5));
  });

  test('returns numbers in [0, 1) spread over the whole range', () => {
    const values = Array.from({ length: 10_000 }, mulberry32(11));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const tenths = new Array<number>(10).fill(0);
    for (const v of values) tenths[Math.floor(v * 10)] += 1;
    for (const count of tenths) expect(count).toBeGreaterThan(900);
  });
});

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
