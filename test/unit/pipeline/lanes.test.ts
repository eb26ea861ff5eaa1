/** How a worker divides its work into lanes (src/pipeline/lanes.ts). */
import { laneOfUser, laneShares } from '../../../src/pipeline/lanes';

const users = Array.from({ length: 4000 }, (_, n) => `user-${n}`);

describe('laneOfUser', () => {
  test.each([2, 3, 5, 8])('%i lanes share the users about evenly, each in range', (lanes) => {
    const counts = new Array<number>(lanes).fill(0);
    for (const user of users) counts[laneOfUser(user, lanes)] += 1;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(users.length);
    for (const count of counts) expect(count).toBeGreaterThan((0.8 * users.length) / lanes);
  });

  test('ids of any characters, empty included, get a lane; one lane takes everyone', () => {
    for (const id of ['', 'é', 'ユーザー', '\u{1F600}', 'x'.repeat(128)]) {
      const lane = laneOfUser(id, 8);
      expect(Number.isInteger(lane) && lane >= 0 && lane < 8).toBe(true);
    }
    expect(users.every((u) => laneOfUser(u, 1) === 0)).toBe(true);
  });
});

describe('laneShares', () => {
  test.each([
    [4000, 2, [2000, 2000]],
    [25, 3, [9, 8, 8]],
    [5, 2, [3, 2]],
    [1, 8, [1]],
    [3, 8, [1, 1, 1]],
  ])('a batch of %i over %i lanes is %j', (batch, lanes, shares) => {
    expect(laneShares(batch, lanes)).toEqual(shares);
  });

  test('shares always add up to the batch, none empty, at most one lane per event', () => {
    for (let batch = 1; batch <= 40; batch += 1) {
      for (let lanes = 1; lanes <= 8; lanes += 1) {
        const shares = laneShares(batch, lanes);
        expect(shares.reduce((a, b) => a + b, 0)).toBe(batch);
        expect(Math.min(...shares)).toBeGreaterThan(0);
        expect(shares.length).toBe(Math.min(batch, lanes));
      }
    }
  });
});
