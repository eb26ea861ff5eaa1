/**
 * A recommended item as the recommender serves it: the item record, its
 * blended score, and why it was picked. The reasons are text, and most
 * queries never ask for them, so they are worked out only when read.
 */
import type { ItemFeatures, UserFeatures } from '../domain/features';
import {
  type CandidateSource,
  type ExplainLookup,
  type RankedItem,
  explain,
} from '../domain/ranking';

/**
 * One item of a list. The recommender's items are read-only views whose
 * reasons are worked out when first read: read the fields, or serialise
 * them with JSON, but do not spread or structured-clone them (the getters
 * would be lost); `plainItem()` gives a plain copy.
 */
export interface RecommendedItem {
  readonly item: ItemFeatures;
  readonly score: number;
  /** Why, in words, strongest first. */
  readonly reasons: string[];
  /** The sources that contributed, strongest first. */
  readonly sources: CandidateSource[];
}

/**
 * The ranked items, served: each with its record, and explanations that
 * name the items and actions behind it (`items` holds every record the
 * reasons may name; `user` is null for lists not made for a user).
 */
export function serveItems(
  ranked: readonly RankedItem[],
  items: ReadonlyMap<string, ItemFeatures>,
  user: UserFeatures | null,
): RecommendedItem[] {
  const lookup: ExplainLookup = {
    titleOf: (id) => items.get(id)?.title || undefined,
    categoryOf: (id) => items.get(id)?.categories[0],
    ...(user ? { actionOf: (id: string) => user.recent.find((r) => r.itemId === id)?.type } : {}),
  };
  return ranked.map((r) => new ServedItem(items.get(r.itemId) as ItemFeatures, r, lookup));
}

/**
 * A recommended item as served. Its reasons are worked out when first read:
 * a query that asks only for items and scores never builds their text. Its
 * own state is private (`#`), so what code sees of it is the four fields of
 * RecommendedItem: JSON gives exactly those (`toJSON`), and `plainItem()` a
 * plain copy for anything that clones or spreads.
 */
class ServedItem implements RecommendedItem {
  readonly item: ItemFeatures;
  readonly score: number;
  readonly #ranked: RankedItem;
  readonly #lookup: ExplainLookup;
  #reasons: string[] | undefined = undefined;

  constructor(item: ItemFeatures, ranked: RankedItem, lookup: ExplainLookup) {
    this.item = item;
    this.score = ranked.score;
    this.#ranked = ranked;
    this.#lookup = lookup;
  }

  get reasons(): string[] {
    const { contributions, itemId } = this.#ranked;
    this.#reasons ??= [...new Set(contributions.map((c) => explain(c, itemId, this.#lookup)))];
    return this.#reasons;
  }

  get sources(): CandidateSource[] {
    return this.#ranked.contributions.map((c) => c.source);
  }

  toJSON(): RecommendedItem {
    return plainItem(this);
  }
}

/**
 * A plain object with a recommended item's four fields, safe to spread,
 * clone or post to a worker. Its reasons and sources are its own arrays;
 * its item record is the one the gateway caches and shares, so never
 * change it (no code does: records are read-only once loaded).
 */
export function plainItem(item: RecommendedItem): RecommendedItem {
  return {
    item: item.item,
    score: item.score,
    reasons: [...item.reasons],
    sources: [...item.sources],
  };
}
