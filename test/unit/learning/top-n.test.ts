import { tieRanks, topN } from '../../../src/learning/top-n';
import { seededRandom } from '../support/random';

describe('topN', () => {
  const never = () => false;

  test('matches a full sort by score, then tie rank', () => {
    const random = seededRandom(5);
    const scores = Array.from({ length: 500 }, () => Math.floor(random() * 20));
    const ties = tieRanks(scores.length, 1);
    const expected = scores
      .map((_, i) => i)
      .sort((a, b) => scores[b] - scores[a] || ties[a] - ties[b])
      .slice(0, 25);
    expect(topN(scores, 25, never, ties)).toEqual(expected);
  });

  test('skips what it is told to and never returns -Infinity or NaN', () => {
    const scores = [5, -Infinity, 3, NaN, 4, 1];
    const ties = tieRanks(scores.length, 2);
    expect(topN(scores, 10, (i) => i === 0, ties)).toEqual([4, 2, 5]);
  });

  test('returns fewer when fewer qualify, and nothing for n = 0', () => {
    const ties = tieRanks(3, 3);
    expect(topN([1, 2, 3], 5, never, ties)).toEqual([2, 1, 0]);
    expect(topN([1, 2, 3], 0, never, ties)).toEqual([]);
  });

  test('breaks ties the same way for the same seed, and differently for another', () => {
    const flat = new Array(50).fill(1);
    const a = topN(flat, 10, never, tieRanks(50, 7));
    expect(topN(flat, 10, never, tieRanks(50, 7))).toEqual(a);
    expect(topN(flat, 10, never, tieRanks(50, 8))).not.toEqual(a);
  });
});
