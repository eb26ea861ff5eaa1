/**
 * A tiny seeded PRNG (mulberry32) and a Fisher-Yates shuffle, so that
 * order-independence tests try many orders and still replay exactly.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy of `items`; the input is left as it was. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** One shuffled copy per seed. */
export function shuffles<T>(items: readonly T[], seeds: readonly number[]): T[][] {
  return seeds.map((seed) => shuffled(items, seededRandom(seed)));
}

/** Every ordering of a short list (at most 6 items, 720 orderings). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length > 6) throw new RangeError('permutations() is for lists of at most 6 items');
  if (items.length <= 1) return [[...items]];
  return items.flatMap((head, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [head, ...rest]),
  );
}
