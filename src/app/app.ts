/**
 * Composition root: builds recflow's parts for a role and runs its
 * lifecycle (starting → ready → draining → stopped).
 *
 *   gateway  GraphQL over HTTP and WebSocket; stateless, scale out freely
 *   worker   the stream pipeline; run several as competing consumers
 *   all      both, for local use
 */
import { ProbeServer, type Readiness } from '../api/http/probes';
import { HttpGateway } from '../api/http/server';
import type { Services } from '../api/graphql/context';
import { ResponseCache } from '../api/graphql/response-cache';
import { recflowSchema } from '../api/graphql/schema';
import { RecommendationStreams } from '../api/subscriptions/recommendation-streams';
import { CatalogService } from '../catalog/catalog-service';
import type { Config } from '../config/config';
import type { ExecutionResult } from 'graphql';
import { IngestService } from '../ingestion/ingest-service';
import { EventPublisher } from '../ingestion/publisher';
import {
  ConnectionWatch,
  connectNats,
  ensureStreams,
  type NatsConnection,
} from '../messaging/connection';
import { CatalogChanges } from '../messaging/catalog-changes';
import { FeatureChangeHub } from '../messaging/feature-changes';
import { createLogger, type Logger, safeUrl } from '../observability/logger';
import { Metrics } from '../observability/metrics';
import { HotCopyWriter } from '../pipeline/hot-copy';
import { HotCopyBuilder } from '../pipeline/hot-copy-builder';
import { knownUsersPart, neighboursPart, popularPart } from '../pipeline/hot-copy-parts';
import { Worker } from '../pipeline/worker';
import { ModelRegistry } from '../recommend/model-registry';
import { Recommender } from '../recommend/recommender';
import { FeatureStore } from '../storage/feature-store';
import { CatalogRepository } from '../storage/postgres/catalog-repository';
import { createDb, type Db, pingDb } from '../storage/postgres/client';
import { FeatureRepository } from '../storage/postgres/feature-repository';
import { ensureDatabase, migrate } from '../storage/postgres/migrate';
import { ModelRepository } from '../storage/postgres/model-repository';
import { createRedis, pingRedis, type RedisClient } from '../storage/redis/client';
import { HotStore } from '../storage/redis/hot-store';
import { DEFAULT_MODEL_PARAMS } from '../learning/train';
import { TrainingScheduler } from '../training/scheduler';
import { Trainer } from '../training/trainer';

export type Role = 'gateway' | 'worker' | 'all';
export const ROLES: readonly Role[] = ['gateway', 'worker', 'all'];

export type Lifecycle = 'starting' | 'ready' | 'draining' | 'stopped';

export interface AppOptions {
  config: Config;
  role: Role;
  log?: Logger;
  /** Test-only fault injection for the worker (see README, Testing). */
  failpoint?: string;
}

/** The parts every role shares: connections and stores. */
export interface Core {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: Db;
  redis: RedisClient;
  nc: NatsConnection;
  natsWatch: ConnectionWatch;
  features: FeatureRepository;
  catalog: CatalogRepository;
  models: ModelRepository;
  hot: HotStore;
  hotCopy: HotCopyWriter;
  ingest: IngestService;
}

export class RecflowApp {
  state: Lifecycle = 'starting';
  gateway?: HttpGateway;
  worker?: Worker;
  /** The worker role's /health, /ready and /metrics. */
  probes?: ProbeServer;

  private constructor(
    readonly core: Core,
    readonly role: Role,
    private readonly extra: {
      hub?: FeatureChangeHub;
      registry?: ModelRegistry;
      scheduler?: TrainingScheduler;
      builders?: HotCopyBuilder[];
    },
  ) {}

  /** Connects, migrates, and starts the parts of the role. */
  static async start(options: AppOptions): Promise<RecflowApp> {
    const core = await openCore(options.config, options.log, `recflow-${options.role}`);
    const { config, log } = core;
    const app = new RecflowApp(core, options.role, {});

    if (options.role !== 'gateway') {
      app.worker = new Worker({
        nc: core.nc,
        config,
        repository: core.features,
        hotCopy: core.hotCopy,
        log: log.child({ component: 'worker' }),
        metrics: core.metrics,
        failpoint: config.env === 'production' ? undefined : options.failpoint,
      });
      await app.worker.start();
      // The parts of the hot copy that readers trust only while marked whole.
      const builderLog = log.child({ component: 'hot-copy-builder' });
      app.extra.builders = [
        knownUsersPart(core.hot, core.features),
        neighboursPart(core.hot, core.features, config.pipeline.neighbours),
        popularPart(core.hot, core.features),
      ].map(
        (part) => new HotCopyBuilder(part, builderLog, { everyMs: config.pipeline.hotCopyCheckMs }),
      );
      for (const builder of app.extra.builders) builder.start();
      app.extra.scheduler = new TrainingScheduler(
        createTrainer(core),
        core.models,
        config.postgres.url,
        config.training.intervalMs,
        log.child({ component: 'training' }),
        () => core.metrics.trainings.inc({ outcome: 'failed' }),
      );
      app.extra.scheduler.start();
    }
    if (options.role === 'worker') {
      app.probes = new ProbeServer({ metrics: core.metrics, readiness: () => app.readiness() });
      await app.probes.listen(config.http.port, config.http.host);
      log.info({ port: app.probes.port }, 'worker probes listening');
    }
    if (options.role !== 'worker') {
      if (config.env === 'production' && config.http.apiKeys.length === 0) {
        log.warn(
          'RECFLOW_API_KEYS is not set: the GraphQL endpoint is open to anyone who reaches it',
        );
      }
      const hub = new FeatureChangeHub(core.nc, config.nats.subjectPrefix, log);
      app.extra.hub = hub;
      const registry = new ModelRegistry(
        core.models,
        core.nc,
        config.nats.subjectPrefix,
        config.training.modelPollMs,
        log.child({ component: 'models' }),
        core.metrics,
      );
      await registry.start();
      app.extra.registry = registry;
      const responses = responseCacheFor(core, hub, registry);
      app.gateway = new HttpGateway({
        config,
        schema: await recflowSchema(),
        services: buildServices(core, hub, registry, responses),
        responses,
        log: log.child({ component: 'gateway' }),
        metrics: core.metrics,
        readiness: () => app.readiness(),
      });
      await app.gateway.start();
      log.info({ endpoint: app.gateway.url }, 'gateway listening');
    }
    app.state = 'ready';
    return app;
  }

  /** PostgreSQL, Redis and NATS reachable, and (for workers) the consumer running. */
  async readiness(): Promise<Readiness> {
    const [postgres, redis] = await Promise.all([pingDb(this.core.db), pingRedis(this.core.redis)]);
    const nats = !this.core.nc.isClosed() && this.core.natsWatch.connected;
    const checks: Record<string, boolean | string> = { postgres, redis, nats };
    if (this.worker) checks.consumer = this.worker.health().state;
    const health = this.worker?.health();
    if (health && !health.consumerPresent) checks.consumer = 'missing';
    const consumerOk =
      !health || (['running', 'retrying'].includes(health.state) && health.consumerPresent);
    return { ready: this.state === 'ready' && postgres && redis && nats && consumerOk, checks };
  }

  /**
   * Graceful shutdown, in order: stop accepting new work and finish in-flight
   * requests; drain the consumer; close WebSockets; close connections.
   */
  async stop(): Promise<void> {
    if (this.state === 'draining' || this.state === 'stopped') return;
    this.state = 'draining';
    const timeout = this.core.config.http.shutdownTimeoutMs;
    await this.gateway?.drain(timeout);
    await this.worker?.drain();
    for (const builder of this.extra.builders ?? []) await builder.stop();
    await this.extra.scheduler?.stop();
    this.extra.registry?.close();
    await this.probes?.close();
    await this.gateway?.close();
    this.extra.hub?.close();
    await closeCore(this.core);
    this.state = 'stopped';
    this.core.log.info('stopped');
  }

  /** The model this gateway serves; undefined in the worker role. */
  get models(): ModelRegistry | undefined {
    return this.extra.registry;
  }

  /** The worker role's training schedule; undefined in the gateway role. */
  get training(): TrainingScheduler | undefined {
    return this.extra.scheduler;
  }
}

/** The trainer every role and the CLI share, with the configured parameters. */
export function createTrainer(core: Core): Trainer {
  return new Trainer({
    repository: core.models,
    nc: core.nc,
    subjectPrefix: core.config.nats.subjectPrefix,
    params: DEFAULT_MODEL_PARAMS,
    blendWeights: core.config.recommend.blendWeights,
    holdoutUsers: core.config.training.holdoutUsers,
    keepVersions: core.config.training.keepVersions,
    log: core.log.child({ component: 'training' }),
    metrics: core.metrics,
  });
}

/**
 * The gateway's response cache (src/api/graphql/response-cache.ts) and what
 * empties it: a user's notices drop that user's answers; a new model, and a
 * NATS disconnect or reconnect (notices may have been lost), drop them all.
 * Catalogue changes drop them all too (buildServices).
 */
function responseCacheFor(
  core: Core,
  hub: FeatureChangeHub,
  models: ModelRegistry,
): ResponseCache<ExecutionResult> {
  const { recommend } = core.config;
  const responses = new ResponseCache<ExecutionResult>({
    ttlMs: recommend.responseCacheMs,
    maxEntries: recommend.responseCacheEntries,
  });
  if (!responses.enabled) return responses;
  hub.watchAll((userId) => responses.forgetUser(userId));
  models.onSwap(() => responses.clear());
  core.natsWatch.onChange(() => responses.clear());
  core.metrics.watchResponseCache(() => responses.size);
  return responses;
}

function buildServices(
  core: Core,
  hub: FeatureChangeHub,
  models: ModelRegistry,
  responses: ResponseCache<ExecutionResult>,
): Services {
  const { config, log, metrics } = core;
  const store = new FeatureStore(core.hot, core.features, metrics, log, {
    neighbourDepth: config.pipeline.neighbours,
    popularCacheMs: config.recommend.popularCacheMs,
    itemCacheMs: config.recommend.itemCacheMs,
    neighbourCacheMs: config.recommend.neighbourCacheMs,
  });
  const catalogChanges = new CatalogChanges(core.nc, config.nats.subjectPrefix, log);
  const forgetItems = (ids: readonly string[]) => {
    store.forgetItems(ids);
    responses.clear();
  };
  catalogChanges.listen(forgetItems);
  const recommender = new Recommender(
    config.recommend.blendWeights,
    log,
    (strategy) => metrics.recommendationStrategy.inc({ strategy }),
    models,
  );
  const streams = new RecommendationStreams(
    hub,
    store,
    recommender,
    config.recommend.subscriptionDebounceMs,
    metrics,
    log.child({ component: 'subscriptions' }),
    config.recommend.subscriptionConcurrency,
  );
  // A new model changes every list: subscribers get theirs without waiting for an event.
  models.onSwap(() => streams.refreshAll());
  return {
    ingest: core.ingest,
    catalog: new CatalogService(core.catalog, core.hotCopy, {
      onItemsChanged: (ids) => {
        // This gateway forgets at once; the others on the notice.
        forgetItems(ids);
        catalogChanges.announce(ids);
      },
      // A quarter of the pool at most may wait on item locks.
      concurrentWrites: Math.max(1, Math.floor(config.postgres.poolSize / 4)),
    }),
    catalogRepository: core.catalog,
    features: store,
    recommender,
    streams,
    maxLimit: config.recommend.maxLimit,
  };
}

/** Opens every connection; used by `serve` and by the CLI's import commands. */
export async function openCore(config: Config, givenLog?: Logger, name = 'recflow'): Promise<Core> {
  const log = givenLog ?? createLogger(config.logLevel);
  const metrics = new Metrics();

  await ensureDatabase(config.postgres.url).catch((error) => {
    throw new Error(
      `PostgreSQL at ${safeUrl(config.postgres.url)} is unreachable: ${error.message}`,
      { cause: error },
    );
  });
  const migration = await migrate(config.postgres.url);
  if (migration.applied.length > 0) log.info({ applied: migration.applied }, 'database migrated');
  const db = createDb(config.postgres.url, config.postgres.poolSize);

  const redis = createRedis(config.redis.url, config.redis.commandTimeoutMs);
  redis.on('error', (error) => log.debug({ err: error }, 'redis connection error'));
  // Redis is the hot copy, not the truth: start even when it is down.
  await redis
    .connect()
    .catch((error) => log.warn({ err: error }, 'redis unreachable at start; reading PostgreSQL'));

  const nc = await connectNats(config.nats.url, name).catch((error) => {
    throw new Error(`NATS at ${safeUrl(config.nats.url)} is unreachable: ${error.message}`, {
      cause: error,
    });
  });
  await ensureStreams(nc, config.nats);
  const natsWatch = new ConnectionWatch(nc, (status) =>
    log.warn({ nats: status }, 'nats connection status'),
  );

  const features = new FeatureRepository(db, (step, seconds) =>
    metrics.pipelineSteps.observe({ step }, seconds),
  );
  const hot = new HotStore(redis, config.redis.prefix);
  // Writes Redis could not take are retried here, in every role.
  const hotCopy = new HotCopyWriter(
    hot,
    config.pipeline.neighbours,
    log.child({ component: 'hot-copy' }),
    hot.marks,
  );
  hotCopy.startRetrying();
  const publisher = new EventPublisher(nc, config.nats.subjectPrefix, {
    connected: () => natsWatch.connected,
    onPublished: (answer, count) => metrics.eventsIngested.inc({ answer }, count),
    recreate: () => ensureStreams(nc, config.nats),
  });
  return {
    config,
    log,
    metrics,
    db,
    redis,
    nc,
    natsWatch,
    features,
    catalog: new CatalogRepository(db),
    models: new ModelRepository(db),
    hot,
    hotCopy,
    ingest: new IngestService(publisher, config.events.limits, config.events.maxBatch),
  };
}

export async function closeCore(core: Core): Promise<void> {
  core.hotCopy.stopRetrying();
  await core.hotCopy.flush();
  // A connection that cannot drain (NATS down) is closed, so that it stops
  // reconnecting and lets the process end.
  await core.nc.drain().catch(() => core.nc.close().catch(() => undefined));
  core.redis.disconnect();
  await core.db.$disconnect();
}
