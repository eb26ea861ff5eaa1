/**
 * Blending candidates from several sources into one ranked, explained list,
 * then applying the business rules.
 */
import type { EventType } from './events';

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

/**
 * Sources score on unrelated scales, so each list is normalised by rank:
 * the item at rank r (from 1) earns weight / (RANK_OFFSET + r). A larger
 * offset flattens the gap between the top ranks.
 */
export const RANK_OFFSET = 10;

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
  const result: RankedItem[] = [];
  for (const item of blend(lists, weights)) {
    if (result.length >= rules.limit) break;
    if (filter.accept(item.itemId, factsOf(item.itemId))) result.push(item);
  }
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

/**
 * Rank-normalised weighted sum over sources, ties broken by item id. An
 * item listed twice by one list counts once, at its better rank; an item
 * whose every share is zero is left out.
 *
 * This runs on every request, over a few hundred candidates: it makes one
 * pass per list (lists that arrive ordered are not sorted again) and one
 * accumulator per item, and sorts once at the end.
 */
export function blend(
  lists: readonly (readonly Candidate[])[],
  weights: BlendWeights,
): RankedItem[] {
  const byItem = new Map<string, Accumulator>();
  lists.forEach((list, index) => {
    const ordered = isOrdered(list) ? list : [...list].sort(byScoreThenId);
    let rank = 0;
    for (const candidate of ordered) {
      let entry = byItem.get(candidate.itemId);
      if (entry?.lastList === index) continue;
      rank += 1;
      if (entry === undefined) {
        entry = { score: 0, lastList: index, contributions: [], largest: [] };
        byItem.set(candidate.itemId, entry);
      }
      entry.lastList = index;
      const share = weights[candidate.source] / (RANK_OFFSET + rank);
      if (share > 0) {
        entry.score += share;
        mergeContribution(entry, candidate, share);
      }
    }
  });
  const ranked: RankedItem[] = [];
  for (const [itemId, entry] of byItem) {
    if (entry.contributions.length === 0) continue;
    if (entry.contributions.length > 1) entry.contributions.sort((a, b) => b.share - a.share);
    ranked.push({ itemId, score: entry.score, contributions: entry.contributions });
  }
  return ranked.sort((a, b) => b.score - a.score || compareIds(a.itemId, b.itemId));
}

/** One item's running total while blending. */
interface Accumulator {
  score: number;
  /** The list that last named the item, to skip repeats within a list. */
  lastList: number;
  contributions: Contribution[];
  /** For each contribution, the largest single share it took (that share keeps its reason). */
  largest: number[];
}

/**
 * Two lists from one source (two anchors, say) add up; the largest single
 * share keeps its reason.
 */
function mergeContribution(entry: Accumulator, candidate: Candidate, share: number): void {
  const at = entry.contributions.findIndex((c) => c.source === candidate.source);
  if (at < 0) {
    entry.contributions.push({ source: candidate.source, share, because: candidate.because });
    entry.largest.push(share);
    return;
  }
  const existing = entry.contributions[at];
  if (share > entry.largest[at]) {
    existing.because = candidate.because;
    entry.largest[at] = share;
  }
  existing.share += share;
}

function isOrdered(list: readonly Candidate[]): boolean {
  for (let i = 1; i < list.length; i += 1) {
    if (byScoreThenId(list[i - 1], list[i]) > 0) return false;
  }
  return true;
}

function byScoreThenId(a: Candidate, b: Candidate): number {
  return b.score - a.score || compareIds(a.itemId, b.itemId);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
