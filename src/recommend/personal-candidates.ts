/**
 * The candidates of a personal list: the anchors and favourite categories a
 * user's stored lists are read for, and every source's candidates with
 * their blend, made in one synchronous pass over item numbers (see
 * ItemTable in src/domain/item-numbering.ts).
 */
import { affinityAt } from '../domain/affinity';
import type { UserFeatures } from '../domain/features';
import { itemTable } from '../domain/item-numbering';
import { type BlendWeights, type BlendedList, type Candidate, blendLists } from '../domain/ranking';
import type { LearnedCandidates } from '../learning/candidates';
import type { ScoredId } from '../storage/redis/hot-store';
import { categoryCandidates, covisitationCandidates, popularCandidates } from './stored-candidates';

/** Anchors for co-visitation: the user's latest liked items. */
const ANCHORS = 10;

/** Categories whose popular items the user gets as candidates. */
const TOP_CATEGORIES = 3;

/** The sources blendSources makes first, which count as the user's own. */
export const PERSONAL_SOURCES = 5;

/** What the stored sources gave one request; undefined where unread or failed. */
export interface StoredLists {
  neighbours: ScoredId[][] | undefined;
  categoryLists: ScoredId[][] | undefined;
  trending: ScoredId[] | undefined;
  popular: ScoredId[] | undefined;
  /** One per included category, in the filter's order. */
  included: Array<ScoredId[] | undefined>;
}

/** Whom the stored lists' candidates are for. */
export interface CandidateFocus {
  anchors: string[];
  favourites: string[];
  includeCategories: string[];
  exclude: ReadonlySet<string>;
}

/**
 * Every source's candidates, and their blend, in one synchronous pass over
 * item numbers (see ItemTable). Each stored source offers only its best few
 * eligible items, with their item numbers for the blend. The learned lists
 * come first, then co-visitation and category lists (the PERSONAL_SOURCES
 * that are the user's own), then trending, popular and the included
 * categories.
 */
export function blendSources(
  learned: LearnedCandidates,
  stored: StoredLists,
  focus: CandidateFocus,
  weights: BlendWeights,
): { sources: Candidate[][]; blended: BlendedList } {
  const { anchors, favourites, includeCategories, exclude } = focus;
  return itemTable.pass(() => {
    const numbers: Array<ArrayLike<number>> = [
      // Learned lists are kept per user version (LearnedSources): numbered once each.
      itemTable.numbersOf(learned.model, true),
      itemTable.numbersOf(learned.ease, true),
      itemTable.numbersOf(learned.itemKnn, true),
    ];
    const numbered = (make: (into: number[]) => Candidate[]): Candidate[] => {
      const into: number[] = [];
      numbers.push(into);
      return make(into);
    };
    const { neighbours, categoryLists, trending, popular, included } = stored;
    const made = [
      learned.model,
      learned.ease,
      learned.itemKnn,
      numbered((into) =>
        neighbours ? covisitationCandidates(neighbours, anchors, exclude, into) : [],
      ),
      numbered((into) =>
        categoryLists ? categoryCandidates(categoryLists, favourites, exclude, into) : [],
      ),
      numbered((into) =>
        trending ? popularCandidates(trending, 'trending', null, exclude, undefined, into) : [],
      ),
      numbered((into) =>
        popular ? popularCandidates(popular, 'popular', null, exclude, undefined, into) : [],
      ),
      ...included.map((list, i) =>
        numbered((into) =>
          list
            ? popularCandidates(list, 'popular', includeCategories[i], exclude, undefined, into)
            : [],
        ),
      ),
    ];
    return { sources: made, blended: blendLists(made, weights, numbers) };
  });
}

/** Anchors for co-visitation: the user's latest liked items, latest first. */
export function anchorsOf(user: UserFeatures): string[] {
  const anchors: string[] = [];
  for (const r of user.recent) {
    if (anchors.length === ANCHORS) break;
    if (r.weight > 0 && !anchors.includes(r.itemId)) anchors.push(r.itemId);
  }
  return anchors;
}

/** The categories whose popular items the user gets: the strongest that still count. */
export function favouritesOf(user: UserFeatures): string[] {
  const favourites: string[] = [];
  for (const c of user.categories) {
    if (favourites.length === TOP_CATEGORIES) break;
    if (affinityAt(c, user.lastAt) > 0) favourites.push(c.category);
  }
  return favourites;
}
