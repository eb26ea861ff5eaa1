/**
 * Live recommendation lists for GraphQL subscriptions.
 *
 * Each stream yields the current list at once, then a freshly computed list
 * after each change of the user's features. Changes that arrive within the
 * debounce delay, or while a list is being computed, are coalesced into one
 * recomputation. Every computation uses fresh loaders.
 */
import type { Logger } from '../../observability/logger';
import { ConcurrencyLimit } from '../../resilience/concurrency-limit';
import type { Metrics } from '../../observability/metrics';
import type { RecommendationFilter, Recommender } from '../../recommend/recommender';
import type { FeatureChangeHub } from '../../messaging/feature-changes';
import type { FeatureStore } from '../../storage/feature-store';
import { presentList } from '../graphql/presenters';
import type { RecommendationList } from '../graphql/types/recommendation';

export class RecommendationStreams {
  private readonly live = new Set<LiveList>();
  /** Lists computed at once, across every stream of this gateway. */
  private readonly computing: ConcurrencyLimit;

  constructor(
    private readonly hub: FeatureChangeHub,
    private readonly features: FeatureStore,
    private readonly recommender: Recommender,
    private readonly debounceMs: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    concurrency = 32,
  ) {
    this.computing = new ConcurrencyLimit(concurrency);
  }

  get size(): number {
    return this.live.size;
  }

  open(
    userId: string,
    limit: number,
    filter: RecommendationFilter,
  ): AsyncIterableIterator<RecommendationList> {
    // Fresh loaders per computation, created when its turn comes.
    const compute = () =>
      this.computing.run(async () =>
        presentList(
          await this.recommender.recommend(this.features.loaders(), userId, limit, filter),
        ),
      );
    const live = new LiveList(
      compute,
      this.debounceMs,
      this.log,
      () => {
        this.live.delete(live);
        this.metrics.subscriptions.set(this.live.size);
        unwatch();
      },
      () => this.metrics.pushes.inc(),
    );
    const unwatch = this.hub.watch(userId, () => live.changed());
    this.live.add(live);
    this.metrics.subscriptions.set(this.live.size);
    live.changed(0);
    return live;
  }

  /** Recomputes every live list, as after a change (a new model is serving). */
  refreshAll(): void {
    for (const live of this.live) live.changed();
  }

  /** Ends every stream (shutdown); clients see the subscription complete. */
  closeAll(): void {
    for (const live of [...this.live]) void live.return();
  }
}

/** One subscriber's stream: an async iterator fed by change notices. */
class LiveList implements AsyncIterableIterator<RecommendationList> {
  private readonly ready: RecommendationList[] = [];
  private waiting?: (result: IteratorResult<RecommendationList>) => void;
  private timer?: NodeJS.Timeout;
  private computing = false;
  private dirty = false;
  private done = false;

  constructor(
    private readonly compute: () => Promise<RecommendationList>,
    private readonly debounceMs: number,
    private readonly log: Logger,
    private readonly onClose: () => void,
    private readonly onPush: () => void,
  ) {}

  /** A change happened: recompute after the debounce delay, once per burst. */
  changed(delayMs = this.debounceMs): void {
    if (this.done) return;
    if (this.computing) {
      this.dirty = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.computing = true;
    try {
      const list = await this.compute();
      if (!this.done) this.deliver(list);
    } catch (error) {
      this.log.warn(
        { err: error },
        'recomputing a subscribed list failed; waiting for the next change',
      );
    } finally {
      this.computing = false;
      if (this.dirty) {
        this.dirty = false;
        this.changed();
      }
    }
  }

  private deliver(list: RecommendationList): void {
    this.onPush();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: list, done: false });
      return;
    }
    // A slow client only ever needs the newest list.
    this.ready.splice(0, this.ready.length, list);
  }

  next(): Promise<IteratorResult<RecommendationList>> {
    if (this.ready.length > 0)
      return Promise.resolve({ value: this.ready.shift() as RecommendationList, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<RecommendationList>> {
    if (!this.done) {
      this.done = true;
      clearTimeout(this.timer);
      this.onClose();
      this.waiting?.({ value: undefined, done: true });
      this.waiting = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RecommendationList> {
    return this;
  }
}
