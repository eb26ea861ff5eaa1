/**
 * Blending candidates from several sources into one ranked, explained list,
 * then applying the business rules.
 */
import { blendLists } from './blend';
import type { EventType } from './events';

export { blend, blendLists, BlendedList, RANK_OFFSET } from './blend';

/** Where a candidate came from. */
export const CANDIDATE_SOURCES = [
  'model',
  'ease',
  'itemKnn',
  'covisitation',
  'category',
  'trending',
  'popular',
] as const;
export type CandidateSource = (typeof CANDIDATE_SOURCES)[number];

/** One source's vote for one item. Higher scores rank first within a source. */
export interface Candidate {
  itemId: string;
  source: CandidateSource;
  score: number;
  /** What the vote rests on: the item the user liked, or the category. */
  because?: { itemId?: string; category?: string };
}

export type BlendWeights = Readonly<Record<CandidateSource, number>>;

/**
 * model, ease, itemKnn, trending and popular were chosen by a grid search on
 * a validation split carved from MovieLens' training part (README,
 * "Quality"), where trending and popular scored best at 0; they keep a
 * token weight so that a user without history still gets a list, and their
 * reasons still show. covisitation and category are not
 * measured offline (they live in the stream) and stay modest.
 */
export const DEFAULT_BLEND_WEIGHTS: BlendWeights = {
  model: 1,
  ease: 0.75,
  itemKnn: 0.35,
  covisitation: 0.3,
  category: 0.1,
  trending: 0.01,
  popular: 0.01,
};

export interface Contribution {
  source: CandidateSource;
  /** The part of the final score this source gave. */
  share: number;
  because?: { itemId?: string; category?: string };
}

export interface RankedItem {
  itemId: string;
  score: number;
  /** Largest share first. */
  contributions: Contribution[];
}

/** What the rules need to know about an item. */
export interface ItemFacts {
  categories: readonly string[];
  available: boolean;
}

export interface RankingRules {
  limit: number;
  /** Items never to return: already seen, disliked or excluded by the caller. */
  exclude: ReadonlySet<string>;
  /** When non-empty, keep only items in at least one of these categories. */
  includeCategories?: readonly string[];
  /** Drop items in any of these categories. */
  excludeCategories?: readonly string[];
  /** At most this many items per category; null or undefined for no cap. */
  maxPerCategory?: number | null;
}

/**
 * Blends the sources' lists, applies the rules and returns at most
 * `rules.limit` items, best first. Items that `factsOf` does not know, or
 * that are unavailable, are never returned.
 */
export function rankCandidates(
  lists: readonly (readonly Candidate[])[],
  weights: BlendWeights,
  rules: RankingRules,
  factsOf: (itemId: string) => ItemFacts | undefined,
): RankedItem[] {
  const filter = new RuleFilter(rules);
  const blended = blendLists(lists, weights);
  const result: RankedItem[] = [];
  for (let rank = 0; rank < blended.size && result.length < rules.limit; rank += 1) {
    const itemId = blended.idAt(rank);
    if (filter.accept(itemId, factsOf(itemId))) result.push(blended.at(rank));
  }
  blended.release();
  return result;
}

/**
 * The business rules as a stateful filter over a blended list walked best
 * first: it remembers how many items of each category it accepted, so a
 * caller can feed it page by page, loading item facts only for each page.
 */
export class RuleFilter {
  private readonly include: Set<string>;
  private readonly excludeCategories: Set<string>;
  private readonly perCategory = new Map<string, number>();
  private readonly cap: number;

  constructor(private readonly rules: Omit<RankingRules, 'limit'>) {
    this.include = new Set(rules.includeCategories ?? []);
    this.excludeCategories = new Set(rules.excludeCategories ?? []);
    this.cap = rules.maxPerCategory ?? Infinity;
  }

  /** Whether the item passes without needing its facts (seen, disliked, excluded). */
  allowed(itemId: string): boolean {
    return !this.rules.exclude.has(itemId);
  }

  /** Accepts the item, counting it against its categories, or refuses it. */
  accept(itemId: string, facts: ItemFacts | undefined): boolean {
    if (!this.allowed(itemId)) return false;
    if (!facts || !facts.available) return false;
    const { categories } = facts;
    if (this.include.size > 0 && !categories.some((c) => this.include.has(c))) return false;
    if (categories.some((c) => this.excludeCategories.has(c))) return false;
    if (categories.some((c) => (this.perCategory.get(c) ?? 0) >= this.cap)) return false;
    for (const c of categories) this.perCategory.set(c, (this.perCategory.get(c) ?? 0) + 1);
    return true;
  }
}

/**
 * Maximal marginal relevance (Carbonell and Goldstein, 1998): picks `limit`
 * items one at a time, each maximising
 *   lambda · relevance − (1 − lambda) · (largest similarity to those picked),
 * with relevance the blended score scaled to [0, 1]. lambda = 1 keeps the
 * blended order; lower values trade relevance for variety.
 */
export function mmrRerank<T extends { itemId: string; score: number }>(
  ranked: readonly T[],
  limit: number,
  lambda: number,
  similarity: (a: string, b: string) => number,
): T[] {
  if (ranked.length === 0) return [];
  const top = Math.max(...ranked.map((r) => r.score));
  const bottom = Math.min(...ranked.map((r) => r.score));
  const relevance = (r: T) => (top > bottom ? (r.score - bottom) / (top - bottom) : 1);
  const left = [...ranked];
  // Each candidate's largest similarity to what was picked, kept up to date
  // as items are picked: O(pool · limit) similarity calls in all.
  const redundancy = new Array<number>(left.length).fill(0);
  const picked: T[] = [];
  while (picked.length < limit && left.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < left.length; i += 1) {
      const value = lambda * relevance(left[i]) - (1 - lambda) * redundancy[i];
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    const [chosen] = left.splice(best, 1);
    redundancy.splice(best, 1);
    picked.push(chosen);
    if (lambda < 1) {
      for (let i = 0; i < left.length; i += 1) {
        redundancy[i] = Math.max(redundancy[i], similarity(left[i].itemId, chosen.itemId));
      }
    }
  }
  return picked;
}

/** What explanations may look up about items and the user's history. */
export interface ExplainLookup {
  /** An item's title, when known. */
  titleOf(itemId: string): string | undefined;
  /** The item's main category, when known. */
  categoryOf?(itemId: string): string | undefined;
  /** What the user last did with an item, when known. */
  actionOf?(itemId: string): EventType | undefined;
}

/** The verb for what a user did with an item: "because you rated ...". */
export function actionVerb(type: EventType | undefined): string {
  switch (type) {
    case 'RATE':
      return 'rated';
    case 'PURCHASE':
      return 'bought';
    case 'ADD_TO_CART':
      return 'added to your cart';
    case 'VIEW':
      return 'viewed';
    case 'CLICK':
      return 'opened';
    default:
      return 'liked';
  }
}

/** A sentence a product page can show for one contribution to `itemId`. */
export function explain(contribution: Contribution, itemId: string, lookup: ExplainLookup): string {
  const anchor = contribution.because?.itemId;
  const category = contribution.because?.category;
  const anchorTitle = anchor ? lookup.titleOf(anchor) : undefined;
  // Without a user (similar items), the anchor is the item being viewed.
  const because =
    anchor && anchorTitle
      ? lookup.actionOf
        ? `because you ${actionVerb(lookup.actionOf(anchor))} ${anchorTitle}`
        : `similar to ${anchorTitle}`
      : undefined;
  switch (contribution.source) {
    case 'model':
      return 'matches your taste';
    case 'ease':
    case 'itemKnn':
      return because ?? 'similar to items you liked';
    case 'covisitation':
      return because ?? 'often enjoyed together with items you liked';
    case 'category':
      return category ? `popular in ${category}, which you enjoy` : 'popular in genres you enjoy';
    case 'trending': {
      const shown = category ?? lookup.categoryOf?.(itemId);
      return shown ? `trending in ${shown}` : 'trending now';
    }
    case 'popular':
      return category ? `popular in ${category}` : 'popular with everyone';
  }
}
