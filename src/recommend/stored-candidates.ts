/**
 * Candidates from the lists the pipeline keeps in Redis: co-visitation
 * neighbours, popular and trending lists, and each category's popular items.
 *
 * These lists are the same for every user and a gateway reuses them for a
 * moment (RECFLOW_NEIGHBOUR_CACHE, RECFLOW_POPULAR_CACHE). The candidate
 * objects made from a popular or category list are made once per list read
 * and shared by every request that uses it; a request only picks the ones
 * its user may see. Candidates are never changed after they are made.
 * Co-visitation is summed over the user's anchors, so it is computed per
 * request (see covisitationCandidates).
 */
import { byScoreThenId } from '../domain/blend';
import type { Candidate } from '../domain/ranking';
import type { ScoredId } from '../storage/redis/hot-store';

/** Candidates each stored source offers the blend. */
export const STORED_CANDIDATES = 100;

/** Candidate views of stored lists, one per list object and variant. */
const views = new WeakMap<readonly ScoredId[], Map<string, readonly Candidate[]>>();

function viewOf(
  list: readonly ScoredId[],
  variant: string,
  make: (entry: ScoredId, rank: number) => Candidate,
): readonly Candidate[] {
  let byVariant = views.get(list);
  if (!byVariant) {
    byVariant = new Map();
    views.set(list, byVariant);
  }
  let view = byVariant.get(variant);
  if (!view) {
    view = list.map(make);
    byVariant.set(variant, view);
  }
  return view;
}

/** The first `most` candidates of an ordered list that are not excluded. */
function firstEligible(
  ordered: readonly Candidate[],
  exclude: ReadonlySet<string>,
  most: number,
): Candidate[] {
  const taken: Candidate[] = [];
  for (const c of ordered) {
    if (taken.length >= most) break;
    if (!exclude.has(c.itemId)) taken.push(c);
  }
  return taken;
}

/**
 * A popular or trending list (best first) as candidates of `source`; with a
 * category, the reason names it.
 */
export function popularCandidates(
  list: readonly ScoredId[],
  source: 'trending' | 'popular',
  category: string | null,
  exclude: ReadonlySet<string>,
  most = STORED_CANDIDATES,
): Candidate[] {
  const because = category === null ? undefined : { category };
  const view = viewOf(list, `${source}\u0000${category ?? ''}`, (e) => ({
    itemId: e.itemId,
    source,
    score: e.score,
    because,
  }));
  return firstEligible(view, exclude, most);
}

/**
 * The popular items of the user's favourite categories, favourite first:
 * an item at rank r of the i-th favourite scores 1 / ((1 + i) (1 + r)).
 * Rank counts every listed item, seen or not, so scores do not depend on
 * the user's history.
 */
export function categoryCandidates(
  lists: ReadonlyArray<readonly ScoredId[] | Error>,
  favourites: readonly string[],
  exclude: ReadonlySet<string>,
): Candidate[] {
  const eligible: Candidate[][] = [];
  lists.forEach((list, i) => {
    if (list instanceof Error) return;
    const because = { category: favourites[i] };
    const preference = 1 / (1 + i);
    const view = viewOf(list, `category\u0000${i}`, (e, rank) => ({
      itemId: e.itemId,
      source: 'category',
      score: preference / (1 + rank),
      because,
    }));
    eligible.push(firstEligible(view, exclude, STORED_CANDIDATES));
  });
  // Scores fall with rank, so each list is ordered: merge their heads.
  return mergeOrdered(eligible, STORED_CANDIDATES);
}

/** The first `most` of several lists each ordered best first, in one order. */
function mergeOrdered(lists: readonly Candidate[][], most: number): Candidate[] {
  const merged: Candidate[] = [];
  const heads = lists.map(() => 0);
  while (merged.length < most) {
    let best = -1;
    for (let l = 0; l < lists.length; l += 1) {
      if (heads[l] >= lists[l].length) continue;
      if (best < 0 || byScoreThenId(lists[l][heads[l]], lists[best][heads[best]]) < 0) best = l;
    }
    if (best < 0) break;
    merged.push(lists[best][heads[best]]);
    heads[best] += 1;
  }
  return merged;
}

/**
 * Co-visitation neighbours of the user's anchors (latest first). A
 * neighbour's weight counts a little less for older anchors, and the
 * weights of several anchors add up; the heaviest anchor gives the reason.
 */
export function covisitationCandidates(
  lists: ReadonlyArray<readonly ScoredId[] | Error>,
  anchors: readonly string[],
  exclude: ReadonlySet<string>,
): Candidate[] {
  // Unlike the other lists, these are summed per request, and a shared view
  // per (list, anchor position) would keep ten long-lived copies of every
  // neighbour list, which the garbage collector copies on each pass. So the
  // sums are short-lived, and only the best are made into candidates.
  const byItem = new Map<string, { score: number; anchor: number }>();
  lists.forEach((list, i) => {
    if (list instanceof Error) return;
    const recency = 1 / (1 + i * 0.1);
    for (const n of list) {
      if (exclude.has(n.itemId)) continue;
      const score = n.score * recency;
      const sum = byItem.get(n.itemId);
      if (sum === undefined) byItem.set(n.itemId, { score, anchor: i });
      else {
        if (score > sum.score) sum.anchor = i;
        sum.score += score;
      }
    }
  });
  const summed: Candidate[] = [];
  for (const [itemId, sum] of byItem) {
    summed.push({ itemId, source: 'covisitation', score: sum.score, because: undefined });
  }
  const top = best(summed, STORED_CANDIDATES);
  const because = anchors.map((itemId) => ({ itemId }));
  for (const c of top) c.because = because[(byItem.get(c.itemId) as { anchor: number }).anchor];
  return top;
}

/** The `most` highest scores, best first, ties by item id. */
export function best(candidates: Candidate[], most: number): Candidate[] {
  return candidates.sort(byScoreThenId).slice(0, most);
}
