/**
 * The blend's bookkeeping is flat and lazy for speed; these tests hold it to
 * a plain, eager reference written straight from the rules in its comment.
 */
import { blend, blendLists, BlendedList, RANK_OFFSET } from '../../../src/domain/blend';
import { itemTable } from '../../../src/domain/item-numbering';
import {
  type BlendWeights,
  type Candidate,
  CANDIDATE_SOURCES,
  type Contribution,
  DEFAULT_BLEND_WEIGHTS,
  type RankedItem,
} from '../../../src/domain/ranking';
import { seededRandom } from '../support/random';

function reference(lists: readonly Candidate[][], weights: BlendWeights): RankedItem[] {
  const items = new Map<string, { score: number; parts: Array<Contribution & { top: number }> }>();
  for (const list of lists) {
    const ordered = [...list].sort(
      (a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0),
    );
    const named = new Set<string>();
    for (const c of ordered) {
      if (named.has(c.itemId)) continue;
      named.add(c.itemId);
      const share = weights[c.source] / (RANK_OFFSET + named.size);
      if (!(share > 0)) continue;
      const item = items.get(c.itemId) ?? { score: 0, parts: [] };
      items.set(c.itemId, item);
      item.score += share;
      const part = item.parts.find((p) => p.source === c.source);
      if (!part) item.parts.push({ source: c.source, share, because: c.because, top: share });
      else {
        if (share > part.top) [part.because, part.top] = [c.because, share];
        part.share += share;
      }
    }
  }
  return [...items]
    .map(([itemId, { score, parts }]) => ({
      itemId,
      score,
      contributions: parts
        .sort((a, b) => b.share - a.share)
        .map(({ source, share, because }) => ({ source, share, because })),
    }))
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
}

function randomLists(random: () => number): Candidate[][] {
  const pick = (n: number) => Math.floor(random() * n);
  return Array.from({ length: 1 + pick(6) }, (_, l) =>
    Array.from({ length: pick(40) }, (_, i) => ({
      itemId: `i${pick(30)}`,
      source: CANDIDATE_SOURCES[pick(CANDIDATE_SOURCES.length)],
      score: pick(6),
      because: random() < 0.5 ? { itemId: `anchor-${l}-${i}` } : undefined,
    })),
  );
}

test('matches the reference on 2,000 random inputs with repeats, ties and zero weights', () => {
  const random = seededRandom(42);
  const weights = { ...DEFAULT_BLEND_WEIGHTS, popular: 0 };
  for (let run = 0; run < 2000; run += 1) {
    const lists = randomLists(random);
    if (run % 3 === 0) for (const list of lists) list.sort((a, b) => b.score - a.score);
    expect(blend(lists, weights)).toEqual(reference(lists, weights));
  }
});

test('blendLists ranks the same items; each is built only when asked for', () => {
  const lists = [...randomLists(seededRandom(7)), ...randomLists(seededRandom(8))];
  const expected = reference(lists, DEFAULT_BLEND_WEIGHTS);
  const blended = blendLists(lists, DEFAULT_BLEND_WEIGHTS);
  expect(blended.size).toBe(expected.length);
  expected.forEach((item, rank) => expect(blended.idAt(rank)).toBe(item.itemId));
  const middle = Math.floor(expected.length / 2);
  expect(expected.length).toBeGreaterThan(5);
  expect(blended.at(middle)).toEqual(expected[middle]);
  expect(blended.at(middle)).not.toBe(blended.at(middle));
});

test('item numbers told by the caller give the same blend as numbers looked up', () => {
  const random = seededRandom(11);
  for (let run = 0; run < 200; run += 1) {
    const lists = randomLists(random);
    for (const list of lists)
      list.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
    const told = itemTable.pass(() => {
      const numbers = lists.map((list) => list.map((c) => itemTable.numberOf(c.itemId)));
      const blended = blendLists(lists, DEFAULT_BLEND_WEIGHTS, numbers);
      return Array.from({ length: blended.size }, (_, rank) => blended.at(rank));
    });
    expect(told).toEqual(reference(lists, DEFAULT_BLEND_WEIGHTS));
  }
});

test('leaves the input lists as they were', () => {
  const lists = randomLists(seededRandom(9));
  const copy = JSON.parse(JSON.stringify(lists));
  blend(lists, DEFAULT_BLEND_WEIGHTS);
  expect(JSON.parse(JSON.stringify(lists))).toEqual(copy);
});

test('namesAt gives the item and every item its reasons name, without building it', () => {
  const lists: Candidate[][] = [
    [{ itemId: 'x', source: 'covisitation', score: 2, because: { itemId: 'a1' } }],
    [{ itemId: 'x', source: 'itemKnn', score: 1, because: { itemId: 'a2' } }],
    [{ itemId: 'y', source: 'category', score: 1, because: { category: 'Drama' } }],
  ];
  const blended = blendLists(lists, DEFAULT_BLEND_WEIGHTS);
  const names = new Set<string>();
  for (let rank = 0; rank < blended.size; rank += 1) blended.namesAt(rank, names);
  expect([...names].sort()).toEqual(['a1', 'a2', 'x', 'y']);
});

test('a BlendedList filled across another blend refuses instead of going wrong', () => {
  const a = new BlendedList(2);
  a.add(0, [{ itemId: 'x', source: 'model', score: 1 }], DEFAULT_BLEND_WEIGHTS);
  blendLists([[{ itemId: 'y', source: 'model', score: 1 }]], DEFAULT_BLEND_WEIGHTS);
  expect(() =>
    a.add(1, [{ itemId: 'z', source: 'ease', score: 1 }], DEFAULT_BLEND_WEIGHTS),
  ).toThrow(/one synchronous pass/);
});

test('a released list reads as empty, and later blends reusing its arrays start clean', () => {
  const random = seededRandom(13);
  const first = blendLists(randomLists(random), DEFAULT_BLEND_WEIGHTS);
  const kept = first.size > 0 ? first.at(0) : undefined;
  const keptCopy = JSON.parse(JSON.stringify(kept ?? null));
  first.release();
  expect(first.size).toBe(0);
  expect(() => first.at(0)).toThrow(/released/);
  first.release();
  // Every later blend takes arrays an earlier one filled.
  for (let run = 0; run < 300; run += 1) {
    const lists = randomLists(random);
    const blended = blendLists(lists, DEFAULT_BLEND_WEIGHTS);
    const all = Array.from({ length: blended.size }, (_, rank) => blended.at(rank));
    blended.release();
    expect(all).toEqual(reference(lists, DEFAULT_BLEND_WEIGHTS));
  }
  expect(JSON.parse(JSON.stringify(kept ?? null))).toEqual(keptCopy);
});
