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
import { ItemNumbering } from '../domain/item-numbering';
import { LazyOrder, byScoreThenIdOf } from '../domain/lazy-order';
import type { Candidate } from '../domain/ranking';
import type { ScoredId } from '../storage/redis/hot-store';

/** Candidates each stored source offers the blend. */
export const STORED_CANDIDATES = 100;

/** Numbers for the ids of one co-visitation sum (the sums run one at a time). */
const numbering = new ItemNumbering();

/**
 * Room for the sums of one co-visitation call, reused by the next: calls run
 * one at a time and finish before they return. Every slot a call reads, it
 * has written first.
 */
class SumScratch {
  readonly sums: Float64Array;
  readonly heaviest: Float64Array;
  readonly anchorOf: Int32Array;
  readonly members: Int32Array;

  constructor(capacity: number) {
    this.sums = new Float64Array(capacity);
    this.heaviest = new Float64Array(capacity);
    this.anchorOf = new Int32Array(capacity);
    this.members = new Int32Array(capacity);
  }
}

let scratch = new SumScratch(1024);

/** Candidate views of stored lists, one per list object and variant, best first. */
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
    // In the blend's order: Redis orders equal scores by id descending, and
    // the blend would otherwise copy and sort such a list on every request.
    view = list.map(make).sort(byScoreThenId);
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
 * weights of several anchors add up; the anchor that gave the heaviest
 * single weight gives the reason. The best STORED_CANDIDATES are returned,
 * best first, ties by item id.
 */
export function covisitationCandidates(
  lists: ReadonlyArray<readonly ScoredId[] | Error>,
  anchors: readonly string[],
  exclude: ReadonlySet<string>,
): Candidate[] {
  // Unlike the other lists, these are summed per request. The sums live in
  // typed arrays and only the best become candidates: a shared view per
  // (list, anchor position) would keep ten long-lived copies of every
  // neighbour list, which the garbage collector copies on each pass.
  let capacity = 0;
  for (const list of lists) if (!(list instanceof Error)) capacity += list.length;
  numbering.begin();
  const ids: string[] = [];
  if (scratch.anchorOf.length < capacity) scratch = new SumScratch(2 * capacity);
  const { sums, heaviest, anchorOf, members } = scratch;
  lists.forEach((list, i) => {
    if (list instanceof Error) return;
    const recency = 1 / (1 + i * 0.1);
    for (const n of list) {
      if (exclude.has(n.itemId)) continue;
      const weight = n.score * recency;
      const k = numbering.numberOf(n.itemId);
      if (k === ids.length) {
        const added = ids.push(n.itemId) - 1;
        sums[added] = heaviest[added] = weight;
        anchorOf[added] = i;
      } else {
        sums[k] += weight;
        if (weight > heaviest[k]) {
          heaviest[k] = weight;
          anchorOf[k] = i;
        }
      }
    }
  });
  for (let k = 0; k < ids.length; k += 1) members[k] = k;
  const order = new LazyOrder(members.subarray(0, ids.length), byScoreThenIdOf(sums, ids));
  const because = anchors.map((itemId) => ({ itemId }));
  const top: Candidate[] = [];
  for (let rank = 0; rank < Math.min(order.size, STORED_CANDIDATES); rank += 1) {
    const k = order.at(rank);
    top.push({
      itemId: ids[k],
      source: 'covisitation',
      score: sums[k],
      because: because[anchorOf[k]],
    });
  }
  return top;
}
