import { split, TEST_FRACTION, type Rating } from '../../../src/evaluation/split';

/** `users` users with `perUser(u)` ratings each, at distinct times, written latest first. */
function ratings(users: number, perUser: (u: number) => number): Rating[] {
  const out: Rating[] = [];
  for (let u = 1; u <= users; u += 1) {
    const n = perUser(u);
    for (let k = 0; k < n; k += 1) {
      // Written out of time order on purpose: the split must sort.
      out.push({ userId: `u${u}`, itemId: `i${k}`, rating: 3, timestamp: (n - k) * 100 + u });
    }
  }
  return out;
}

const key = (r: Rating) => `${r.userId}/${r.itemId}`;
const keys = (list: readonly Rating[]) => list.map(key).sort();

function byUser(list: readonly Rating[]): Map<string, Rating[]> {
  const out = new Map<string, Rating[]>();
  for (const r of list) out.set(r.userId, [...(out.get(r.userId) ?? []), r]);
  return out;
}

describe('random split', () => {
  const data = ratings(13, (u) => 3 + u);

  test('puts 80% of the ratings in train and the rest in test, each rating exactly once', () => {
    const { train, test } = split(data, 'random', 42);
    expect(train).toHaveLength(Math.round(data.length * (1 - TEST_FRACTION)));
    expect(test).toHaveLength(data.length - train.length);
    expect(keys([...train, ...test])).toEqual(keys(data));
  });

  test('repeats exactly for a seed and changes with it', () => {
    expect(split(data, 'random', 42)).toEqual(split(data, 'random', 42));
    expect(keys(split(data, 'random', 43).test)).not.toEqual(keys(split(data, 'random', 42).test));
  });

  test('leaves its input untouched', () => {
    const before = data.map(key);
    split(data, 'random', 1);
    expect(data.map(key)).toEqual(before);
  });
});

describe('temporal split', () => {
  const data = ratings(9, (u) => u + 1);
  const { train, test: held } = split(data, 'temporal', 42);
  const trainBy = byUser(train);
  const testBy = byUser(held);

  test("holds out each user's last 20% by time, at least one, never all", () => {
    for (const [userId, all] of byUser(data)) {
      const expected = Math.min(all.length - 1, Math.max(1, Math.round(all.length * 0.2)));
      expect(testBy.get(userId)?.length ?? 0).toBe(expected);
      expect(trainBy.get(userId)?.length).toBe(all.length - expected);
    }
  });

  test('puts every test rating after every train rating of the same user', () => {
    for (const [userId, held] of testBy) {
      const latestTrain = Math.max(...(trainBy.get(userId) ?? []).map((r) => r.timestamp));
      expect(Math.min(...held.map((r) => r.timestamp))).toBeGreaterThan(latestTrain);
    }
  });

  test('keeps each rating exactly once', () => {
    expect(keys([...train, ...held])).toEqual(keys(data));
  });

  test('breaks ties in time in a seeded order', () => {
    const tied: Rating[] = Array.from({ length: 10 }, (_, k) => ({
      userId: 'u',
      itemId: `i${k}`,
      rating: 4,
      timestamp: 5,
    }));
    const first = split(tied, 'temporal', 3);
    expect(split(tied, 'temporal', 3)).toEqual(first);
    const others = [4, 5, 6, 7, 8].map((seed) => keys(split(tied, 'temporal', seed).test));
    expect(others.some((held) => held.join() !== keys(first.test).join())).toBe(true);
  });
});

describe('leave-one-out split', () => {
  const data = ratings(6, (u) => u);
  const { train, test: held } = split(data, 'loo', 42);

  test("holds out each user's latest rating, and nothing from a user with one rating", () => {
    const testBy = byUser(held);
    for (const [userId, all] of byUser(data)) {
      const userTest = testBy.get(userId) ?? [];
      if (all.length === 1) {
        expect(userTest).toHaveLength(0);
        continue;
      }
      expect(userTest).toHaveLength(1);
      expect(userTest[0].timestamp).toBe(Math.max(...all.map((r) => r.timestamp)));
    }
    expect(train).toHaveLength(data.length - held.length);
  });
});
