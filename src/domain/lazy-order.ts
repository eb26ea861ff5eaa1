/**
 * Best-first order over numbered members, sorted only as far as it is read.
 *
 * A request blends a few hundred candidates and shows ten, so a full sort
 * does mostly wasted work. This keeps the members in a binary max-heap and
 * takes them off one at a time when a rank is first asked for: building
 * the heap is linear, and each rank read costs a logarithmic step.
 */
export class LazyOrder {
  private heapSize: number;
  private ranked = 0;

  /**
   * @param heap the member numbers; the order takes it over and reorders it
   * @param better whether member `a` ranks before member `b` (a strict total order)
   */
  constructor(
    private readonly heap: Int32Array,
    private readonly better: (a: number, b: number) => boolean,
  ) {
    this.heapSize = heap.length;
    for (let i = (heap.length >> 1) - 1; i >= 0; i -= 1) this.siftDown(i);
  }

  get size(): number {
    return this.heap.length;
  }

  /** The member at a rank (from 0; below size). */
  at(rank: number): number {
    const { heap } = this;
    // Ranked members sit at the end of the array, best last.
    while (this.ranked <= rank && this.heapSize > 0) {
      const end = --this.heapSize;
      const best = heap[0];
      heap[0] = heap[end];
      heap[end] = best;
      this.siftDown(0);
      this.ranked += 1;
    }
    return heap[heap.length - 1 - rank];
  }

  private siftDown(from: number): void {
    const { heap, better } = this;
    const size = this.heapSize;
    const moving = heap[from];
    let i = from;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && better(heap[child + 1], heap[child])) child += 1;
      if (!better(heap[child], moving)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = moving;
  }
}

/**
 * Higher score first, then the smaller id: the blend's order, for members
 * numbered into parallel arrays of scores and ids.
 */
export function byScoreThenIdOf(
  scores: ArrayLike<number>,
  ids: readonly string[],
): (a: number, b: number) => boolean {
  return (a, b) => scores[a] > scores[b] || (scores[a] === scores[b] && ids[a] < ids[b]);
}
