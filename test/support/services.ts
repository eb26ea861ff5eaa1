/**
 * Per-test-file isolation on the shared services: every call to
 * `isolatedEnv()` yields its own database, stream, subject prefix, consumer
 * and Redis key prefix, so parallel and repeated runs never collide.
 */
import { Client } from 'pg';
import { isolatedNames, isolatedVariables } from '../../src/app/isolation';
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
  const names = isolatedNames('test');
  const { id, database } = names;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    RECFLOW_LOG_LEVEL: process.env.RECFLOW_TEST_LOG_LEVEL ?? 'silent',
    ...isolatedVariables(names, 'postgresql://postgres@127.0.0.1:5432'),
    RECFLOW_PORT: '0',
    RECFLOW_RATE_LIMIT: '0',
    // Compile every operation that may be compiled on its first run, so the
    // tests exercise graphql-jit wherever production would after ten runs
    // (documents with string literals stay with graphql-js).
    RECFLOW_GRAPHQL_COMPILE_AFTER: '1',
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
