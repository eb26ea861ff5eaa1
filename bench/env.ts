/**
 * Per-run isolation on the shared services, as the tests do it
 * (test/support/services.ts): each environment has its own database,
 * stream, subject prefix, durable consumer and Redis key prefix, and
 * `cleanUp` deletes exactly those (test/support/recflow.ts).
 *
 * Names start with `recflow_bench_`, `RF_BENCH_` and `rf-bench-`, so that
 * leftovers of an interrupted run are easy to tell from test leftovers.
 */
import { isolatedNames, isolatedVariables } from '../src/app/isolation';
import Redis from 'ioredis';
import { Client } from 'pg';
import { type Config, loadConfig } from '../src/config/config';
import { connectNats, deleteStreams, ensureStreams } from '../src/messaging/connection';
import { ensureDatabase, migrate } from '../src/storage/postgres/migrate';

/** The only hosts the bench talks to. */
export const SERVICES = {
  postgres: 'postgresql://postgres@127.0.0.1:5432',
  redis: 'redis://127.0.0.1:6379',
  nats: 'nats://127.0.0.1:4222',
};

export interface BenchEnv {
  id: string;
  /** Environment variables for a recflow process (in-process config or child process). */
  env: Record<string, string>;
  config: Config;
  /**
   * A second stream with the same settings as the event stream, for raw
   * JetStream baselines; it is deleted with the rest.
   */
  rawStream(suffix: string): Promise<Config['nats']>;
  cleanUp(): Promise<void>;
}

export async function benchEnv(overrides: Record<string, string> = {}): Promise<BenchEnv> {
  const names = isolatedNames('bench');
  const { id, database } = names;
  const env: Record<string, string> = {
    // As deployed: graphql-js skips its development-only checks, and no
    // failpoint can fire. No API keys are set, so the gateway logs a warning.
    NODE_ENV: 'production',
    RECFLOW_LOG_LEVEL: process.env.RECFLOW_BENCH_LOG_LEVEL ?? 'warn',
    RECFLOW_HOST: '127.0.0.1',
    ...isolatedVariables(names, SERVICES.postgres),
    RECFLOW_REDIS_URL: SERVICES.redis,
    RECFLOW_NATS_URL: SERVICES.nats,
    RECFLOW_PORT: '0',
    RECFLOW_RATE_LIMIT: '0',
    ...overrides,
  };
  const config = loadConfig(env);
  await ensureDatabase(config.postgres.url);
  await migrate(config.postgres.url);
  const extraStreams: Array<Config['nats']> = [];

  return {
    id,
    env,
    config,
    async rawStream(suffix) {
      const nats = {
        ...config.nats,
        stream: `${config.nats.stream}_${suffix.toUpperCase()}`,
        subjectPrefix: `${config.nats.subjectPrefix}-${suffix}`,
        consumer: `${config.nats.consumer}-${suffix}`,
      };
      extraStreams.push(nats);
      const nc = await connectNats(nats.url, 'recflow-bench-setup');
      try {
        await ensureStreams(nc, nats);
      } finally {
        await nc.close();
      }
      return nats;
    },
    async cleanUp() {
      const nc = await connectNats(config.nats.url, 'recflow-bench-cleanup');
      for (const nats of [config.nats, ...extraStreams]) await deleteStreams(nc, nats);
      await nc.close();
      await deleteKeys(config.redis.url, config.redis.prefix);
      await dropDatabase(database);
    },
  };
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function dropDatabase(database: string): Promise<void> {
  const admin = new Client({ connectionString: `${SERVICES.postgres}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
