/**
 * Running recflow beside another deployment on the same services: fresh
 * names for the database, stream, subjects, consumer and key prefix, and
 * removal of everything created under them. Replay evaluation and the
 * tests use this; nothing else shares it.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import type { Config } from '../config/config';
import { connectNats, deleteStreams } from '../messaging/connection';

/** Fresh names for one isolated run, all carrying `label` and one new id. */
export interface IsolatedNames {
  id: string;
  database: string;
  /** Redis key prefix, without the trailing colon. */
  prefix: string;
  stream: string;
  subjectPrefix: string;
  consumer: string;
}

export function isolatedNames(label: string): IsolatedNames {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const token = `rf-${label}-${id}`;
  return {
    id,
    database: `recflow_${label}_${id}`,
    prefix: token,
    stream: `RF_${label.toUpperCase()}_${id}`,
    subjectPrefix: token,
    consumer: token,
  };
}

/** The RECFLOW_* variables that select `names` (the database on `serverUrl`). */
export function isolatedVariables(names: IsolatedNames, serverUrl: string): Record<string, string> {
  return {
    RECFLOW_DATABASE_URL: `${serverUrl.replace(/\/$/, '')}/${names.database}`,
    RECFLOW_REDIS_PREFIX: names.prefix,
    RECFLOW_STREAM: names.stream,
    RECFLOW_SUBJECT_PREFIX: names.subjectPrefix,
    RECFLOW_CONSUMER: names.consumer,
  };
}

/** `base` with every name replaced by one that includes `label` and a fresh id. */
export function isolatedConfig(base: Config, label: string): Config {
  const names = isolatedNames(label);
  const url = new URL(base.postgres.url);
  url.pathname = `/${names.database}`;
  return {
    ...base,
    http: { ...base.http, port: 0, rateLimitPerSecond: 0 },
    postgres: { ...base.postgres, url: url.toString() },
    redis: { ...base.redis, prefix: `${names.prefix}:` },
    nats: {
      ...base.nats,
      stream: names.stream,
      subjectPrefix: names.subjectPrefix,
      consumer: names.consumer,
    },
    training: { ...base.training, intervalMs: 0, modelPollMs: 0 },
  };
}

/** Deletes the streams, the keys under the prefix and the database of `config`. */
export async function removeIsolated(config: Config): Promise<void> {
  const nc = await connectNats(config.nats.url, 'recflow-cleanup');
  await deleteStreams(nc, config.nats);
  await nc.close();

  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${config.redis.prefix}*`,
        'COUNT',
        1000,
      );
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }

  const url = new URL(config.postgres.url);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
