import type { UserFeatures } from '../../../src/domain/features';
import { userInteractions } from '../../../src/recommend/learned-sources';

const user = (overrides: Partial<UserFeatures>): UserFeatures => ({
  userId: 'u',
  version: 1,
  events: 0,
  positives: 0,
  negatives: 0,
  firstAt: 0,
  lastAt: 0,
  categories: [],
  recent: [],
  disliked: [],
  seen: [],
  ...overrides,
});

const recent = (itemId: string, weight: number) => ({
  itemId,
  type: 'VIEW' as const,
  value: null,
  weight,
  at: 0,
});

describe('userInteractions', () => {
  test('sums recent weights per item; dislikes are -1, other seen items 1', () => {
    const weights = userInteractions(
      user({
        recent: [recent('a', 8), recent('a', 1), recent('b', -1)],
        disliked: ['c'],
        seen: ['a', 'b', 'c', 'd'],
      }),
    );
    expect(Object.fromEntries(weights.map((w) => [w.itemId, w.weight]))).toEqual({
      a: 9,
      b: -1,
      c: -1,
      d: 1,
    });
  });

  test('is empty for a user with no history', () => {
    expect(userInteractions(user({}))).toEqual([]);
  });
});
