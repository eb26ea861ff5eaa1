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
import { ItemNumbering, ItemSet, itemTable } from '../domain/item-numbering';
import { LazyOrder, byScoreThenIdOf } from '../domain/lazy-order';
import type { Candidate } from '../domain/ranking';
import type { ScoredId } from '../storage/redis/hot-store';

/** Candidates each stored source offers the blend. */
export const STORED_CANDIDATES = 100;

/** Numbers for the ids of one co-visitation sum (the sums run one at a time). */
const numbering = new ItemNumbering();

/**
 * The excluded items as item numbers: made once per table pass for the same
 * set, so that the sources of one request, ranked in one pass, share it.
 * The set must not change during the pass.
 */
const excluded = new ItemSet();
let excludedFrom: ReadonlySet<string> | null = null;
let excludedPass = -1;

function excludedNumbers(exclude: ReadonlySet<string>): ItemSet {
  if (exclude !== excludedFrom || excludedPass !== itemTable.currentPass) {
    excluded.begin();
    for (const id of exclude) excluded.add(itemTable.numberOf(id));
    excludedFrom = exclude;
    excludedPass = itemTable.currentPass;
  }
  return excluded;
}

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
  /** Each summed item's table number. */
  readonly numbers: Int32Array;

  constructor(capacity: number) {
    this.sums = new Float64Array(capacity);
    this.heaviest = new Float64Array(capacity);
    this.anchorOf = new Int32Array(capacity);
    this.members = new Int32Array(capacity);
    this.numbers = new Int32Array(capacity);
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

/**
 * The first `most` candidates of a shared ordered list that are not
 * excluded, with their table numbers pushed onto `numbers`.
 */
function firstEligible(
  view: readonly Candidate[],
  out: ItemSet,
  most: number,
  numbers: number[],
): Candidate[] {
  const listed = itemTable.numbersOf(view, true);
  const taken: Candidate[] = [];
  for (let i = 0; i < view.length && taken.length < most; i += 1) {
    if (out.has(listed[i])) continue;
    numbers.push(listed[i]);
    taken.push(view[i]);
  }
  return taken;
}

/**
 * A popular or trending list (best first) as candidates of `source`; with a
 * category, the reason names it.
 *
 * Like the other sources here, it pushes each candidate's item number onto
 * `numbers` when given; they hold within the caller's `itemTable.pass`.
 */
export function popularCandidates(
  list: readonly ScoredId[],
  source: 'trending' | 'popular',
  category: string | null,
  exclude: ReadonlySet<string>,
  most = STORED_CANDIDATES,
  numbers: number[] = [],
): Candidate[] {
  const because = category === null ? undefined : { category };
  const view = viewOf(list, `${source}\u0000${category ?? ''}`, (e) => ({
    itemId: e.itemId,
    source,
    score: e.score,
    because,
  }));
  return itemTable.pass(() => firstEligible(view, excludedNumbers(exclude), most, numbers));
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
  numbers: number[] = [],
): Candidate[] {
  return itemTable.pass(() => {
    const out = excludedNumbers(exclude);
    const eligible: Candidate[][] = [];
    const eligibleNumbers: number[][] = [];
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
      const listed: number[] = [];
      eligible.push(firstEligible(view, out, STORED_CANDIDATES, listed));
      eligibleNumbers.push(listed);
    });
    // Scores fall with rank, so each list is ordered: merge their heads.
    return mergeOrdered(eligible, eligibleNumbers, STORED_CANDIDATES, numbers);
  });
}

/**
 * The first `most` of several lists each ordered best first, in one order;
 * their table numbers (`listed`, per list) go onto `numbers`.
 */
function mergeOrdered(
  lists: readonly Candidate[][],
  listed: readonly number[][],
  most: number,
  numbers: number[],
): Candidate[] {
  const merged: Candidate[] = [];
  const heads = lists.map(() => 0);
  while (merged.length < most) {
    let best = -1;
    for (let l = 0; l < lists.length; l += 1) {
      if (heads[l] >= lists[l].length) continue;
      if (best < 0 || byScoreThenId(lists[l][heads[l]], lists[best][heads[best]]) < 0) best = l;
    }
    if (best < 0) break;
    numbers.push(listed[best][heads[best]]);
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
  numbers: number[] = [],
): Candidate[] {
  // Unlike the other lists, these are summed per request. The sums live in
  // typed arrays and only the best become candidates: a shared view per
  // (list, anchor position) would keep ten long-lived copies of every
  // neighbour list, which the garbage collector copies on each pass.
  return itemTable.pass(() => {
    let capacity = 0;
    for (const list of lists) if (!(list instanceof Error)) capacity += list.length;
    const out = excludedNumbers(exclude);
    numbering.begin();
    const ids: string[] = [];
    if (scratch.anchorOf.length < capacity) scratch = new SumScratch(2 * capacity);
    const { sums, heaviest, anchorOf, members } = scratch;
    const summed = scratch.numbers;
    lists.forEach((list, i) => {
      if (list instanceof Error) return;
      const recency = 1 / (1 + i * 0.1);
      const listed = itemTable.numbersOf(list, true);
      for (let j = 0; j < list.length; j += 1) {
        const n = listed[j];
        if (out.has(n)) continue;
        const weight = list[j].score * recency;
        const k = numbering.localOf(n);
        if (k === ids.length) {
          ids.push(list[j].itemId);
          summed[k] = n;
          sums[k] = heaviest[k] = weight;
          anchorOf[k] = i;
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
    const size = Math.min(order.size, STORED_CANDIDATES);
    const top: Candidate[] = [];
    for (let rank = 0; rank < size; rank += 1) {
      const k = order.at(rank);
      numbers.push(summed[k]);
      top.push({
        itemId: ids[k],
        source: 'covisitation',
        score: sums[k],
        because: because[anchorOf[k]],
      });
    }
    return top;
  });
}
