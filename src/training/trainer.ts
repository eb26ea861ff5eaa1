/**
 * Training as a use case: snapshot the stored interactions, learn in a
 * worker thread, store the new version, prune old ones and tell every
 * gateway over NATS. Used by `recflow train` and by the worker's schedule.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { BlendWeights } from '../domain/ranking';
import type { ModelParams } from '../learning/model';
import { Subjects } from '../messaging/subjects';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ModelInfo, ModelRepository } from '../storage/postgres/model-repository';
import { trainInThread } from './run-in-thread';
import type { TrainingOutput } from './training-job';

export interface TrainerOptions {
  repository: ModelRepository;
  nc: NatsConnection;
  subjectPrefix: string;
  params: ModelParams;
  blendWeights: BlendWeights;
  /** Users held out for the stored evaluation figures. */
  holdoutUsers: number;
  /** Versions kept for rollback. */
  keepVersions: number;
  log: Logger;
  metrics?: Metrics;
}

export interface TrainingReport {
  model: ModelInfo;
  output: Omit<TrainingOutput, 'data'>;
  snapshotMs: number;
}

/** The message gateways receive when the serving model changes. */
export interface ModelNotice {
  version: number;
}

export class Trainer {
  constructor(private readonly options: TrainerOptions) {}

  /** Trains once; null when there is no interaction to learn from. */
  async train(): Promise<TrainingReport | null> {
    const { repository, log, metrics } = this.options;
    const started = performance.now();
    try {
      const snapshot = await repository.snapshot();
      const snapshotMs = Math.round(performance.now() - started);
      if (snapshot.rows.length === 0) {
        log.info('no interactions stored yet; nothing to train');
        metrics?.trainings.inc({ outcome: 'skipped' });
        return null;
      }
      const output = await trainInThread({
        rows: snapshot.rows,
        catalogue: snapshot.catalogue,
        params: this.options.params,
        blendWeights: this.options.blendWeights,
        holdoutUsers: this.options.holdoutUsers,
        seed: this.options.params.ials.seed,
      });
      const { data, ...described } = output;
      const model = await repository.save({
        watermark: snapshot.watermark,
        interactions: output.interactions,
        users: output.users,
        items: output.items,
        params: this.options.params,
        evaluation: output.evaluation,
        timings: { ...output.timings, snapshotMs },
        data,
      });
      await repository.prune(this.options.keepVersions);
      // Stored is what counts: a lost notice only waits for the gateways' poll.
      await this.announce(model.version).catch((error) =>
        log.warn({ err: error, version: model.version }, 'model stored, but the notice failed'),
      );
      metrics?.trainings.inc({ outcome: 'stored' });
      metrics?.trainingSeconds.observe((performance.now() - started) / 1000);
      log.info(
        {
          version: model.version,
          interactions: output.interactions,
          users: output.users,
          items: output.items,
          timings: output.timings,
          evaluation: output.evaluation,
        },
        'model trained and stored',
      );
      return { model, output: described, snapshotMs };
    } catch (error) {
      metrics?.trainings.inc({ outcome: 'failed' });
      throw error;
    }
  }

  /** Tells every gateway that `version` is now the one to serve. */
  async announce(version: number): Promise<void> {
    const notice: ModelNotice = { version };
    this.options.nc.publish(
      new Subjects(this.options.subjectPrefix).models,
      JSON.stringify(notice),
    );
    await this.options.nc.flush();
  }
}
