/**
 * Per-test-file isolation on the shared services: every call to
 * `isolatedEnv()` yields its own database, stream, subject prefix, consumer
 * and Redis key prefix, so parallel and repeated runs never collide.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { type Config, loadConfig } from '../../src/config/config';
import { ensureDatabase, migrate } from '../../src/storage/postgres/migrate';

export interface IsolatedEnv {
  id: string;
  env: Record<string, string>;
  config: Config;
  /** Drops the database. Streams and keys are removed by the app's own teardown helpers. */
  dropDatabase(): Promise<void>;
}

export async function isolatedEnv(overrides: Record<string, string> = {}): Promise<IsolatedEnv> {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `recflow_test_${id}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    RECFLOW_LOG_LEVEL: process.env.RECFLOW_TEST_LOG_LEVEL ?? 'silent',
    RECFLOW_DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
    RECFLOW_REDIS_PREFIX: `rft-${id}`,
    RECFLOW_STREAM: `RFT_${id}`,
    RECFLOW_SUBJECT_PREFIX: `rft-${id}`,
    RECFLOW_CONSUMER: `rft-${id}`,
    RECFLOW_PORT: '0',
    RECFLOW_RATE_LIMIT: '0',
    ...overrides,
  };
  const config = loadConfig(env);
  await ensureDatabase(config.postgres.url);
  await migrate(config.postgres.url);
  return {
    id,
    env,
    config,
    async dropDatabase() {
      const admin = new Client({
        connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres',
      });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
