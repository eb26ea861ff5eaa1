/** Seeded randomness, so that training, splits and tie-breaks repeat exactly. */

/** A small, fast, seeded PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `values` in place (Fisher-Yates) and returns it. */
export function shuffleInPlace<T>(values: T[], random: () => number): T[] {
  for (let i = values.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const swap = values[i];
    values[i] = values[j];
    values[j] = swap;
  }
  return values;
}
