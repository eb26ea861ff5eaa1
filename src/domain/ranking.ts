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

export const DEFAULT_BLEND_WEIGHTS: BlendWeights = {
  model: 1,
  ease: 1,
  itemKnn: 0.2,
  covisitation: 0.8,
  category: 0.5,
  trending: 0.3,
  popular: 0.2,
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
  const blended = blend(lists, weights);
  const include = new Set(rules.includeCategories ?? []);
  const excludeCats = new Set(rules.excludeCategories ?? []);
  const perCategory = new Map<string, number>();
  const cap = rules.maxPerCategory ?? Infinity;
  const result: RankedItem[] = [];

  for (const item of blended) {
    if (result.length >= rules.limit) break;
    if (rules.exclude.has(item.itemId)) continue;
    const facts = factsOf(item.itemId);
    if (!facts || !facts.available) continue;
    if (include.size > 0 && !facts.categories.some((c) => include.has(c))) continue;
    if (facts.categories.some((c) => excludeCats.has(c))) continue;
    if (facts.categories.some((c) => (perCategory.get(c) ?? 0) >= cap)) continue;

    for (const c of facts.categories) perCategory.set(c, (perCategory.get(c) ?? 0) + 1);
    result.push(item);
  }
  return result;
}

/** Rank-normalised weighted sum over sources, ties broken by item id. */
export function blend(
  lists: readonly (readonly Candidate[])[],
  weights: BlendWeights,
): RankedItem[] {
  const byItem = new Map<string, RankedItem>();
  const largestShare = new Map<Contribution, number>();
  for (const list of lists) {
    const ordered = [...list].sort(byScoreThenId);
    const seen = new Set<string>();
    let rank = 0;
    for (const candidate of ordered) {
      if (seen.has(candidate.itemId)) continue;
      seen.add(candidate.itemId);
      rank += 1;
      const share = weights[candidate.source] / (RANK_OFFSET + rank);
      if (!(share > 0)) continue;
      const entry = byItem.get(candidate.itemId) ?? {
        itemId: candidate.itemId,
        score: 0,
        contributions: [],
      };
      entry.score += share;
      mergeContribution(entry.contributions, candidate, share, largestShare);
      byItem.set(candidate.itemId, entry);
    }
  }
  const ranked = [...byItem.values()];
  for (const item of ranked) item.contributions.sort((a, b) => b.share - a.share);
  return ranked.sort((a, b) => b.score - a.score || compareIds(a.itemId, b.itemId));
}

/**
 * Two lists from one source (two anchors, say) add up; the largest single
 * share keeps its reason. `largestShare` remembers that share per contribution.
 */
function mergeContribution(
  into: Contribution[],
  candidate: Candidate,
  share: number,
  largestShare: Map<Contribution, number>,
): void {
  const existing = into.find((c) => c.source === candidate.source);
  if (!existing) {
    const created = { source: candidate.source, share, because: candidate.because };
    into.push(created);
    largestShare.set(created, share);
    return;
  }
  if (share > (largestShare.get(existing) ?? 0)) {
    existing.because = candidate.because;
    largestShare.set(existing, share);
  }
  existing.share += share;
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
  const because =
    anchor && anchorTitle
      ? `because you ${actionVerb(lookup.actionOf?.(anchor))} ${anchorTitle}`
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
