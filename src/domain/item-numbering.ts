/**
 * Numbers for item ids, so that ranking works on typed arrays indexed by
 * number instead of Maps and Sets keyed by strings.
 *
 * Ranking a request meets a few hundred ids, most of them in lists that
 * every request shares for a while (a popular list, an item's co-visitation
 * neighbours). Looking each one up in a Map or a Set, several times per
 * request, was about a third of the ranking's time. Here:
 *
 * - `ItemTable` gives each id a process-wide number once, and remembers the
 *   numbers of a shared list for as long as the list lives, so a request
 *   finds most of its candidates already numbered.
 * - `ItemSet` (a set of numbers) and `ItemNumbering` (numbers 0, 1, 2... for
 *   the items of one pass) are typed arrays indexed by those numbers,
 *   stamped per use so that nothing is cleared between uses.
 *
 * Numbers hold within one pass of the table (`ItemTable.pass`), which never
 * awaits: the pass that finds the table full empties it first, and every
 * number changes. Each module that numbers keeps its own `ItemSet` and
 * `ItemNumbering` instances, and uses each for one pass at a time.
 */

/** What the table numbers: anything with an item id. */
export interface HasItemId {
  readonly itemId: string;
}

export class ItemTable {
  private ids = new Map<string, number>();
  private epoch = 0;
  private depth = 0;
  private passes = 0;
  /** Numbers of shared lists, valid while the epoch is theirs. */
  private readonly lasting = new WeakMap<object, { epoch: number; numbers: Int32Array }>();

  /**
   * @param maxIds the table is emptied when a pass begins with this many ids.
   * It bounds the memory of the ids kept and of the arrays indexed by their
   * numbers (a few bytes per id each), and keeps those arrays small enough
   * for the CPU cache.
   */
  constructor(private readonly maxIds = 1 << 18) {}

  /**
   * Runs `work` as a pass: numbers got inside it stay valid until it ends.
   * `work` must not await. Passes nest; only the outermost one may empty a
   * full table, before `work` starts.
   */
  pass<T>(work: () => T): T {
    if (this.depth === 0) {
      this.passes += 1;
      if (this.ids.size >= this.maxIds) {
        this.ids = new Map();
        this.epoch += 1;
      }
    }
    this.depth += 1;
    try {
      return work();
    } finally {
      this.depth -= 1;
    }
  }

  /** Changes whenever the table is emptied: numbers of another generation mean nothing. */
  get generation(): number {
    return this.epoch;
  }

  /** Which outermost pass is running (or ran last). */
  get currentPass(): number {
    return this.passes;
  }

  /** Numbers given so far are below this. */
  get size(): number {
    return this.ids.size;
  }

  /** The id's number, given now if it has none. */
  numberOf(itemId: string): number {
    let n = this.ids.get(itemId);
    if (n === undefined) {
      n = this.ids.size;
      this.ids.set(itemId, n);
    }
    return n;
  }

  /**
   * The numbers of a list's ids, in list order. A list named `shared` (never
   * changed, and read by many passes) keeps them for as long as it lives;
   * any other is numbered now.
   */
  numbersOf(list: readonly HasItemId[], shared = false): Int32Array {
    if (shared) {
      const kept = this.lasting.get(list);
      if (kept?.epoch === this.epoch) return kept.numbers;
    }
    const numbers = new Int32Array(list.length);
    for (let i = 0; i < list.length; i += 1) numbers[i] = this.numberOf(list[i].itemId);
    if (shared) this.lasting.set(list, { epoch: this.epoch, numbers });
    return numbers;
  }
}

/** The table every ranking module shares. */
export const itemTable = new ItemTable();

/** Arrays indexed by item number, grown as the table grows. */
abstract class Stamped {
  protected stamps = new Int32Array(1024);
  /** Never 0, which fresh arrays hold: a new set is empty before its first begin(). */
  protected stamp = 1;

  /** Which use is running: a use's contents mean nothing once another began. */
  get current(): number {
    return this.stamp;
  }

  /** Starts a use: forgets everything of the one before. */
  begin(): void {
    if (this.stamp === 0x7fffffff) {
      this.stamps.fill(0);
      this.stamp = 0;
    }
    this.stamp += 1;
  }

  protected fit(n: number): void {
    if (n < this.stamps.length) return;
    let length = this.stamps.length;
    while (length <= n) length *= 2;
    this.grow(length);
  }

  protected grow(length: number): void {
    const stamps = new Int32Array(length);
    stamps.set(this.stamps);
    this.stamps = stamps;
  }
}

/** A set of item numbers. */
export class ItemSet extends Stamped {
  add(n: number): void {
    this.fit(n);
    this.stamps[n] = this.stamp;
  }

  has(n: number): boolean {
    return n < this.stamps.length && this.stamps[n] === this.stamp;
  }
}

/** Numbers 0, 1, 2... for the items of one use, in order of first appearance. */
export class ItemNumbering extends Stamped {
  private locals = new Int32Array(1024);
  private count = 0;

  override begin(): void {
    super.begin();
    this.count = 0;
  }

  /** How many items this use has numbered. */
  get size(): number {
    return this.count;
  }

  /** The item's number in this use (`n` is its table number); a new item gets `size`. */
  localOf(n: number): number {
    this.fit(n);
    if (this.stamps[n] === this.stamp) return this.locals[n];
    this.stamps[n] = this.stamp;
    this.locals[n] = this.count;
    return this.count++;
  }

  protected override grow(length: number): void {
    super.grow(length);
    const locals = new Int32Array(length);
    locals.set(this.locals);
    this.locals = locals;
  }
}
