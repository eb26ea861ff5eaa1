import { type Config, loadConfig } from '../../../src/config/config';
import { ConfigError, type Env } from '../../../src/config/env';
import { DEFAULT_EVENT_LIMITS } from '../../../src/domain/events';
import { DEFAULT_BLEND_WEIGHTS } from '../../../src/domain/ranking';
import { DEFAULT_EVENT_WEIGHTS } from '../../../src/domain/weights';

/** The ConfigError that loadConfig must throw for `env`. */
function configErrorOf(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  const config: Config = loadConfig({});

  test('point every service at 127.0.0.1 on its standard port', () => {
    const postgres = new URL(config.postgres.url);
    const redis = new URL(config.redis.url);
    const nats = new URL(config.nats.url);
    expect([postgres.protocol, postgres.hostname, postgres.port]).toEqual([
      'postgresql:',
      '127.0.0.1',
      '5432',
    ]);
    expect([redis.protocol, redis.hostname, redis.port]).toEqual(['redis:', '127.0.0.1', '6379']);
    expect([nats.protocol, nats.hostname, nats.port]).toEqual(['nats:', '127.0.0.1', '4222']);
  });

  test('serve GraphQL on 127.0.0.1:4000/graphql without API keys, in development', () => {
    expect(config.env).toBe('development');
    expect(config.logLevel).toBe('info');
    expect(config.http).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      path: '/graphql',
      apiKeys: [],
      maxBodyBytes: 2 * 1024 * 1024,
      shutdownTimeoutMs: 10_000,
      keepAliveMs: 65_000,
      idleTimeoutMs: 120_000,
    });
  });

  test('end the Redis key prefix with a colon', () => {
    expect(config.redis.prefix).toBe('recflow:');
  });

  test('name the stream, subjects and consumer', () => {
    expect(config.nats).toMatchObject({
      stream: 'RECFLOW_EVENTS',
      subjectPrefix: 'recflow',
      consumer: 'recflow-worker',
      duplicateWindowMs: 120_000,
    });
  });

  test("use the domain's default limits and weights", () => {
    expect(config.events.limits).toEqual(DEFAULT_EVENT_LIMITS);
    expect(config.events.weights).toEqual(DEFAULT_EVENT_WEIGHTS);
    expect(config.recommend.blendWeights).toEqual(DEFAULT_BLEND_WEIGHTS);
    expect(config.events.maxBatch).toBe(1000);
    expect(config.recommend.maxLimit).toBe(100);
  });

  test('treat empty variables as unset', () => {
    const fromEmpty = loadConfig({ RECFLOW_PORT: '', RECFLOW_DATABASE_URL: '', NODE_ENV: '' });
    expect(fromEmpty).toEqual(config);
  });
});

describe('loadConfig', () => {
  test('reads only the environment object it is given', () => {
    const saved = process.env.RECFLOW_PORT;
    process.env.RECFLOW_PORT = 'abc';
    try {
      expect(loadConfig({ RECFLOW_PORT: '4100' }).http.port).toBe(4100);
      expect(loadConfig({}).http.port).toBe(4000);
    } finally {
      if (saved === undefined) delete process.env.RECFLOW_PORT;
      else process.env.RECFLOW_PORT = saved;
    }
  });

  test('applies the values it is given', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      RECFLOW_LOG_LEVEL: 'warn',
      RECFLOW_PORT: '8080',
      RECFLOW_GRAPHQL_PATH: '/api/graphql',
      RECFLOW_API_KEYS: ' key-one-0123456789 , key-two-0123456789 ',
      RECFLOW_DATABASE_URL: 'postgres://app:pw@127.0.0.1:6543/recflow_test',
      RECFLOW_REDIS_URL: 'rediss://127.0.0.1:6380',
      RECFLOW_REDIS_PREFIX: 'test:run.7',
      RECFLOW_NATS_URL: 'tls://127.0.0.1:4223',
      RECFLOW_STREAM_MAX_AGE: '30d',
      RECFLOW_WORKER_BATCH: '50',
      RECFLOW_RATING_MAX: '10',
      RECFLOW_MAX_CLOCK_SKEW: '30s',
      RECFLOW_EVENT_WEIGHTS: 'VIEW=0.5',
      RECFLOW_BLEND_WEIGHTS: 'model=0,popular=1',
    });
    expect(config.env).toBe('production');
    expect(config.logLevel).toBe('warn');
    expect(config.http.port).toBe(8080);
    expect(config.http.path).toBe('/api/graphql');
    expect(config.http.apiKeys).toEqual(['key-one-0123456789', 'key-two-0123456789']);
    expect(config.postgres.url).toBe('postgres://app:pw@127.0.0.1:6543/recflow_test');
    expect(config.redis.url).toBe('rediss://127.0.0.1:6380');
    expect(config.redis.prefix).toBe('test:run.7:');
    expect(config.nats.url).toBe('tls://127.0.0.1:4223');
    expect(config.nats.streamMaxAgeMs).toBe(30 * 86_400_000);
    expect(config.pipeline.batchSize).toBe(50);
    expect(config.events.limits).toEqual({
      ...DEFAULT_EVENT_LIMITS,
      ratingMax: 10,
      maxFutureSkewMs: 30_000,
    });
    expect(config.events.weights).toEqual({ ...DEFAULT_EVENT_WEIGHTS, VIEW: 0.5 });
    expect(config.recommend.blendWeights).toEqual({
      ...DEFAULT_BLEND_WEIGHTS,
      model: 0,
      popular: 1,
    });
  });

  test.each([
    ['RECFLOW_PORT', 'abc', 'must be a whole number from 0 to 65535'],
    ['RECFLOW_PORT', '65536', 'must be a whole number from 0 to 65535'],
    ['RECFLOW_PORT', '80.5', 'must be a whole number'],
    ['RECFLOW_DATABASE_URL', 'http://x', 'must use one of the schemes postgres, postgresql'],
    ['RECFLOW_DATABASE_URL', 'not a url', 'must be a URL'],
    ['RECFLOW_REDIS_URL', 'http://127.0.0.1:6379', 'schemes redis, rediss'],
    ['RECFLOW_NATS_URL', 'redis://127.0.0.1:4222', 'schemes nats, tls'],
    ['RECFLOW_EVENT_WEIGHTS', 'FOO=1', 'unknown event type "FOO"'],
    ['RECFLOW_EVENT_WEIGHTS', 'RATE=2', 'unknown event type "RATE"'],
    ['RECFLOW_EVENT_WEIGHTS', 'toString=1', 'unknown event type "toString"'],
    ['RECFLOW_EVENT_WEIGHTS', 'VIEW=lots', 'weight for VIEW must be a finite number'],
    ['RECFLOW_BLEND_WEIGHTS', 'magic=1', 'unknown source "magic"'],
    ['RECFLOW_BLEND_WEIGHTS', 'model=-1', 'weight for model must be a number >= 0'],
    ['RECFLOW_BLEND_WEIGHTS', 'model=', 'weight for model must be a number >= 0'],
    ['RECFLOW_BLEND_WEIGHTS', 'model', 'weight for model must be a number >= 0'],
    ['RECFLOW_GRAPHQL_PATH', 'graphql', 'must be a URL path'],
    ['RECFLOW_GRAPHQL_PATH', '/graph ql', 'must be a URL path'],
    ['RECFLOW_LOG_LEVEL', 'loud', 'must be one of trace, debug'],
    ['NODE_ENV', 'staging', 'must be one of development, production, test'],
    ['RECFLOW_REDIS_PREFIX', 'has space', 'must be 1-64 characters'],
    ['RECFLOW_STREAM', 'events.all', 'must be 1-64 characters'],
    ['RECFLOW_SHUTDOWN_TIMEOUT', 'soon', 'must be a duration'],
    ['RECFLOW_ACK_WAIT', '500ms', 'must be a duration from 1000 ms'],
    ['RECFLOW_MAX_DELIVER', '1', 'must be a whole number from 2 to 100'],
    ['RECFLOW_DATABASE_POOL', '1', 'must be a whole number from 2 to 200'],
    ['RECFLOW_RATE_LIMIT', '-5', 'must be a number from 0'],
    ['RECFLOW_RATING_MAX', '0', 'must be a number from 1 to 100'],
  ])('rejects %s=%j with a message naming the variable', (name, value, expected) => {
    const error = configErrorOf({ [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name} `));
    expect(error.problems[0]).toContain(expected);
    expect(error.message).toContain(`${name} `);
  });

  test('reports several problems together, each naming its variable', () => {
    const error = configErrorOf({
      RECFLOW_PORT: 'abc',
      RECFLOW_DATABASE_URL: 'http://x',
      RECFLOW_EVENT_WEIGHTS: 'FOO=1',
      RECFLOW_REDIS_TIMEOUT: '5',
    });
    expect(error.problems.map((p) => p.split(' ')[0])).toEqual([
      'RECFLOW_PORT',
      'RECFLOW_DATABASE_URL',
      'RECFLOW_REDIS_TIMEOUT',
      'RECFLOW_EVENT_WEIGHTS',
    ]);
    expect(error.message.split('\n')).toHaveLength(5);
  });

  test.each([
    ['RECFLOW_DATABASE_URL', 'mysql://admin:s3cret-Pa55@127.0.0.1:3306/recflow'],
    ['RECFLOW_DATABASE_URL', 'postgres//admin:s3cret-Pa55@127.0.0.1/recflow'],
    ['RECFLOW_REDIS_URL', 'http://default:s3cret-Pa55@127.0.0.1:6379'],
    ['RECFLOW_NATS_URL', 'nats//user:s3cret-Pa55@127.0.0.1:4222'],
  ])('never echoes a bad %s, which may hold a password', (name, value) => {
    const error = configErrorOf({ [name]: value });
    expect(error.problems[0]).toMatch(new RegExp(`^${name} `));
    expect(error.message).not.toContain('s3cret-Pa55');
    expect(error.message).not.toContain(value);
  });

  test('never echoes API keys that are too short', () => {
    const error = configErrorOf({ RECFLOW_API_KEYS: 'short-secret,a-good-long-key-123' });
    expect(error.problems).toEqual(['RECFLOW_API_KEYS keys must be at least 16 characters']);
    expect(error.message).not.toContain('short-secret');
  });
});
