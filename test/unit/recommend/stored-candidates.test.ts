import {
  categoryCandidates,
  covisitationCandidates,
  popularCandidates,
} from '../../../src/recommend/stored-candidates';
import { itemTable } from '../../../src/domain/item-numbering';
import { seededRandom } from '../support/random';

const list = (...ids: string[]) => ids.map((itemId, i) => ({ itemId, score: 10 - i }));

describe('popularCandidates', () => {
  test('keeps list order, skips excluded items and stops at `most`', () => {
    const popular = list('a', 'b', 'c', 'd');
    const got = popularCandidates(popular, 'popular', null, new Set(['b']), 2);
    expect(got).toEqual([
      { itemId: 'a', source: 'popular', score: 10, because: undefined },
      { itemId: 'c', source: 'popular', score: 8, because: undefined },
    ]);
  });

  test('names the category, and shares candidate objects between requests', () => {
    const trending = list('a', 'b');
    const first = popularCandidates(trending, 'trending', 'Drama', new Set());
    const second = popularCandidates(trending, 'trending', 'Drama', new Set(['a']));
    expect(first[0].because).toEqual({ category: 'Drama' });
    expect(second[0]).toBe(first[1]);
    // Another source over the same list gets its own candidates.
    expect(popularCandidates(trending, 'popular', 'Drama', new Set())[0].source).toBe('popular');
  });
});

test('equal scores come in the blend order, by id, whatever order Redis gave them', () => {
  const tied = ['d', 'b', 'c', 'a'].map((itemId) => ({ itemId, score: 1 }));
  const got = popularCandidates([{ itemId: 'z', score: 2 }, ...tied], 'popular', null, new Set());
  expect(got.map((c) => c.itemId)).toEqual(['z', 'a', 'b', 'c', 'd']);
});

describe('categoryCandidates', () => {
  test('scores by favourite and by rank among all listed items, seen or not', () => {
    const got = categoryCandidates(
      [list('a', 'b'), list('c', 'a')],
      ['Drama', 'Comedy'],
      new Set(['b']),
    );
    expect(got).toEqual([
      { itemId: 'a', source: 'category', score: 1, because: { category: 'Drama' } },
      { itemId: 'c', source: 'category', score: 0.5, because: { category: 'Comedy' } },
      { itemId: 'a', source: 'category', score: 0.25, because: { category: 'Comedy' } },
    ]);
  });

  test('a list that failed to load is skipped', () => {
    const got = categoryCandidates([new Error('down'), list('x')], ['A', 'B'], new Set());
    expect(got.map((c) => [c.itemId, c.score])).toEqual([['x', 0.5]]);
  });
});

describe('covisitationCandidates', () => {
  test('adds up an item over anchors, older anchors weigh less, heaviest gives the reason', () => {
    const neighbours = [
      [{ itemId: 'x', score: 1 }],
      [
        { itemId: 'x', score: 4 },
        { itemId: 'y', score: 2 },
      ],
    ];
    const got = covisitationCandidates(neighbours, ['a1', 'a2'], new Set());
    const recency = 1 / 1.1;
    expect(got[0].itemId).toBe('x');
    expect(got[0].score).toBeCloseTo(1 + 4 * recency);
    expect(got[0].because).toEqual({ itemId: 'a2' });
    expect(got[1]).toEqual({
      itemId: 'y',
      source: 'covisitation',
      score: 2 * recency,
      because: { itemId: 'a2' },
    });
  });

  test('summing never changes the shared candidates', () => {
    const shared = [{ itemId: 'x', score: 1 }];
    const lists = [shared, [{ itemId: 'x', score: 1 }], [{ itemId: 'x', score: 1 }]];
    const first = covisitationCandidates(lists, ['a', 'b', 'c'], new Set());
    const again = covisitationCandidates(lists, ['a', 'b', 'c'], new Set());
    expect(again[0].score).toBeCloseTo(first[0].score);
    expect(covisitationCandidates([shared], ['a'], new Set())[0].score).toBe(1);
  });

  test('excluded items never appear and failed anchors are skipped', () => {
    const got = covisitationCandidates(
      [new Error('down'), list('s', 'k')],
      ['a', 'b'],
      new Set(['s']),
    );
    expect(got.map((c) => c.itemId)).toEqual(['k']);
  });
});

test('co-visitation keeps the best 100 sums, ties by item id, as a full sort would give', () => {
  const random = seededRandom(3);
  const lists = Array.from({ length: 10 }, () =>
    Array.from({ length: 50 }, () => ({
      itemId: `i${Math.floor(random() * 300)}`,
      score: Math.floor(random() * 4),
    })),
  );
  const anchors = lists.map((_, i) => `a${i}`);
  const sums = new Map<string, number>();
  lists.forEach((list, i) => {
    for (const n of list)
      sums.set(n.itemId, (sums.get(n.itemId) ?? 0) + n.score * (1 / (1 + i * 0.1)));
  });
  const expected = [...sums]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, 100)
    .map(([id]) => id);
  const got = covisitationCandidates(lists, anchors, new Set());
  expect(got.map((c) => c.itemId)).toEqual(expected);
});

test('the reason is the anchor with the heaviest single weight, not the running sum', () => {
  const got = covisitationCandidates(
    [[{ itemId: 'x', score: 5 }], [{ itemId: 'x', score: 6 }], [{ itemId: 'x', score: 7 }]],
    ['a', 'b', 'c'],
    new Set(),
  );
  // Weighted 5, 6/1.1 = 5.45 and 7/1.2 = 5.83: the third anchor weighs most.
  expect(got[0].because).toEqual({ itemId: 'c' });
});

test('category candidates are the best 100 of all favourites, as a full sort would give', () => {
  const ids = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => ({ itemId: `i${(i * 7 + offset) % 200}`, score: n - i }));
  const lists = [ids(150, 0), ids(150, 3), ids(40, 11)];
  const exclude = new Set(['i0', 'i7', 'i14', 'i3']);
  const all = lists.flatMap((list, f) =>
    list
      .map((e, rank) => ({ ...e, score: 1 / (1 + f) / (1 + rank), f }))
      .filter((e) => !exclude.has(e.itemId)),
  );
  const expected = all
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0))
    .slice(0, 100)
    .map((e) => [e.itemId, e.score]);
  const got = categoryCandidates(lists, ['A', 'B', 'C'], exclude);
  expect(got.map((c) => [c.itemId, c.score])).toEqual(expected);
});

test("each source tells its candidates' item numbers, valid in the caller's pass", () => {
  const random = seededRandom(5);
  const lists = Array.from({ length: 6 }, () =>
    Array.from({ length: 40 }, () => ({
      itemId: `n${Math.floor(random() * 120)}`,
      score: Math.floor(random() * 9),
    })),
  );
  const exclude = new Set(['n1', 'n2', 'n3', 'n40']);
  itemTable.pass(() => {
    const told: number[][] = [[], [], []];
    const made = [
      covisitationCandidates(lists, ['a', 'b', 'c', 'd', 'e', 'f'], exclude, told[0]),
      categoryCandidates(lists.slice(0, 3), ['A', 'B', 'C'], exclude, told[1]),
      popularCandidates(lists[4], 'popular', null, exclude, 25, told[2]),
    ];
    made.forEach((candidates, i) => {
      expect(candidates.length).toBeGreaterThan(10);
      expect(told[i]).toEqual(candidates.map((c) => itemTable.numberOf(c.itemId)));
      expect(candidates.some((c) => exclude.has(c.itemId))).toBe(false);
    });
  });
});

test('the excluded set is read afresh for each pass, even when it is the same object', () => {
  const exclude = new Set<string>();
  const popular = list('a', 'b');
  expect(popularCandidates(popular, 'popular', null, exclude).map((c) => c.itemId)).toEqual([
    'a',
    'b',
  ]);
  exclude.add('a');
  expect(popularCandidates(popular, 'popular', null, exclude).map((c) => c.itemId)).toEqual(['b']);
});
