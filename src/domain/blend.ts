/**
 * Blending: the sources' candidate lists merged into one ranked list.
 *
 * Sources score on unrelated scales, so each list counts by rank: the item
 * at rank r (from 1) of a list earns the list's source weight / (RANK_OFFSET
 * + r), and an item's score is the sum of what it earned. Ties go by item id.
 *
 * A request blends a few hundred candidates but shows ten, so the blend
 * keeps its bookkeeping in typed arrays sized once, orders items only as
 * far as they are read (LazyOrder), and builds an item's contributions
 * (which source gave what, and why) only when that item is asked for.
 */
import { ItemNumbering, itemTable } from './item-numbering';
import { LazyOrder, byScoreThenIdOf } from './lazy-order';
import type { BlendWeights, Candidate, CandidateSource, Contribution, RankedItem } from './ranking';

/**
 * The offset in weight / (RANK_OFFSET + rank). A larger offset flattens the
 * gap between the top ranks.
 */
export const RANK_OFFSET = 10;

/**
 * Blends `lists` and returns the ranked result. An item listed twice by one
 * list counts once, at its better rank; an item whose every share is zero
 * is left out. Lists that arrive best first are not sorted again.
 *
 * `numbers`, when given, holds each list's item numbers (or undefined for a
 * list to number here); they must come from the table pass this call runs in.
 */
export function blendLists(
  lists: readonly (readonly Candidate[])[],
  weights: BlendWeights,
  numbers: ReadonlyArray<ArrayLike<number> | undefined> = [],
): BlendedList {
  return itemTable.pass(() => {
    let capacity = 0;
    for (const list of lists) capacity += list.length;
    const blended = new BlendedList(capacity);
    lists.forEach((list, index) => blended.add(index, list, weights, numbers[index]));
    blended.rank();
    return blended;
  });
}

/** Every blended item, best first, with its contributions. */
export function blend(
  lists: readonly (readonly Candidate[])[],
  weights: BlendWeights,
): RankedItem[] {
  const blended = blendLists(lists, weights);
  const all: RankedItem[] = [];
  for (let i = 0; i < blended.size; i += 1) all.push(blended.at(i));
  blended.release();
  return all;
}

/** Item numbers, in order of first appearance, for the blend being filled. */
const numbering = new ItemNumbering();

const UNRANKED = new LazyOrder(new Int32Array(0), () => false);

/**
 * The typed arrays of a blend. A request's blend needs a few kilobytes of
 * them, which JavaScript keeps outside the heap, and allocating and
 * collecting those cost more than filling them: they are reused (see
 * BlendedList.release). Only numbers live here; the arrays of strings and
 * candidates are made per blend, so a reused room never keeps a request's
 * objects alive.
 */
class BlendRoom {
  readonly scores: Float64Array;
  readonly shares: Float64Array;
  readonly lastList: Int32Array;
  readonly first: Int32Array;
  readonly last: Int32Array;
  readonly next: Int32Array;
  readonly members: Int32Array;

  constructor(readonly capacity: number) {
    const doubles = new Float64Array(2 * capacity);
    const ints = new Int32Array(5 * capacity);
    this.scores = doubles.subarray(0, capacity);
    this.shares = doubles.subarray(capacity);
    this.lastList = ints.subarray(0, capacity);
    this.first = ints.subarray(capacity, 2 * capacity);
    this.last = ints.subarray(2 * capacity, 3 * capacity);
    this.next = ints.subarray(3 * capacity, 4 * capacity);
    this.members = ints.subarray(4 * capacity);
  }
}

/** Rooms given back, for the next blends; a handful covers the requests in flight at once. */
const spareRooms: BlendRoom[] = [];
const MAX_SPARE_ROOMS = 16;

/** A room for at least `capacity` candidates, its `lastList` set to -1 where it will be read. */
function takeRoom(capacity: number): BlendRoom {
  let room: BlendRoom | undefined;
  for (let i = spareRooms.length - 1; i >= 0; i -= 1) {
    if (spareRooms[i].capacity >= capacity) {
      room = spareRooms[i];
      spareRooms[i] = spareRooms[spareRooms.length - 1];
      spareRooms.pop();
      break;
    }
  }
  // Sizes round up to a power of two, so that rooms fit the next blends.
  room ??= new BlendRoom(Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, capacity)))));
  room.lastList.fill(-1, 0, capacity);
  return room;
}

export class BlendedList {
  private items = 0;
  /** The numbering use this list is filled in, and the table generation of its numbers. */
  private readonly pass: number;
  private readonly generation: number;
  private entries = 0;
  /** Per item number, for at most `capacity` items, and the share log (see BlendRoom). */
  private room: BlendRoom | null;
  private readonly ids: string[];
  private readonly candidates: Candidate[];
  /** After rank(): the items that earned anything, best first. */
  private order = UNRANKED;

  /**
   * Filled in one synchronous pass (blendLists): item numbers come from a
   * numbering shared by every blend.
   * @param capacity at least the number of candidates that will be added
   */
  constructor(capacity: number) {
    numbering.begin();
    this.pass = numbering.current;
    this.generation = itemTable.generation;
    this.room = takeRoom(capacity);
    this.ids = new Array<string>(capacity);
    this.candidates = new Array<Candidate>(capacity);
  }

  /**
   * Hands the list's typed arrays to later blends. The list reads as empty
   * afterwards; items already taken from it with at() are unaffected.
   * Optional: a list never released is simply collected.
   */
  release(): void {
    const { room } = this;
    if (!room) return;
    this.room = null;
    this.order = UNRANKED;
    if (spareRooms.length < MAX_SPARE_ROOMS) spareRooms.push(room);
  }

  /** The room, or an error for a list used after release(). */
  private get r(): BlendRoom {
    if (!this.room) throw new Error('this BlendedList was released');
    return this.room;
  }

  /** How many items the blend ranked. */
  get size(): number {
    return this.order.size;
  }

  /** The id of the item at a rank (from 0). */
  idAt(rank: number): string {
    return this.ids[this.order.at(rank)];
  }

  /** The item at a rank (from 0) with its score and contributions, largest share first. */
  at(rank: number): RankedItem {
    const n = this.order.at(rank);
    return { itemId: this.ids[n], score: this.r.scores[n], contributions: this.contributionsOf(n) };
  }

  /**
   * Adds to `into` the id of the item at a rank and every item its shares
   * name as their reason: what explaining the item may need to look up.
   */
  namesAt(rank: number, into: Set<string>): void {
    const n = this.order.at(rank);
    into.add(this.ids[n]);
    const { first, next } = this.r;
    for (let e = first[n]; e >= 0; e = next[e]) {
      const anchor = this.candidates[e].because?.itemId;
      if (anchor) into.add(anchor);
    }
  }

  /** @internal Adds one list, walked best first; `numbers` are its item numbers, if known. */
  add(
    index: number,
    list: readonly Candidate[],
    weights: BlendWeights,
    numbers?: ArrayLike<number>,
  ): void {
    if (numbering.current !== this.pass || itemTable.generation !== this.generation) {
      throw new Error('a BlendedList is filled in one synchronous pass (use blendLists)');
    }
    const inOrder = isOrdered(list);
    const ordered = inOrder ? list : [...list].sort(byScoreThenId);
    const listed = inOrder && numbers ? numbers : itemTable.numbersOf(ordered);
    const { lastList } = this.r;
    let rank = 0;
    // A list is almost always of one source: look its weight up once.
    let source: CandidateSource | undefined;
    let weight = 0;
    for (let i = 0; i < ordered.length; i += 1) {
      const candidate = ordered[i];
      const n = this.numberOf(listed[i], candidate.itemId);
      if (lastList[n] === index) continue;
      lastList[n] = index;
      rank += 1;
      if (candidate.source !== source) {
        source = candidate.source;
        weight = weights[source];
      }
      const share = weight / (RANK_OFFSET + rank);
      if (share > 0) this.earn(n, share, candidate);
    }
  }

  /** @internal Orders the items that earned anything, best first (lazily). */
  rank(): void {
    const { members, first, scores } = this.r;
    let size = 0;
    for (let n = 0; n < this.items; n += 1) if (first[n] >= 0) members[size++] = n;
    this.order = new LazyOrder(members.subarray(0, size), byScoreThenIdOf(scores, this.ids));
  }

  /** The item's number in this blend, from its table number. */
  private numberOf(tableNumber: number, itemId: string): number {
    const n = numbering.localOf(tableNumber);
    if (n === this.items) {
      this.items += 1;
      this.ids[n] = itemId;
      // A reused room holds an earlier blend's values.
      this.r.first[n] = -1;
      this.r.scores[n] = 0;
    }
    return n;
  }

  private earn(n: number, share: number, candidate: Candidate): void {
    const { shares, next, first, last, scores } = this.r;
    const entry = this.entries++;
    shares[entry] = share;
    this.candidates[entry] = candidate;
    next[entry] = -1;
    if (first[n] < 0) first[n] = entry;
    else next[last[n]] = entry;
    last[n] = entry;
    scores[n] += share;
  }

  /**
   * One contribution per source, in order of first appearance, largest
   * share first. Shares of one source add up (two anchors, say); the
   * largest single share, the first of equals, gives the reason.
   */
  private contributionsOf(n: number): Contribution[] {
    const contributions: Contribution[] = [];
    const largest: number[] = [];
    const { first, next, shares } = this.r;
    for (let e = first[n]; e >= 0; e = next[e]) {
      const candidate = this.candidates[e];
      const share = shares[e];
      const at = contributions.findIndex((c) => c.source === candidate.source);
      if (at < 0) {
        contributions.push({ source: candidate.source, share, because: candidate.because });
        largest.push(share);
      } else {
        const existing = contributions[at];
        if (share > largest[at]) {
          existing.because = candidate.because;
          largest[at] = share;
        }
        existing.share += share;
      }
    }
    // Largest share first, equals in order of appearance. An insertion sort:
    // there are at most as many entries as sources, and the built-in sort
    // allocates work space on every call.
    for (let i = 1; i < contributions.length; i += 1) {
      const moving = contributions[i];
      let j = i - 1;
      for (; j >= 0 && contributions[j].share < moving.share; j -= 1) {
        contributions[j + 1] = contributions[j];
      }
      contributions[j + 1] = moving;
    }
    return contributions;
  }
}

function isOrdered(list: readonly Candidate[]): boolean {
  for (let i = 1; i < list.length; i += 1) {
    if (byScoreThenId(list[i - 1], list[i]) > 0) return false;
  }
  return true;
}

/** Best score first, then item id; returns -1, 0 or 1. */
export function byScoreThenId(a: Candidate, b: Candidate): number {
  return a.score > b.score ? -1 : a.score < b.score ? 1 : compareIds(a.itemId, b.itemId);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
