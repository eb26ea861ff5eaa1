/**
 * Recency-weighted sums that do not depend on the order events arrive in.
 *
 * An event of weight w > 0 at time t adds w·e^{λ(t − T₀)} to a sum, where T₀
 * is a fixed epoch and λ = ln 2 / half-life. Read at time r, the sum is
 * worth Σ·e^{−λ(r − T₀)}. Addition commutes, so two workers, a replay or a
 * redelivery in any order reach the same sum.
 *
 * The sums are kept as their natural logarithm: ln Σ grows by log-add-exp.
 * That never overflows (a plain sum with a one-day half-life would pass
 * float64's range within three years of T₀) and never needs a rebase. `null`
 * stands for an empty sum, ln 0.
 */

/** T₀: 2000-01-01T00:00:00Z. Changing it invalidates every stored sum. */
export const FEATURE_EPOCH_MS = Date.UTC(2000, 0, 1);

const DAY_MS = 86_400_000;

/** Half-lives of the decayed features, in milliseconds. */
export const HALF_LIFE_MS = {
  /** User-item and user-category affinity. */
  affinity: 30 * DAY_MS,
  /** Popularity windows. DAY is what recflow calls trending. */
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 30 * DAY_MS,
} as const;

/** Beyond this gap between two log-sums, the smaller one is negligible. */
export const LOG_GAP_LIMIT = 40;

/** ln of one event's contribution: ln w + λ(t − T₀). Needs w > 0. */
export function logContribution(weight: number, atMs: number, halfLifeMs: number): number {
  if (!(weight > 0)) throw new RangeError(`decayed weight must be positive, got ${weight}`);
  return Math.log(weight) + (Math.LN2 * (atMs - FEATURE_EPOCH_MS)) / halfLifeMs;
}

/** ln(e^a + e^b), with null as ln 0. */
export function logAddExp(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  const hi = Math.max(a, b);
  const gap = Math.abs(a - b);
  // Past a gap of 40 the smaller term cannot change a float64; the SQL twin
  // (recflow_logaddexp) must skip exp() there, as PostgreSQL raises on underflow.
  return gap > LOG_GAP_LIMIT ? hi : hi + Math.log1p(Math.exp(-gap));
}

/** The worth of a stored log-sum when read at `atMs`. */
export function decayedValue(logSum: number | null, atMs: number, halfLifeMs: number): number {
  if (logSum === null) return 0;
  return Math.exp(logSum - (Math.LN2 * (atMs - FEATURE_EPOCH_MS)) / halfLifeMs);
}

/**
 * Net affinity e^{logPos} − e^{logNeg}, read at `atMs`. Ranking by it does not
 * depend on `atMs`: every sum shrinks by the same factor.
 */
export function netDecayedValue(
  logPos: number | null,
  logNeg: number | null,
  atMs: number,
  halfLifeMs: number,
): number {
  return decayedValue(logPos, atMs, halfLifeMs) - decayedValue(logNeg, atMs, halfLifeMs);
}
