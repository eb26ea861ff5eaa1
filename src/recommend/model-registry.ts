/**
 * The model a gateway serves, swapped without a restart.
 *
 * At start the gateway loads the serving version from PostgreSQL. When a
 * notice arrives over NATS (a training stored a version, or a rollback
 * retired one), and also every poll interval in case a notice was missed,
 * it asks PostgreSQL which version serves now and loads it if it differs.
 *
 * The swap is one reference assignment: a request reads `current()` once
 * and keeps that model to the end, so no request ever sees half of one
 * model and half of another, and none fails during a swap.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeModel, ServingModel } from '../learning/model';
import { Subjects } from '../messaging/subjects';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ModelRepository } from '../storage/postgres/model-repository';
import type { ModelSource } from './learned-sources';

export class ModelRegistry implements ModelSource {
  private serving: ServingModel | null = null;
  private servingVersion = 0;
  private refreshing: Promise<void> | null = null;
  /** A refresh was asked for while one ran: run again when it ends. */
  private again = false;
  /** Versions that failed to load; they are not downloaded again. */
  private readonly broken = new Set<number>();
  private readonly swapListeners: Array<() => void> = [];
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: ModelRepository,
    private readonly nc: NatsConnection,
    private readonly subjectPrefix: string,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  current(): ServingModel | null {
    return this.serving;
  }

  /** The version served now; 0 when there is none. */
  get version(): number {
    return this.servingVersion;
  }

  async start(): Promise<void> {
    await this.refresh().catch((error) =>
      this.log.warn({ err: error }, 'could not load the serving model; serving without one'),
    );
    this.subscription = this.nc.subscribe(new Subjects(this.subjectPrefix).models, {
      callback: (error) => {
        if (error) return this.log.warn({ err: error }, 'model notice subscription failed');
        this.refreshQuietly();
      },
    });
    if (this.pollMs > 0) {
      this.timer = setInterval(() => this.refreshQuietly(), this.pollMs);
      this.timer.unref();
    }
  }

  /** Called after every swap (subscriptions recompute their lists). */
  onSwap(listener: () => void): void {
    this.swapListeners.push(listener);
  }

  /**
   * Loads the serving version if it changed. A call during a load makes that
   * load run once more when it ends, so a notice that arrives mid-load is
   * never lost.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    };
    this.refreshing = run().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  close(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
  }

  private refreshQuietly(): void {
    this.refresh().catch((error) =>
      this.log.warn({ err: error }, 'model refresh failed; keeping the current model'),
    );
  }

  /**
   * Serves the first version, in serving order, that loads: a version that
   * is corrupt or inconsistent is logged, remembered and skipped, and the
   * next one serves instead of none.
   */
  private async load(): Promise<void> {
    const candidates = await this.repository.serviceable(FALLBACK_VERSIONS);
    if (candidates.length === 0) {
      if (this.serving) this.log.warn('no serviceable model is stored; keeping the current one');
      return;
    }
    for (const info of candidates) {
      if (info.version === this.servingVersion) return;
      if (this.broken.has(info.version)) continue;
      const data = await this.repository.data(info.version);
      if (!data) continue; // pruned in between
      const started = performance.now();
      let model: ServingModel;
      try {
        model = new ServingModel(decodeModel(data));
      } catch (error) {
        this.broken.add(info.version);
        this.log.error(
          { err: error, version: info.version },
          'stored model cannot be served; trying the previous version',
        );
        continue;
      }
      const previous = this.servingVersion;
      this.serving = model;
      this.servingVersion = info.version;
      this.metrics?.modelVersion.set(info.version);
      this.metrics?.modelSwaps.inc();
      this.log.info(
        {
          version: info.version,
          previous,
          items: model.itemCount,
          loadMs: Math.round(performance.now() - started),
        },
        'serving model swapped in',
      );
      for (const listener of this.swapListeners) listener();
      return;
    }
  }
}

/** How many serviceable versions a gateway tries before giving up. */
const FALLBACK_VERSIONS = 5;
