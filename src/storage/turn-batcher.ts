/**
 * Coalesces the reads of every request served in one turn of the event
 * loop into one call. A gateway under load handles several requests per
 * turn, each reading its user; sent one by one, each read costs a round
 * trip and a socket write, which on a small VM cost more than the read.
 *
 * Reads still happen when the requests ask: nothing is kept once the call
 * answers, so nothing served is older than that call.
 */
export class TurnBatcher<K, V> {
  private waiting: Array<{
    keys: readonly K[];
    resolve: (values: V[]) => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(
    /** Reads the distinct keys of one turn, answering in their order. */
    private readonly read: (keys: K[]) => Promise<V[]>,
  ) {}

  load(keys: readonly K[]): Promise<V[]> {
    return new Promise<V[]>((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({ keys, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const distinct = [...new Set(batch.flatMap((w) => w.keys))];
    try {
      const values = await this.read(distinct);
      const byKey = new Map<K, V>();
      distinct.forEach((key, i) => byKey.set(key, values[i]));
      for (const w of batch) w.resolve(w.keys.map((key) => byKey.get(key) as V));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
