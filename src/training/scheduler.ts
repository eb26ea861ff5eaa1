/**
 * Scheduled training inside the worker role. Every interval, one worker
 * (whichever takes a PostgreSQL advisory lock first) trains, but only when
 * events were applied since the newest stored version, retired ones
 * included: retraining on the same data after a rollback would bring the
 * rolled-back model straight back.
 */
import { Client } from 'pg';
import type { Logger } from '../observability/logger';
import type { ModelRepository } from '../storage/postgres/model-repository';
import type { Trainer } from './trainer';

/** Advisory lock key for "one training at a time"; migrations use another. */
const TRAINING_LOCK = 0x7265_6366;

export class TrainingScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly trainer: Trainer,
    private readonly repository: ModelRepository,
    private readonly databaseUrl: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** Told of rounds that fail before training starts (the trainer counts its own). */
    private readonly onFailure: () => void = () => undefined,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.schedule();
  }

  /** Stops scheduling and waits for a training in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Trains now if due and no other worker is training; resolves when done. */
  runOnce(): Promise<void> {
    this.running ??= this.tick().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const lock = new Client({ connectionString: this.databaseUrl });
    // A lost connection fails the lock's next query; unheard, its 'error'
    // event would end the process. (The lock goes with the session.)
    lock.on('error', (error) => this.log.warn({ err: error }, 'training lock connection lost'));
    let training = false;
    try {
      await lock.connect();
      const { rows } = await lock.query<{ taken: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS taken',
        [TRAINING_LOCK],
      );
      if (!rows[0]?.taken) {
        this.log.debug('another worker is training; skipping this round');
        return;
      }
      if (!(await this.due())) {
        this.log.debug('no events since the newest model; skipping this round');
        return;
      }
      training = true;
      await this.trainer.train();
    } catch (error) {
      if (!training) this.onFailure();
      this.log.error({ err: error }, 'scheduled training failed; the serving model stays');
    } finally {
      // Closing the session releases the advisory lock too.
      await lock.end().catch(() => undefined);
    }
  }

  private async due(): Promise<boolean> {
    const [newest] = await this.repository.list();
    const now = await this.repository.currentWatermark();
    if (now.processedAt === null) return false;
    if (!newest) return true;
    const before = newest.watermark;
    return (
      now.streamSeq !== before.streamSeq ||
      now.processedAt.getTime() !== (before.processedAt?.getTime() ?? -1)
    );
  }
}
