/**
 * Candidates from the lists the pipeline keeps in Redis: co-visitation
 * neighbours, popular and trending lists, and each category's popular items.
 *
 * These lists are the same for every user and a gateway reuses them for a
 * moment (RECFLOW_NEIGHBOUR_CACHE, RECFLOW_POPULAR_CACHE), so the candidate
 * objects made from one list are made once per list read and shared by
 * every request that uses it; a request only picks the ones its user may see.
 * Candidates are never changed after they are made.
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
  const byItem = new Map<string, Candidate>();
  /** Items whose entry is already this request's own copy, safe to change. */
  const owned = new Set<string>();
  lists.forEach((list, i) => {
    if (list instanceof Error) return;
    const because = { itemId: anchors[i] };
    const recency = 1 / (1 + i * 0.1);
    const view = viewOf(list, `covisitation\u0000${i}\u0000${anchors[i]}`, (n) => ({
      itemId: n.itemId,
      source: 'covisitation',
      score: n.score * recency,
      because,
    }));
    for (const c of view) {
      if (exclude.has(c.itemId)) continue;
      const existing = byItem.get(c.itemId);
      if (!existing) {
        byItem.set(c.itemId, c);
        continue;
      }
      const sum = owned.has(c.itemId) ? existing : { ...existing };
      if (c.score > existing.score) sum.because = c.because;
      sum.score += c.score;
      byItem.set(c.itemId, sum);
      owned.add(c.itemId);
    }
  });
  return best([...byItem.values()], STORED_CANDIDATES);
}

/** The `most` highest scores, best first, ties by item id. */
export function best(candidates: Candidate[], most: number): Candidate[] {
  return candidates.sort(byScoreThenId).slice(0, most);
}
