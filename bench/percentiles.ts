/**
 * Latency percentiles from a sorted array of samples: exact, pure, and small
 * enough to check by hand. A run records at most a few hundred thousand
 * samples, so keeping them all costs a few MiB and no precision.
 */

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The nearest-rank percentile of ascending `sorted` samples: the smallest
 * sample such that at least `p` percent of the samples are at or below it.
 * NaN when there are no samples; `p` must lie in [0, 100].
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Count, min, mean, p50, p95, p99 and max of unordered samples; the input is not changed. */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const value of sorted) total += value;
  const n = sorted.length;
  return {
    count: n,
    min: n > 0 ? sorted[0] : Number.NaN,
    mean: n > 0 ? total / n : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: n > 0 ? sorted[n - 1] : Number.NaN,
  };
}

/** Collects samples (milliseconds, by convention) as they arrive. */
export class Recorder {
  private values = new Float64Array(1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  record(value: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n] = value;
    this.n += 1;
  }

  summary(): Summary {
    return summarize(this.values.subarray(0, this.n));
  }
}
