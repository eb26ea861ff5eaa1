import { holdOut } from '../../../src/evaluation/holdout';

const row = (userId: string, itemId: string, weight: number, lastAt: number) => ({
  userId,
  itemId,
  weight,
  lastAt,
});

describe('holdOut', () => {
  const rows = [
    row('u1', 'a', 1, 10),
    row('u1', 'b', 1, 30),
    row('u1', 'c', -3, 40), // newest, but negative: never held out
    row('u2', 'a', 1, 10), // only one positive: not eligible
    row('u3', 'a', 1, 50),
    row('u3', 'b', 1, 50), // a tie in time: the larger item id is "latest"
  ];

  test("holds out each eligible user's latest positive pair", () => {
    const { train, held } = holdOut(rows, 10, 1);
    expect(Object.fromEntries(held)).toEqual({ u1: 'b', u3: 'b' });
    expect(train).toHaveLength(rows.length - 2);
    expect(train.some((r) => r.userId === 'u1' && r.itemId === 'b')).toBe(false);
  });

  test('samples at most maxUsers users, repeatably for a seed', () => {
    const first = holdOut(rows, 1, 5);
    expect(first.held.size).toBe(1);
    expect(holdOut(rows, 1, 5).held).toEqual(first.held);
    expect(holdOut(rows, 0, 5).held.size).toBe(0);
  });
});
