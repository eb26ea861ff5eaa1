/**
 * The learned candidate sources as the recommender uses them: the serving
 * model, what it knows of a user, and a cache of each user's candidates.
 */
import type { ItemFeatures, UserFeatures } from '../domain/features';
import { type LearnedCandidates, learnedCandidates } from '../learning/candidates';
import type { ServingModel, WeightedItem } from '../learning/model';
import { Lru } from './lru';

/** Candidates each learned source offers the blend. */
const LEARNED_CANDIDATES = 100;

/** Where the recommender finds the model to serve; null before the first training. */
export interface ModelSource {
  current(): ServingModel | null;
}

export const NO_MODEL: ModelSource = { current: () => null };

const NONE: LearnedCandidates = { model: [], ease: [], itemKnn: [] };

export class LearnedSources {
  private readonly cache = new WeakMap<ServingModel, Lru<string, LearnedCandidates>>();

  constructor(
    private readonly models: ModelSource = NO_MODEL,
    /** What the learned sources know of a user; replay evaluation swaps it to freeze users. */
    private readonly interactionsOf: (user: UserFeatures) => WeightedItem[] = userInteractions,
    /** Users whose candidates are kept, per model. */
    private readonly cacheSize = 10_000,
  ) {}

  /** The model serving now; read once per request, so a swap never splits one. */
  current(): ServingModel | null {
    return this.models.current();
  }

  /**
   * The learned sources' candidates for a user, cached per model and per
   * version of the user's features: a user's next event changes the
   * version, and a new model gets a new cache, so nothing stale is served.
   */
  forUser(model: ServingModel | null, user: UserFeatures | null, includeSeen: boolean) {
    if (!model || !user) return NONE;
    let cache = this.cache.get(model);
    if (!cache) {
      cache = new Lru(this.cacheSize);
      this.cache.set(model, cache);
    }
    const key = `${user.userId}\u0000${user.version}\u0000${includeSeen ? 1 : 0}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const skip = new Set(user.disliked);
    if (!includeSeen) for (const id of user.seen) skip.add(id);
    const lists = learnedCandidates(
      model,
      this.interactionsOf(user),
      (id) => skip.has(id),
      LEARNED_CANDIDATES,
    );
    cache.set(key, lists);
    return lists;
  }
}

/**
 * What fold-in and the item-to-item sources know of a user: the net weight
 * of each of the user's latest interactions, a negative weight for each
 * disliked item, and a unit weight for every other item the user touched.
 */
export function userInteractions(user: UserFeatures): WeightedItem[] {
  const weights = new Map<string, number>();
  for (const r of user.recent) weights.set(r.itemId, (weights.get(r.itemId) ?? 0) + r.weight);
  for (const id of user.disliked) if (!weights.has(id)) weights.set(id, -1);
  // Sorted, so the fold-in adds the same numbers in the same order whichever
  // store the user came from (seen has no order of its own).
  for (const id of [...user.seen].sort()) if (!weights.has(id)) weights.set(id, 1);
  return [...weights].map(([itemId, weight]) => ({ itemId, weight }));
}

/**
 * How alike two items are, for MMR: the cosine of their factor vectors when
 * the model knows both, otherwise the overlap (Jaccard) of their categories.
 */
export function similarity(
  model: ServingModel | null,
  items: ReadonlyMap<string, ItemFeatures>,
  a: string,
  b: string,
): number {
  const cosine = model?.factorCosine(a, b);
  if (cosine !== null && cosine !== undefined) return cosine;
  const ca = new Set(items.get(a)?.categories ?? []);
  const cb = items.get(b)?.categories ?? [];
  const shared = cb.filter((c) => ca.has(c)).length;
  const union = ca.size + cb.length - shared;
  return union > 0 ? shared / union : 0;
}
