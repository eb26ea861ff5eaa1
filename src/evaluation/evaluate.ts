/**
 * Offline evaluation of recflow's recommendations on a ratings data set,
 * done the comparable way (see ./metrics.ts):
 *
 *   1. split the ratings by protocol; every rating is an implicit positive;
 *   2. train the model on the train part (one interaction of weight 1 each);
 *   3. for every user with test items, fold the user's train items in and
 *      ask each source for its best items among all those the user has not
 *      seen in train: model (iALS), ease, itemKnn, trending and popular;
 *   4. blend those lists with the live service's ranking (rankCandidates);
 *   5. score the top 20 of the blend and of each source alone against the
 *      user's test items. "popular" alone is the most-popular baseline.
 *
 * With `validation`, the train part is split again (same protocol, seed + 1)
 * and everything above runs on that inner split: the test part is never
 * read. That is where hyper-parameters and blend weights are tuned.
 *
 * The sources the live service feeds from its stream features
 * (covisitation, category) have no offline twin here and are left out.
 */
import { HALF_LIFE_MS } from '../domain/decay';
import {
  DEFAULT_BLEND_WEIGHTS,
  rankCandidates,
  type BlendWeights,
  type Candidate,
  type ItemFacts,
} from '../domain/ranking';
import { learnedCandidates } from '../learning/candidates';
import { ServingModel, type ModelParams, type WeightedItem } from '../learning/model';
import { topN } from '../learning/top-n';
import { DEFAULT_MODEL_PARAMS, trainModel } from '../learning/train';
import { LIST_LENGTH, MetricsAccumulator, type Figures } from './metrics';
import { split, type Protocol, type Rating } from './split';

export interface EvaluationItem {
  id: string;
  categories: readonly string[];
}

/** Ratings (timestamps in seconds, as MovieLens has them) and the catalogue. */
export interface EvaluationData {
  ratings: readonly Rating[];
  items: readonly EvaluationItem[];
}

/** The candidate sources evaluated, each alone and blended. */
export const LIST_SOURCES = ['model', 'ease', 'itemKnn', 'trending', 'popular'] as const;
export type ListSource = (typeof LIST_SOURCES)[number];

/** What the figures are reported for: the blend first, then each source alone. */
export const EVALUATED = ['blend', ...LIST_SOURCES] as const;
export type Evaluated = (typeof EVALUATED)[number];

export interface EvaluationOptions {
  /** Blend weights. Default: DEFAULT_BLEND_WEIGHTS, the live service's. */
  weights?: BlendWeights;
  /** Evaluate on a validation split carved from train; test is never read. Default false. */
  validation?: boolean;
  /** Model hyper-parameters. Default: DEFAULT_MODEL_PARAMS. */
  params?: ModelParams;
  /** How many candidates each source hands the blend. Default 100. */
  perSource?: number;
}

export const DEFAULT_PER_SOURCE = 100;

/** Trending: train popularity decayed with this half-life back from the latest train rating. */
export const TRENDING_HALF_LIFE_MS = HALF_LIFE_MS.day;

export interface SplitSizes {
  /** Ratings the split was made from (the train part, for a validation split). */
  ratings: number;
  train: number;
  test: number;
  /** Users with at least one test item not seen in train: the users evaluated. */
  users: number;
  /** Catalogue size: the items ranked, and the denominator of coverage. */
  items: number;
}

export interface EvaluationTimings {
  splitMs: number;
  /** Whole training, matrix included; the parts follow. */
  trainMs: number;
  ialsMs: number;
  itemKnnMs: number;
  easeMs: number;
  /** Candidate lists for every user, blending and scoring. */
  evaluateMs: number;
}

/** Which split was evaluated, how big it was and how long it took. */
interface EvaluatedSplit {
  protocol: Protocol;
  seed: number;
  validation: boolean;
  /** The seed of the split evaluated: `seed`, or `seed + 1` for validation. */
  splitSeed: number;
  sizes: SplitSizes;
  timings: EvaluationTimings;
}

export interface ProtocolResult extends EvaluatedSplit {
  weights: BlendWeights;
  /** Per evaluated list; `ease` is absent when the catalogue was too large for EASE. */
  figures: Partial<Record<Evaluated, Figures>>;
}

/** One evaluated user: the candidate lists, what to exclude, what is relevant. */
interface UserCase {
  lists: Record<ListSource, Candidate[]>;
  /** Item ids seen in train. */
  seen: ReadonlySet<string>;
  /** Catalogue indices of the test items not seen in train. */
  relevant: ReadonlySet<number>;
}

/**
 * A trained model and every user's candidate lists, ready to be scored
 * under any number of blend weights (which is how a weight grid is searched
 * without retraining).
 */
export interface PreparedEvaluation extends EvaluatedSplit {
  hasEase: boolean;
  itemIndex: ReadonlyMap<string, number>;
  factsOf: (itemId: string) => ItemFacts | undefined;
  users: UserCase[];
}

export function evaluateProtocol(
  data: EvaluationData,
  protocol: Protocol,
  seed: number,
  options: EvaluationOptions = {},
): ProtocolResult {
  const prepared = prepareEvaluation(data, protocol, seed, options);
  const weights = options.weights ?? DEFAULT_BLEND_WEIGHTS;
  const started = performance.now();
  const figures = scoreSources(prepared, weights);
  const timings = {
    ...prepared.timings,
    evaluateMs: Math.round(prepared.timings.evaluateMs + performance.now() - started),
  };
  return {
    protocol,
    seed,
    validation: prepared.validation,
    splitSeed: prepared.splitSeed,
    sizes: prepared.sizes,
    timings,
    weights,
    figures,
  };
}

/** Splits, trains and gathers every evaluated user's candidate lists. */
export function prepareEvaluation(
  data: EvaluationData,
  protocol: Protocol,
  seed: number,
  options: EvaluationOptions = {},
): PreparedEvaluation {
  const validation = options.validation ?? false;
  const perSource = options.perSource ?? DEFAULT_PER_SOURCE;

  // Split; for validation, split the train part again and never look at test.
  let started = performance.now();
  const outer = split(data.ratings, protocol, seed);
  const splitSeed = validation ? seed + 1 : seed;
  const inner = validation ? split(outer.train, protocol, splitSeed) : outer;
  const splitMs = elapsed(started);

  // Train on the train part: every rating an interaction of weight 1.
  const catalogue = catalogueOf(data);
  started = performance.now();
  const trained = trainModel(
    inner.train.map((r) => ({ userId: r.userId, itemId: r.itemId, weight: 1 })),
    catalogue,
    options.params ?? DEFAULT_MODEL_PARAMS,
  );
  const trainMs = elapsed(started);
  const serving = new ServingModel(trained.model);

  // Every user's candidate lists, from that user's train items only.
  started = performance.now();
  const seenBy = itemsByUser(inner.train);
  const heldBy = itemsByUser(inner.test);
  const trending = byScore(trendingScores(inner.train, serving.itemIndex), serving.tieRank);
  const popular = byScore(popularityScores(inner.train, serving.itemIndex), serving.tieRank);
  const ids = serving.model.itemIds;
  const users: UserCase[] = [];
  for (const [userId, held] of heldBy) {
    const seen = seenBy.get(userId) ?? new Set<string>();
    const relevant = new Set<number>();
    for (const itemId of held) {
      if (!seen.has(itemId)) relevant.add(serving.itemIndex.get(itemId) as number);
    }
    if (relevant.size === 0) continue;
    const interactions: WeightedItem[] = [...seen].map((itemId) => ({ itemId, weight: 1 }));
    const learned = learnedCandidates(serving, interactions, (id) => seen.has(id), perSource);
    const unseen = (order: Int32Array, scores: Float64Array, source: ListSource) =>
      firstUnseen(order, scores, ids, seen, perSource, source);
    users.push({
      lists: {
        ...learned,
        trending: unseen(trending.order, trending.scores, 'trending'),
        popular: unseen(popular.order, popular.scores, 'popular'),
      },
      seen,
      relevant,
    });
  }

  const facts = new Map<string, ItemFacts>();
  for (const itemId of catalogue) facts.set(itemId, { categories: [], available: true });
  for (const item of data.items)
    facts.set(item.id, { categories: item.categories, available: true });
  return {
    protocol,
    seed,
    validation,
    splitSeed,
    sizes: {
      ratings: validation ? outer.train.length : data.ratings.length,
      train: inner.train.length,
      test: inner.test.length,
      users: users.length,
      items: catalogue.length,
    },
    timings: { splitMs, trainMs, ...trained.timings, evaluateMs: elapsed(started) },
    hasEase: trained.model.ease !== null,
    itemIndex: serving.itemIndex,
    factsOf: (itemId) => facts.get(itemId),
    users,
  };
}

/** Figures of the blend under `weights` and of each source alone. */
export function scoreSources(
  prepared: PreparedEvaluation,
  weights: BlendWeights,
): Partial<Record<Evaluated, Figures>> {
  const figures: Partial<Record<Evaluated, Figures>> = { blend: scoreBlend(prepared, weights) };
  for (const source of LIST_SOURCES) {
    if (source === 'ease' && !prepared.hasEase) continue;
    const accumulator = new MetricsAccumulator(prepared.sizes.items);
    for (const user of prepared.users) {
      const top = user.lists[source].slice(0, LIST_LENGTH);
      accumulator.add(indicesOf(top, prepared.itemIndex), user.relevant);
    }
    figures[source] = accumulator.figures();
  }
  return figures;
}

/** Figures of the blend alone: what a weight search compares. */
export function scoreBlend(prepared: PreparedEvaluation, weights: BlendWeights): Figures {
  const accumulator = new MetricsAccumulator(prepared.sizes.items);
  for (const user of prepared.users) {
    const lists = LIST_SOURCES.map((source) => user.lists[source]);
    const ranked = rankCandidates(
      lists,
      weights,
      { limit: LIST_LENGTH, exclude: user.seen },
      prepared.factsOf,
    );
    accumulator.add(indicesOf(ranked, prepared.itemIndex), user.relevant);
  }
  return accumulator.figures();
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** Catalogue items first, in their order, then items only the ratings name. */
function catalogueOf(data: EvaluationData): string[] {
  const ids = new Set(data.items.map((item) => item.id));
  for (const r of data.ratings) ids.add(r.itemId);
  return [...ids];
}

function itemsByUser(ratings: readonly Rating[]): Map<string, Set<string>> {
  const byUser = new Map<string, Set<string>>();
  for (const { userId, itemId } of ratings) {
    const items = byUser.get(userId);
    if (items) items.add(itemId);
    else byUser.set(userId, new Set([itemId]));
  }
  return byUser;
}

/**
 * Train popularity decayed with TRENDING_HALF_LIFE_MS back from the latest
 * train rating: the offline twin of the live "trending" (day) window.
 */
function trendingScores(train: readonly Rating[], itemIndex: ReadonlyMap<string, number>) {
  const scores = new Float64Array(itemIndex.size);
  let latest = -Infinity;
  for (const r of train) latest = Math.max(latest, r.timestamp);
  for (const r of train) {
    const ageMs = (latest - r.timestamp) * 1000;
    scores[itemIndex.get(r.itemId) as number] += 2 ** (-ageMs / TRENDING_HALF_LIFE_MS);
  }
  return scores;
}

/** Train interaction counts. */
function popularityScores(train: readonly Rating[], itemIndex: ReadonlyMap<string, number>) {
  const scores = new Float64Array(itemIndex.size);
  for (const r of train) scores[itemIndex.get(r.itemId) as number] += 1;
  return scores;
}

/** Items with a positive score, best first, ties in the model's seeded order. */
function byScore(
  scores: Float64Array,
  tieRank: ArrayLike<number>,
): { order: Int32Array; scores: Float64Array } {
  const order = topN(scores, scores.length, (i) => !(scores[i] > 0), tieRank);
  return { order: Int32Array.from(order), scores };
}

/** The first `n` items of a global order that the user has not seen, as candidates. */
function firstUnseen(
  order: Int32Array,
  scores: Float64Array,
  ids: readonly string[],
  seen: ReadonlySet<string>,
  n: number,
  source: ListSource,
): Candidate[] {
  const out: Candidate[] = [];
  for (let r = 0; r < order.length && out.length < n; r += 1) {
    const itemId = ids[order[r]];
    if (!seen.has(itemId)) out.push({ itemId, source, score: scores[order[r]] });
  }
  return out;
}

function indicesOf(
  items: readonly { itemId: string }[],
  itemIndex: ReadonlyMap<string, number>,
): number[] {
  return items.map((item) => itemIndex.get(item.itemId) as number);
}
