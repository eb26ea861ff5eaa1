/**
 * Prometheus metrics. One registry per process, created by the app and
 * passed to the components that record into it, so tests can start several
 * apps in one process without their metrics mixing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'recflow_graphql_operations_total',
    help: 'GraphQL operations by operation type and outcome',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly httpLatency = new Histogram({
    name: 'recflow_graphql_operation_seconds',
    help: 'GraphQL operation latency',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly eventsIngested = new Counter({
    name: 'recflow_events_ingested_total',
    help: 'Events written to JetStream by the gateway, by answer',
    labelNames: ['answer'] as const,
    registers: [this.registry],
  });

  readonly eventsProcessed = new Counter({
    name: 'recflow_events_processed_total',
    help: 'Events handled by the pipeline: applied, duplicate or dead-lettered',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly batchLatency = new Histogram({
    name: 'recflow_pipeline_batch_seconds',
    help: 'Time to apply one batch, from fetch to ack',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly pipelineSteps = new Histogram({
    name: 'recflow_pipeline_step_seconds',
    help: 'Time of each step of applying a batch in PostgreSQL',
    labelNames: ['step'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly storeRoundTrips = new Counter({
    name: 'recflow_store_round_trips_total',
    help: 'Round trips to Redis and PostgreSQL made by feature loading, by store and kind',
    labelNames: ['store', 'kind'] as const,
    registers: [this.registry],
  });

  readonly storeFallbacks = new Counter({
    name: 'recflow_store_fallbacks_total',
    help: 'Reads served from PostgreSQL because Redis failed',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: 'recflow_circuit_open',
    help: '1 while the circuit breaker of a dependency is open',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly operationCompiles = new Counter({
    name: 'recflow_graphql_compiles_total',
    help: 'Operations this gateway compiled with graphql-jit, by result (compiled, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly subscriptions = new Gauge({
    name: 'recflow_subscriptions_active',
    help: 'Live recommendationsUpdated subscriptions on this gateway',
    registers: [this.registry],
  });

  readonly pushes = new Counter({
    name: 'recflow_subscription_pushes_total',
    help: 'Refreshed lists pushed to subscribers',
    registers: [this.registry],
  });

  readonly recommendationStrategy = new Counter({
    name: 'recflow_recommendations_total',
    help: 'Recommendation lists computed (not answered from the response cache), by strategy',
    labelNames: ['strategy'] as const,
    registers: [this.registry],
  });

  readonly responseCache = new Counter({
    name: 'recflow_response_cache_lookups_total',
    help:
      'Cacheable queries by what the response cache did: hit, miss, or bypass ' +
      '(the client asked for a fresh answer)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly modelVersion = new Gauge({
    name: 'recflow_model_version',
    help: 'Model version this process serves (0 before the first training)',
    registers: [this.registry],
  });

  readonly modelSwaps = new Counter({
    name: 'recflow_model_swaps_total',
    help: 'Times this gateway swapped in another model version',
    registers: [this.registry],
  });

  readonly trainings = new Counter({
    name: 'recflow_trainings_total',
    help: 'Training runs, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly trainingSeconds = new Histogram({
    name: 'recflow_training_seconds',
    help: 'Wall time of a training run, from snapshot to stored model',
    buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  /** Reports how many answers the response cache holds, read at each scrape. */
  watchResponseCache(size: () => number): void {
    new Gauge({
      name: 'recflow_response_cache_entries',
      help: 'Answers the response cache holds',
      registers: [this.registry],
      collect() {
        this.set(size());
      },
    });
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'recflow_' });
    }
  }
}
