/**
 * recflow's configuration, read once from the environment and validated at
 * start-up. The README's configuration table documents every variable here;
 * keep the two in step.
 */
import { DEFAULT_EVENT_LIMITS, type EventLimits } from '../domain/events';
import { DEFAULT_BLEND_WEIGHTS, type BlendWeights, CANDIDATE_SOURCES } from '../domain/ranking';
import { DEFAULT_EVENT_WEIGHTS, type EventWeights, parseEventWeights } from '../domain/weights';
import { type Env, EnvReader } from './env';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface Config {
  env: 'development' | 'production' | 'test';
  logLevel: (typeof LOG_LEVELS)[number];
  http: {
    host: string;
    port: number;
    /** GraphQL endpoint path, shared by HTTP and WebSocket. */
    path: string;
    /** Largest accepted request body, in bytes. */
    maxBodyBytes: number;
    /** API keys; empty means no authentication (development only). */
    apiKeys: readonly string[];
    /** Requests per second per client; 0 turns the limit off. */
    rateLimitPerSecond: number;
    rateLimitBurst: number;
    shutdownTimeoutMs: number;
    /**
     * How long an idle keep-alive connection stays open. Longer than a load
     * balancer's idle timeout (60 s on common ones), so that the gateway never
     * closes a connection the balancer is about to reuse.
     */
    keepAliveMs: number;
    /**
     * How long an HTTP connection may pass no bytes either way before it is
     * closed (Node would keep one that never begins a request for good).
     * Between requests keepAliveMs rules; WebSockets are exempt.
     */
    idleTimeoutMs: number;
    /**
     * Runs of a GraphQL operation before it is compiled with graphql-jit
     * (src/api/graphql/compiled-execution.ts); 0 never compiles.
     */
    compileAfter: number;
  };
  postgres: { url: string; poolSize: number };
  redis: {
    url: string;
    /** Prepended to every key, so that deployments and test runs never collide. */
    prefix: string;
    commandTimeoutMs: number;
  };
  nats: {
    url: string;
    /** JetStream stream that holds the events. */
    stream: string;
    /** First token of every subject recflow uses. */
    subjectPrefix: string;
    /** Durable consumer name shared by all workers. */
    consumer: string;
    streamMaxAgeMs: number;
    streamMaxBytes: number;
    duplicateWindowMs: number;
  };
  pipeline: {
    batchSize: number;
    /** Transactions a worker runs at once, each on its own share of the users. */
    lanes: number;
    maxDeliver: number;
    ackWaitMs: number;
    /** Two positive events of one user this close in event time co-visit. */
    covisitWindowMs: number;
    /** Neighbours kept per item in the hot copy. */
    neighbours: number;
    /** How often a worker checks whether a part of the hot copy needs a build. */
    hotCopyCheckMs: number;
  };
  events: {
    limits: EventLimits;
    weights: EventWeights;
    /** Most events one recordEvents call may carry. */
    maxBatch: number;
  };
  recommend: {
    blendWeights: BlendWeights;
    maxLimit: number;
    /** Wait this long after a features-changed notice before recomputing. */
    subscriptionDebounceMs: number;
    /** Subscribed lists a gateway computes at once; the rest wait their turn. */
    subscriptionConcurrency: number;
    /** Gateways reuse a popular or trending list this long before reading it again. */
    popularCacheMs: number;
    /** Gateways reuse an item record this long before reading it again. */
    itemCacheMs: number;
    /** Gateways reuse an item's co-visitation neighbours this long before reading them again. */
    neighbourCacheMs: number;
    /** How long a gateway serves a user's answer again; 0 turns the response cache off. */
    responseCacheMs: number;
    /** Answers a gateway's response cache holds at most. */
    responseCacheEntries: number;
  };
  training: {
    /** Workers train this often when new events arrived; 0 turns scheduled training off. */
    intervalMs: number;
    /** Users whose latest positive interaction is held out for the stored figures. */
    holdoutUsers: number;
    /** Model versions kept for rollback. */
    keepVersions: number;
    /** Gateways also check for a new serving model this often; 0 relies on notices alone. */
    modelPollMs: number;
  };
}

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', 'development', ['development', 'production', 'test']);
  const config: Config = {
    env: nodeEnv,
    logLevel: read.oneOf('RECFLOW_LOG_LEVEL', 'info', LOG_LEVELS),
    http: {
      host: read.string('RECFLOW_HOST', '127.0.0.1'),
      port: read.int('RECFLOW_PORT', 4000, 0, 65535),
      path: read.custom('RECFLOW_GRAPHQL_PATH', '/graphql', parsePath),
      maxBodyBytes: read.int('RECFLOW_MAX_BODY_BYTES', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      apiKeys: read.custom('RECFLOW_API_KEYS', [] as string[], parseKeys),
      rateLimitPerSecond: read.number('RECFLOW_RATE_LIMIT', 1000, 0, 1_000_000),
      rateLimitBurst: read.number('RECFLOW_RATE_LIMIT_BURST', 2000, 1, 10_000_000),
      shutdownTimeoutMs: read.duration('RECFLOW_SHUTDOWN_TIMEOUT', 10_000, 100, 300_000),
      keepAliveMs: read.duration('RECFLOW_HTTP_KEEP_ALIVE', 65_000, 1000, 600_000),
      idleTimeoutMs: read.duration('RECFLOW_HTTP_IDLE_TIMEOUT', 120_000, 1000, 3_600_000),
      compileAfter: read.int('RECFLOW_GRAPHQL_COMPILE_AFTER', 10, 0, 1_000_000),
    },
    postgres: {
      url: read.url('RECFLOW_DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/recflow', [
        'postgres',
        'postgresql',
      ]),
      // Two at least: a catalogue write waiting on item locks holds one.
      poolSize: read.int('RECFLOW_DATABASE_POOL', 10, 2, 200),
    },
    redis: {
      url: read.url('RECFLOW_REDIS_URL', 'redis://127.0.0.1:6379', ['redis', 'rediss']),
      prefix: read.token('RECFLOW_REDIS_PREFIX', 'recflow', ':.') + ':',
      commandTimeoutMs: read.duration('RECFLOW_REDIS_TIMEOUT', 500, 10, 60_000),
    },
    nats: {
      url: read.url('RECFLOW_NATS_URL', 'nats://127.0.0.1:4222', ['nats', 'tls']),
      stream: read.token('RECFLOW_STREAM', 'RECFLOW_EVENTS'),
      subjectPrefix: read.token('RECFLOW_SUBJECT_PREFIX', 'recflow'),
      consumer: read.token('RECFLOW_CONSUMER', 'recflow-worker'),
      streamMaxAgeMs: read.duration(
        'RECFLOW_STREAM_MAX_AGE',
        7 * 86_400_000,
        60_000,
        3650 * 86_400_000,
      ),
      streamMaxBytes: read.int('RECFLOW_STREAM_MAX_BYTES', 1024 ** 3, 1024 ** 2, 2 ** 50),
      duplicateWindowMs: read.duration('RECFLOW_DUPLICATE_WINDOW', 120_000, 1000, 7 * 86_400_000),
    },
    pipeline: {
      batchSize: read.int('RECFLOW_WORKER_BATCH', 4000, 1, 10_000),
      lanes: read.int('RECFLOW_WORKER_LANES', 2, 1, 8),
      maxDeliver: read.int('RECFLOW_MAX_DELIVER', 5, 2, 100),
      ackWaitMs: read.duration('RECFLOW_ACK_WAIT', 30_000, 1000, 3_600_000),
      covisitWindowMs: read.duration('RECFLOW_COVISIT_WINDOW', 300_000, 0, 7 * 86_400_000),
      neighbours: read.int('RECFLOW_NEIGHBOURS', 50, 1, 1000),
      hotCopyCheckMs: read.duration('RECFLOW_HOT_COPY_CHECK', 30_000, 1000, 600_000),
    },
    events: {
      limits: {
        ...DEFAULT_EVENT_LIMITS,
        ratingMax: read.number('RECFLOW_RATING_MAX', DEFAULT_EVENT_LIMITS.ratingMax, 1, 100),
        maxFutureSkewMs: read.duration(
          'RECFLOW_MAX_CLOCK_SKEW',
          DEFAULT_EVENT_LIMITS.maxFutureSkewMs,
          0,
          86_400_000,
        ),
      },
      weights: read.custom('RECFLOW_EVENT_WEIGHTS', DEFAULT_EVENT_WEIGHTS, parseEventWeights),
      maxBatch: read.int('RECFLOW_MAX_EVENT_BATCH', 1000, 1, 10_000),
    },
    recommend: {
      blendWeights: read.custom('RECFLOW_BLEND_WEIGHTS', DEFAULT_BLEND_WEIGHTS, parseBlendWeights),
      maxLimit: read.int('RECFLOW_MAX_LIMIT', 100, 1, 1000),
      subscriptionDebounceMs: read.duration('RECFLOW_SUBSCRIPTION_DEBOUNCE', 5, 0, 10_000),
      subscriptionConcurrency: read.int('RECFLOW_SUBSCRIPTION_CONCURRENCY', 32, 1, 10_000),
      popularCacheMs: read.duration('RECFLOW_POPULAR_CACHE', 1000, 0, 60_000),
      itemCacheMs: read.duration('RECFLOW_ITEM_CACHE', 1000, 0, 60_000),
      neighbourCacheMs: read.duration('RECFLOW_NEIGHBOUR_CACHE', 1000, 0, 60_000),
      responseCacheMs: read.duration('RECFLOW_RESPONSE_CACHE', 1000, 0, 60_000),
      responseCacheEntries: read.int('RECFLOW_RESPONSE_CACHE_ENTRIES', 10_000, 1, 1_000_000),
    },
    training: {
      intervalMs: read.duration('RECFLOW_TRAIN_INTERVAL', 3_600_000, 0, 30 * 86_400_000),
      holdoutUsers: read.int('RECFLOW_TRAIN_HOLDOUT_USERS', 1000, 0, 1_000_000),
      keepVersions: read.int('RECFLOW_MODEL_KEEP', 5, 2, 1000),
      modelPollMs: read.duration('RECFLOW_MODEL_POLL', 30_000, 0, 86_400_000),
    },
  };
  read.done();
  return config;
}

function parsePath(raw: string): string {
  if (!/^\/[A-Za-z0-9_\-/]*$/.test(raw)) throw new Error(`must be a URL path such as /graphql`);
  return raw;
}

function parseKeys(raw: string): string[] {
  const keys = raw
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (keys.length === 0)
    throw new Error('names no key (leave it unset to turn authentication off)');
  if (keys.some((k) => k.length < 16)) throw new Error('keys must be at least 16 characters');
  return keys;
}

/** Parses `model=1,covisitation=0.8,...`; unnamed sources keep their defaults. */
export function parseBlendWeights(raw: string): BlendWeights {
  const weights: Record<string, number> = { ...DEFAULT_BLEND_WEIGHTS };
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value] = part.split('=').map((p) => p.trim());
    if (!(CANDIDATE_SOURCES as readonly string[]).includes(name)) {
      throw new Error(`names unknown source "${name}" (known: ${CANDIDATE_SOURCES.join(', ')})`);
    }
    const weight = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(weight) || weight < 0) {
      throw new Error(`weight for ${name} must be a number >= 0`);
    }
    weights[name] = weight;
  }
  return weights as BlendWeights;
}
