/**
 * Numbers for the item ids of one pass (0, 1, 2... in order of first
 * appearance) without building a Map per pass.
 *
 * Ranking a request meets a few hundred ids; a Map per request costs its
 * inserts and its growth, about half of the blend's time. Here each id gets
 * a process-wide number once, and a pass's numbers live in typed arrays
 * indexed by it, stamped with the pass so that nothing is cleared between
 * passes.
 *
 * A numbering serves one synchronous pass at a time: begin(), then
 * numberOf() for each id, with no other pass in between. Each module that
 * numbers ids keeps its own instance.
 */
export class ItemNumbering {
  private readonly global = new Map<string, number>();
  private stamps = new Int32Array(1024);
  private locals = new Int32Array(1024);
  private pass = 0;
  private count = 0;

  /**
   * @param maxIds the process-wide table is emptied when a pass begins with
   * this many. Kept small: a large table misses the CPU cache on every
   * lookup (slower than a Map per pass beyond some 300,000 ids), keeps its
   * id strings alive, and stalls the pass that grows it.
   */
  constructor(private readonly maxIds = 1 << 15) {}

  /** Starts a pass: the next new id is number 0. */
  begin(): void {
    if (this.global.size >= this.maxIds || this.pass === 0x7fffffff) {
      this.global.clear();
      this.stamps.fill(0);
      this.pass = 0;
    }
    this.pass += 1;
    this.count = 0;
  }

  /** Which pass is running; a pass's numbers mean nothing once another began. */
  get current(): number {
    return this.pass;
  }

  /** How many ids this pass has numbered. */
  get size(): number {
    return this.count;
  }

  /** The id's number in this pass; an id not met before in it gets `size`. */
  numberOf(itemId: string): number {
    let id = this.global.get(itemId);
    if (id === undefined) {
      id = this.global.size;
      this.global.set(itemId, id);
      if (id >= this.stamps.length) this.grow();
    }
    if (this.stamps[id] === this.pass) return this.locals[id];
    this.stamps[id] = this.pass;
    this.locals[id] = this.count;
    return this.count++;
  }

  private grow(): void {
    const stamps = new Int32Array(this.stamps.length * 2);
    stamps.set(this.stamps);
    this.stamps = stamps;
    const locals = new Int32Array(this.locals.length * 2);
    locals.set(this.locals);
    this.locals = locals;
  }
}
