/**
 * A pipeline worker for integration tests, on the test's own stream,
 * database and Redis prefix: started, quiet unless given a log.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../../src/config/config';
import { type Logger, silentLogger } from '../../src/observability/logger';
import { Metrics } from '../../src/observability/metrics';
import { HotCopyWriter } from '../../src/pipeline/hot-copy';
import { Worker } from '../../src/pipeline/worker';
import type { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import type { HotStore } from '../../src/storage/redis/hot-store';

export async function startWorker(options: {
  nc: NatsConnection;
  config: Config;
  repository: FeatureRepository;
  hot: HotStore;
  log?: Logger;
  metrics?: Metrics;
}): Promise<Worker> {
  const { nc, config, repository, hot } = options;
  const worker = new Worker({
    nc,
    config,
    repository,
    hotCopy: new HotCopyWriter(hot, config.pipeline.neighbours, silentLogger()),
    log: options.log ?? silentLogger(),
    metrics: options.metrics ?? new Metrics({ defaultMetrics: false }),
  });
  await worker.start();
  return worker;
}
