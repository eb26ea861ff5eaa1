/**
 * Top-N ranking metrics, computed the comparable way: over every item the
 * user has not seen in train, recall divided by the number of test items,
 * ideal DCG and MAP over min(test items, K), and each figure reported as a
 * mean with its standard error over users.
 */

export const METRICS = [
  'precision@10',
  'recall@10',
  'recall@20',
  'ndcg@10',
  'map@10',
  'hr@10',
  'coverage@10',
] as const;
export type Metric = (typeof METRICS)[number];

export interface Figure {
  mean: number;
  /** Standard error of the mean over users; 0 for catalogue coverage. */
  stderr: number;
}

export type Figures = Record<Metric, Figure>;

/** The longest list any metric reads. */
export const LIST_LENGTH = 20;

export interface UserScores {
  precision10: number;
  recall10: number;
  recall20: number;
  ndcg10: number;
  map10: number;
  hit10: number;
}

/** Metrics of one user's ranked list (best first) against that user's test items. */
export function scoreList(ranked: ArrayLike<number>, relevant: ReadonlySet<number>): UserScores {
  const cut = (k: number) => Math.min(k, ranked.length);
  let hits10 = 0;
  let hits20 = 0;
  let dcg = 0;
  let averagePrecision = 0;
  for (let r = 0; r < cut(LIST_LENGTH); r += 1) {
    if (!relevant.has(ranked[r])) continue;
    hits20 += 1;
    if (r < 10) {
      hits10 += 1;
      dcg += 1 / Math.log2(r + 2);
      averagePrecision += hits10 / (r + 1);
    }
  }
  const ideal = Math.min(relevant.size, 10);
  let idcg = 0;
  for (let r = 0; r < ideal; r += 1) idcg += 1 / Math.log2(r + 2);
  return {
    precision10: hits10 / 10,
    recall10: hits10 / relevant.size,
    recall20: hits20 / relevant.size,
    ndcg10: idcg > 0 ? dcg / idcg : 0,
    map10: ideal > 0 ? averagePrecision / ideal : 0,
    hit10: hits10 > 0 ? 1 : 0,
  };
}

/** Accumulates users' scores and the items recommended, then summarises. */
export class MetricsAccumulator {
  private readonly sums = new Map<keyof UserScores, { sum: number; squares: number }>();
  private readonly recommended = new Set<number>();
  private users = 0;

  constructor(private readonly catalogueSize: number) {}

  add(ranked: ArrayLike<number>, relevant: ReadonlySet<number>): void {
    if (relevant.size === 0) return;
    const scores = scoreList(ranked, relevant);
    for (const key of Object.keys(scores) as Array<keyof UserScores>) {
      const entry = this.sums.get(key) ?? { sum: 0, squares: 0 };
      entry.sum += scores[key];
      entry.squares += scores[key] ** 2;
      this.sums.set(key, entry);
    }
    for (let r = 0; r < Math.min(10, ranked.length); r += 1) this.recommended.add(ranked[r]);
    this.users += 1;
  }

  get userCount(): number {
    return this.users;
  }

  figures(): Figures {
    const figure = (key: keyof UserScores): Figure => {
      const entry = this.sums.get(key);
      if (!entry || this.users === 0) return { mean: 0, stderr: 0 };
      const mean = entry.sum / this.users;
      const variance =
        this.users > 1
          ? Math.max(0, (entry.squares - this.users * mean * mean) / (this.users - 1))
          : 0;
      return { mean, stderr: Math.sqrt(variance / this.users) };
    };
    return {
      'precision@10': figure('precision10'),
      'recall@10': figure('recall10'),
      'recall@20': figure('recall20'),
      'ndcg@10': figure('ndcg10'),
      'map@10': figure('map10'),
      'hr@10': figure('hit10'),
      'coverage@10': {
        mean: this.catalogueSize > 0 ? this.recommended.size / this.catalogueSize : 0,
        stderr: 0,
      },
    };
  }
}
