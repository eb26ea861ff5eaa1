/**
 * Entries in the order they were written, as a doubly linked list through
 * the entries themselves: adding at the end, taking any entry out and
 * finding the oldest each cost the same at any length.
 *
 * The caches keep their entries' order here rather than in a Map's or a
 * Set's own order. V8 leaves a deleted slot in place until the table
 * grows, and caches delete their oldest entries first, so a sweep from the
 * front stepped over every slot deleted since: a store or a call cost tens
 * of µs more at 50,000 entries than at 2,000 (bench/RESULTS.md, "An eighth
 * machine").
 */
export interface Linked<T> {
  /** The entry written just before, and just after; undefined at the ends. */
  older: T | undefined;
  newer: T | undefined;
}

export class WriteOrder<T extends Linked<T>> {
  oldest: T | undefined = undefined;
  newest: T | undefined = undefined;
  size = 0;

  /** Adds `entry`, which must not be in the list, as the newest. */
  append(entry: T): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.size += 1;
  }

  /** Takes `entry`, which must be in the list, out of it. */
  remove(entry: T): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
    this.size -= 1;
  }

  clear(): void {
    this.oldest = undefined;
    this.newest = undefined;
    this.size = 0;
  }
}
