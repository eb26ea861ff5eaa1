/**
 * Picking the n best of many scored items without sorting them all: a
 * bounded min-heap, O(items · log n). Equal scores are ordered by a fixed
 * per-item tie rank, so results never depend on iteration order.
 */
import { mulberry32 } from '../domain/random';

/** A seeded tie order: tieRank[i] is item i's place among equal scores. */
export function tieRanks(n: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i += 1) ranks[i] = random();
  return ranks;
}

/**
 * The indices of the `n` highest scores, best first. `skip(i)` drops item
 * i; scores of -Infinity or NaN are never returned.
 */
export function topN(
  scores: ArrayLike<number>,
  n: number,
  skip: (i: number) => boolean,
  tieRank: ArrayLike<number>,
): number[] {
  const heap: number[] = [];
  // a ranks below b: lower score, or equal score and larger tie rank.
  const below = (a: number, b: number) =>
    scores[a] < scores[b] || (scores[a] === scores[b] && tieRank[a] > tieRank[b]);
  const siftDown = (at: number) => {
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let lowest = at;
      if (left < heap.length && below(heap[left], heap[lowest])) lowest = left;
      if (right < heap.length && below(heap[right], heap[lowest])) lowest = right;
      if (lowest === at) return;
      [heap[at], heap[lowest]] = [heap[lowest], heap[at]];
      at = lowest;
    }
  };
  for (let i = 0; i < scores.length && n > 0; i += 1) {
    const score = scores[i];
    if (!(score > -Infinity) || skip(i)) continue;
    if (heap.length < n) {
      heap.push(i);
      for (let at = heap.length - 1; at > 0;) {
        const parent = (at - 1) >> 1;
        if (!below(heap[at], heap[parent])) break;
        [heap[at], heap[parent]] = [heap[parent], heap[at]];
        at = parent;
      }
    } else if (below(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
}
