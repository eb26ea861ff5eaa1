/**
 * At most `limit` tasks at once; the rest wait in arrival order. Used where
 * a burst would otherwise start thousands of computations together (10,000
 * subscriptions opened at once, or a change fanned out to every subscriber)
 * and time each other out on the shared stores, or where waiting tasks
 * would hold scarce connections (catalogue writes).
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /**
   * Runs `task` when a slot is free. A task that waits longer than
   * `maxWaitMs` for its slot is not run: the call rejects with SlotTimeout.
   */
  async run<T>(task: () => Promise<T>, maxWaitMs = Number.POSITIVE_INFINITY): Promise<T> {
    if (this.running >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const granted = () => {
          clearTimeout(timer);
          resolve();
        };
        this.queue.push(granted);
        if (Number.isFinite(maxWaitMs)) {
          timer = setTimeout(() => {
            const at = this.queue.indexOf(granted);
            if (at >= 0) this.queue.splice(at, 1);
            reject(new SlotTimeout(maxWaitMs));
          }, maxWaitMs);
        }
      });
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next waiter, so `running` stays put.
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }
}

/** A task gave up waiting for a slot. */
export class SlotTimeout extends Error {
  constructor(readonly waitedMs: number) {
    super(`no slot free within ${waitedMs} ms`);
    this.name = 'SlotTimeout';
  }
}
