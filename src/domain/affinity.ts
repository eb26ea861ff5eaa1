/**
 * Reading affinities: which categories and items a user leans towards.
 */
import { HALF_LIFE_MS, netDecayedValue } from './decay';
import type { CategoryAffinity } from './features';

/**
 * The net affinity of a log-pair, read at `atMs`. Read relative to the
 * user's own last activity when ranking: the order is the same at any read
 * time, and old histories do not underflow to zero.
 */
export function affinityAt(
  pair: { logPos: number | null; logNeg: number | null },
  atMs: number,
): number {
  return netDecayedValue(pair.logPos, pair.logNeg, atMs, HALF_LIFE_MS.affinity);
}

/** Strongest net affinity first; ties by category name. */
export function sortCategoriesByAffinity(categories: CategoryAffinity[]): CategoryAffinity[] {
  const reference = Math.max(
    ...categories.map((c) => Math.max(c.logPos ?? -Infinity, c.logNeg ?? -Infinity)),
  );
  const value = (c: CategoryAffinity): number => {
    if (!Number.isFinite(reference)) return 0;
    const pos = c.logPos === null ? 0 : Math.exp(c.logPos - reference);
    const neg = c.logNeg === null ? 0 : Math.exp(c.logNeg - reference);
    return pos - neg;
  };
  return [...categories].sort(
    (a, b) =>
      value(b) - value(a) || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0),
  );
}
