/**
 * A tiny seeded PRNG (mulberry32) and a Fisher-Yates shuffle, so that
 * order-independence tests try many orders and still replay exactly.
 */
import { mulberry32, shuffleInPlace } from '../../../src/domain/random';

export { mulberry32 as seededRandom };

/** A shuffled copy of `items`; the input is left as it was. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  return shuffleInPlace([...items], random);
}

/** One shuffled copy per seed. */
export function shuffles<T>(items: readonly T[], seeds: readonly number[]): T[][] {
  return seeds.map((seed) => shuffled(items, mulberry32(seed)));
}

/** Every ordering of a short list (at most 6 items, 720 orderings). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length > 6) throw new RangeError('permutations() is for lists of at most 6 items');
  if (items.length <= 1) return [[...items]];
  return items.flatMap((head, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [head, ...rest]),
  );
}
