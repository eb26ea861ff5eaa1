import {
  aggregateBatch,
  type BatchDeltas,
  isLaterRating,
  latestKey,
  type WeightedInteraction,
} from '../../../src/domain/aggregate';
import { HALF_LIFE_MS, logAddExp, logContribution } from '../../../src/domain/decay';
import type { EventType } from '../../../src/domain/events';
import { eventWeight } from '../../../src/domain/weights';
import { permutations, seededRandom, shuffles } from '../support/random';

const T = Date.UTC(2024, 5, 1);
const HOUR = 3_600_000;

const CATALOGUE: Record<string, readonly string[]> = {
  'star-wars': ['Action', 'Sci-Fi'],
  casablanca: ['Drama', 'Romance'],
  fargo: ['Crime', 'Drama'],
  'toy-story': ['Animation'],
  heat: ['Action', 'Crime'],
};

const categoriesOf = (itemId: string): readonly string[] => CATALOGUE[itemId] ?? [];

let nextId = 0;

/** A weighted interaction; the weight defaults to eventWeight of its type and value. */
function event(
  userId: string,
  itemId: string,
  type: EventType,
  occurredAt: number,
  extra: Partial<WeightedInteraction> = {},
): WeightedInteraction {
  const value = extra.value ?? null;
  nextId += 1;
  return {
    eventId: `e${String(nextId).padStart(4, '0')}`,
    userId,
    itemId,
    type,
    value,
    occurredAt,
    context: null,
    weight: eventWeight({ type, value }),
    ...extra,
  };
}

/** Keys whose values are floating-point sums: equal within tolerance, not exactly. */
const FLOAT_KEYS = new Set([
  'weightSum',
  'popAll',
  'ratingSum',
  'logPos',
  'logNeg',
  'logDay',
  'logWeek',
  'logMonth',
]);

/** Counts, times, picks and keys exactly; sums and logs within 1e-9. */
function expectSameDeltas(actual: BatchDeltas, expected: BatchDeltas): void {
  for (const table of ['users', 'items', 'userItems', 'userCategories'] as const) {
    expect(actual[table]).toHaveLength(expected[table].length);
    actual[table].forEach((row, i) => {
      const want = expected[table][i] as unknown as Record<string, unknown>;
      const got = row as unknown as Record<string, unknown>;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [key, value] of Object.entries(want)) {
        if (FLOAT_KEYS.has(key) && typeof value === 'number') {
          expect(typeof got[key]).toBe('number');
          expect(Math.abs((got[key] as number) - value)).toBeLessThanOrEqual(1e-9);
        } else {
          expect({ table, key, value: got[key] }).toEqual({ table, key, value });
        }
      }
    });
  }
}

/** A mixed batch: several users, repeated pairs, ties in time, negatives and ratings. */
function mixedBatch(): WeightedInteraction[] {
  const random = seededRandom(7);
  const users = ['ann', 'bob', 'cat'];
  const items = [...Object.keys(CATALOGUE), 'not-in-catalogue'];
  const types: EventType[] = [
    'VIEW',
    'CLICK',
    'ADD_TO_CART',
    'PURCHASE',
    'LIKE',
    'DISLIKE',
    'SKIP',
  ];
  const batch: WeightedInteraction[] = [];
  for (let i = 0; i < 120; i += 1) {
    const pick = <V>(list: readonly V[]) => list[Math.floor(random() * list.length)];
    // Whole hours only, so that many events share a time and ties are common.
    const at = T - Math.floor(random() * 48) * HOUR;
    if (i % 5 === 0) {
      batch.push(event(pick(users), pick(items), 'RATE', at, { value: pick([1, 2, 3, 4, 5]) }));
    } else {
      const type = pick(types);
      const value = type === 'PURCHASE' ? pick([null, 1, 3]) : null;
      batch.push(event(pick(users), pick(items), type, at, { value }));
    }
  }
  return batch;
}

describe('aggregateBatch', () => {
  test('yields the same deltas for the same interactions in any order', () => {
    const batch = mixedBatch();
    const reference = aggregateBatch(batch, categoriesOf);
    const orders = shuffles(batch, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(orders.some((order) => order[0] !== batch[0])).toBe(true);
    for (const order of [...orders, [...batch].reverse()]) {
      expectSameDeltas(aggregateBatch(order, categoriesOf), reference);
    }
  });

  test('agrees with itself when a batch is split in two and the logs are merged', () => {
    const batch = mixedBatch();
    const whole = aggregateBatch(batch, categoriesOf).items;
    const first = aggregateBatch(batch.slice(0, 50), categoriesOf).items;
    const second = aggregateBatch(batch.slice(50), categoriesOf).items;
    for (const item of whole) {
      const a = first.find((d) => d.itemId === item.itemId);
      const b = second.find((d) => d.itemId === item.itemId);
      expect((a?.events ?? 0) + (b?.events ?? 0)).toBe(item.events);
      const merged = logAddExp(a?.logWeek ?? null, b?.logWeek ?? null);
      if (item.logWeek === null) expect(merged).toBeNull();
      else expect(Math.abs((merged as number) - item.logWeek)).toBeLessThanOrEqual(1e-9);
    }
  });

  test('picks the latest type by event time, then event id, in every arrival order', () => {
    const batch = [
      event('ann', 'fargo', 'CLICK', T - HOUR, { eventId: 'z-oldest' }),
      event('ann', 'fargo', 'PURCHASE', T, { eventId: 'a-tied' }),
      event('ann', 'fargo', 'VIEW', T, { eventId: 'b-tied' }),
      event('ann', 'fargo', 'LIKE', T - 2 * HOUR, { eventId: 'zz-older' }),
    ];
    for (const order of permutations(batch)) {
      const [pair] = aggregateBatch(order, categoriesOf).userItems;
      expect(pair).toMatchObject({
        lastType: 'VIEW',
        lastKey: latestKey(T, 'b-tied'),
        lastAt: T,
        events: 4,
      });
    }
  });

  test('keeps the latest rating, and on a tie in time the higher one', () => {
    const batch = [
      event('ann', 'fargo', 'RATE', T - HOUR, { value: 5 }),
      event('ann', 'fargo', 'RATE', T, { value: 2 }),
      event('ann', 'fargo', 'RATE', T, { value: 4 }),
      event('ann', 'fargo', 'VIEW', T + HOUR),
    ];
    for (const order of permutations(batch)) {
      const { userItems, items } = aggregateBatch(order, categoriesOf);
      expect(userItems[0]).toMatchObject({ rating: 4, ratingAt: T });
      expect(items[0]).toMatchObject({ ratingSum: 11, ratingCount: 3 });
    }
  });

  test('counts negative weights in negatives and never adds them to popularity', () => {
    const batch = [
      event('ann', 'heat', 'DISLIKE', T),
      event('bob', 'heat', 'SKIP', T - HOUR),
      event('cat', 'heat', 'RATE', T, { value: 1 }),
    ];
    const { items, users, userItems } = aggregateBatch(batch, categoriesOf);
    expect(items).toEqual([
      {
        itemId: 'heat',
        events: 3,
        positives: 0,
        negatives: 3,
        ratingSum: 1,
        ratingCount: 1,
        popAll: 0,
        logDay: null,
        logWeek: null,
        logMonth: null,
        lastAt: T,
      },
    ]);
    expect(users.map((u) => [u.userId, u.positives, u.negatives])).toEqual([
      ['ann', 0, 1],
      ['bob', 0, 1],
      ['cat', 0, 1],
    ]);
    const ann = userItems.find((d) => d.userId === 'ann');
    expect(ann).toMatchObject({ weightSum: -6, logPos: null });
    expect(ann?.logNeg).toBeCloseTo(logContribution(6, T, HALF_LIFE_MS.affinity), 12);
  });

  test('adds only the positive events of a mixed item to its popularity', () => {
    const batch = [
      event('ann', 'heat', 'LIKE', T),
      event('bob', 'heat', 'DISLIKE', T),
      event('cat', 'heat', 'PURCHASE', T - HOUR),
    ];
    const [item] = aggregateBatch(batch, categoriesOf).items;
    expect(item).toMatchObject({ events: 3, positives: 2, negatives: 1, popAll: 14 });
    const expected = logAddExp(
      logContribution(6, T, HALF_LIFE_MS.day),
      logContribution(8, T - HOUR, HALF_LIFE_MS.day),
    );
    expect(item.logDay).toBeCloseTo(expected as number, 12);
  });

  test('counts a zero-weight event as an event but neither positive nor negative', () => {
    // A rating of 2.5 out of 5 is neutral: weight 0.
    const batch = [event('ann', 'fargo', 'RATE', T, { value: 2.5 })];
    const { users, items, userItems, userCategories } = aggregateBatch(batch, categoriesOf);
    expect(users[0]).toMatchObject({ events: 1, positives: 0, negatives: 0 });
    expect(items[0]).toMatchObject({ events: 1, positives: 0, negatives: 0, popAll: 0 });
    expect(items[0].logDay).toBeNull();
    expect(userItems[0]).toMatchObject({ events: 1, logPos: null, logNeg: null, rating: 2.5 });
    expect(userCategories.every((d) => d.logPos === null && d.logNeg === null)).toBe(true);
  });

  test('fans an event out to every category of its item', () => {
    const batch = [
      event('ann', 'fargo', 'LIKE', T),
      event('ann', 'casablanca', 'VIEW', T - HOUR),
      event('ann', 'toy-story', 'SKIP', T),
    ];
    const { userCategories } = aggregateBatch(batch, categoriesOf);
    expect(userCategories.map((d) => [d.category, d.events])).toEqual([
      ['Animation', 1],
      ['Crime', 1],
      ['Drama', 2],
      ['Romance', 1],
    ]);
    const drama = userCategories.find((d) => d.category === 'Drama');
    const expected = logAddExp(
      logContribution(6, T, HALF_LIFE_MS.affinity),
      logContribution(1, T - HOUR, HALF_LIFE_MS.affinity),
    );
    expect(drama?.logPos).toBeCloseTo(expected as number, 12);
    expect(drama?.logNeg).toBeNull();
    const animation = userCategories.find((d) => d.category === 'Animation');
    expect(animation?.logPos).toBeNull();
    expect(animation?.logNeg).toBeCloseTo(logContribution(1, T, HALF_LIFE_MS.affinity), 12);
  });

  test('gives items the catalogue does not know no category deltas', () => {
    const batch = [event('ann', 'not-in-catalogue', 'PURCHASE', T)];
    const deltas = aggregateBatch(batch, categoriesOf);
    expect(deltas.userCategories).toEqual([]);
    expect(deltas.items.map((d) => d.itemId)).toEqual(['not-in-catalogue']);
  });

  test("keeps each user's first and last event time", () => {
    const batch = [
      event('ann', 'fargo', 'VIEW', T - 5 * HOUR),
      event('ann', 'heat', 'VIEW', T),
      event('ann', 'fargo', 'VIEW', T - 9 * HOUR),
    ];
    expect(aggregateBatch(batch, categoriesOf).users).toEqual([
      {
        userId: 'ann',
        events: 3,
        positives: 3,
        negatives: 0,
        firstAt: T - 9 * HOUR,
        lastAt: T,
      },
    ]);
  });

  test('sums weights and decayed affinity per user and item', () => {
    const batch = [
      event('ann', 'heat', 'VIEW', T - HOUR),
      event('ann', 'heat', 'PURCHASE', T, { value: 3 }),
    ];
    const [pair] = aggregateBatch(batch, categoriesOf).userItems;
    const purchase = 8 * (1 + Math.log(3));
    expect(pair.weightSum).toBeCloseTo(1 + purchase, 12);
    const expected = logAddExp(
      logContribution(1, T - HOUR, HALF_LIFE_MS.affinity),
      logContribution(purchase, T, HALF_LIFE_MS.affinity),
    );
    expect(pair.logPos).toBeCloseTo(expected as number, 12);
  });

  test('returns every table sorted by key, whatever the arrival order', () => {
    const batch = [
      event('cat', 'toy-story', 'VIEW', T),
      event('ann', 'heat', 'VIEW', T),
      event('bob', 'fargo', 'VIEW', T),
      event('ann', 'casablanca', 'VIEW', T),
    ];
    const deltas = aggregateBatch(batch, categoriesOf);
    expect(deltas.users.map((d) => d.userId)).toEqual(['ann', 'bob', 'cat']);
    expect(deltas.items.map((d) => d.itemId)).toEqual(['casablanca', 'fargo', 'heat', 'toy-story']);
    expect(deltas.userItems.map((d) => `${d.userId}/${d.itemId}`)).toEqual([
      'ann/casablanca',
      'ann/heat',
      'bob/fargo',
      'cat/toy-story',
    ]);
    expect(deltas.userCategories.map((d) => `${d.userId}/${d.category}`)).toEqual([
      'ann/Action',
      'ann/Crime',
      'ann/Drama',
      'ann/Romance',
      'bob/Crime',
      'bob/Drama',
      'cat/Animation',
    ]);
  });

  test('returns empty tables for an empty batch', () => {
    expect(aggregateBatch([], categoriesOf)).toEqual({
      users: [],
      items: [],
      userItems: [],
      userCategories: [],
    });
  });
});

describe('latestKey', () => {
  test('orders by time numerically, not by the digits as text', () => {
    expect(latestKey(9, 'z') < latestKey(10, 'a')).toBe(true);
    expect(latestKey(T, 'z') < latestKey(T + 1, 'a')).toBe(true);
  });

  test('orders by event id when the times are equal', () => {
    expect(latestKey(T, 'evt-a') < latestKey(T, 'evt-b')).toBe(true);
  });
});

describe('isLaterRating', () => {
  test('takes any rating over none', () => {
    const none = { rating: null, ratingAt: null };
    expect(isLaterRating({ occurredAt: 0, value: 1 }, none)).toBe(true);
  });

  test('takes a later rating, even a lower one, and refuses an earlier one', () => {
    const current = { rating: 4, ratingAt: T };
    expect(isLaterRating({ occurredAt: T + 1, value: 1 }, current)).toBe(true);
    expect(isLaterRating({ occurredAt: T - 1, value: 5 }, current)).toBe(false);
  });

  test('breaks a tie in time towards the higher rating', () => {
    const current = { rating: 3, ratingAt: T };
    expect(isLaterRating({ occurredAt: T, value: 4 }, current)).toBe(true);
    expect(isLaterRating({ occurredAt: T, value: 2 }, current)).toBe(false);
    expect(isLaterRating({ occurredAt: T, value: 3 }, current)).toBe(false);
  });
});
