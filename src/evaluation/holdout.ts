/**
 * The figures stored with every trained model: each sampled user's latest
 * positive interaction is held out of training, and the model must find it
 * again from the rest of that user's history (leave-one-out, HR@10 and
 * NDCG@10 among the rest). Training once on the remaining data keeps it
 * cheap; the few held-out pairs hardly change the item factors, and serving
 * folds every user in from the full history anyway.
 */
import { mulberry32, shuffleInPlace } from '../domain/random';
import { type BlendWeights, rankCandidates } from '../domain/ranking';
import { learnedCandidates } from '../learning/candidates';
import type { ServingModel, WeightedItem } from '../learning/model';
import { type Figures, LIST_LENGTH, MetricsAccumulator } from './metrics';

export interface HeldRow {
  userId: string;
  itemId: string;
  weight: number;
  lastAt: number;
}

export interface Holdout<R extends HeldRow> {
  train: R[];
  /** user → the item held out for that user. */
  held: Map<string, string>;
}

/** Holds out the latest positive pair of up to `maxUsers` users with at least two positives. */
export function holdOut<R extends HeldRow>(
  rows: readonly R[],
  maxUsers: number,
  seed: number,
): Holdout<R> {
  const latest = new Map<string, { row: R; positives: number }>();
  for (const row of rows) {
    if (row.weight <= 0) continue;
    const entry = latest.get(row.userId);
    if (!entry) latest.set(row.userId, { row, positives: 1 });
    else {
      entry.positives += 1;
      const newer =
        row.lastAt > entry.row.lastAt ||
        (row.lastAt === entry.row.lastAt && row.itemId > entry.row.itemId);
      if (newer) entry.row = row;
    }
  }
  const eligible = [...latest.entries()]
    .filter(([, e]) => e.positives >= 2)
    .map(([userId]) => userId)
    .sort();
  const chosen = shuffleInPlace(eligible, mulberry32(seed)).slice(0, maxUsers);
  const held = new Map(chosen.map((u) => [u, (latest.get(u) as { row: R }).row.itemId]));
  const train = rows.filter((r) => held.get(r.userId) !== r.itemId);
  return { train, held };
}

export const HOLDOUT_SOURCES = ['blend', 'model', 'ease', 'itemKnn'] as const;
export type HoldoutSource = (typeof HOLDOUT_SOURCES)[number];

export interface HoldoutFigures {
  users: number;
  sources: Partial<Record<HoldoutSource, Pick<Figures, 'hr@10' | 'ndcg@10'>>>;
}

/** Scores the model on the held-out pairs; `history` is each user's training interactions. */
export function evaluateHoldout(
  serving: ServingModel,
  history: ReadonlyMap<string, WeightedItem[]>,
  held: ReadonlyMap<string, string>,
  weights: BlendWeights,
): HoldoutFigures {
  const index = serving.itemIndex;
  const accumulators = new Map(
    HOLDOUT_SOURCES.map((s) => [s, new MetricsAccumulator(serving.itemCount)]),
  );
  let users = 0;
  for (const [userId, itemId] of held) {
    const target = index.get(itemId);
    const interactions = history.get(userId) ?? [];
    if (target === undefined || interactions.length === 0) continue;
    users += 1;
    const seen = new Set(interactions.map((x) => x.itemId));
    const lists = learnedCandidates(serving, interactions, (id) => seen.has(id), LIST_LENGTH * 5);
    const blended = rankCandidates(
      [lists.model, lists.ease, lists.itemKnn],
      weights,
      { limit: LIST_LENGTH, exclude: seen },
      () => ({ categories: [], available: true }),
    );
    const relevant = new Set([target]);
    const ranked: Record<HoldoutSource, string[]> = {
      blend: blended.map((r) => r.itemId),
      model: lists.model.map((c) => c.itemId),
      ease: lists.ease.map((c) => c.itemId),
      itemKnn: lists.itemKnn.map((c) => c.itemId),
    };
    for (const source of HOLDOUT_SOURCES) {
      const ids = ranked[source].slice(0, LIST_LENGTH).map((id) => index.get(id) ?? -1);
      accumulators.get(source)?.add(ids, relevant);
    }
  }
  const sources: HoldoutFigures['sources'] = {};
  for (const source of HOLDOUT_SOURCES) {
    if (source === 'ease' && !serving.model.ease) continue;
    const figures = accumulators.get(source)?.figures();
    if (figures) sources[source] = { 'hr@10': figures['hr@10'], 'ndcg@10': figures['ndcg@10'] };
  }
  return { users, sources };
}
