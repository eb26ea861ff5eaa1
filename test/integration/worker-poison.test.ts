/**
 * An event that keeps failing in PostgreSQL: it is retried with backoff,
 * never holds back the events around it, and after RECFLOW_MAX_DELIVER tries
 * lands on the dead-letter stream with its reason. Nothing is lost, nothing
 * is retried forever. The failure is real: a trigger in the test database
 * raises a (multi-line) error for one item.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import pino from 'pino';
import { EventPublisher } from '../../src/ingestion/publisher';
import { IngestService } from '../../src/ingestion/ingest-service';
import {
  connectNats,
  ensureStreams,
  type NatsConnection,
  streamNames,
} from '../../src/messaging/connection';
import type { Worker } from '../../src/pipeline/worker';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import { cleanUp, eventId, eventually } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';
import { startWorker } from '../support/workers';

jest.setTimeout(60_000);

let env: IsolatedEnv;
let db: Db;
let redis: RedisClient;
let nc: NatsConnection;
let worker: Worker;
/** What the worker logged, one JSON line each. */
const logged: string[] = [];

beforeAll(async () => {
  env = await isolatedEnv({ RECFLOW_MAX_DELIVER: '3', RECFLOW_ACK_WAIT: '2s' });
  db = createDb(env.config.postgres.url, 4);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.item_id = 'poison' THEN
        RAISE EXCEPTION E'refusing the poison item\\nsecond line of the reason';
      END IF;
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(
    `CREATE TRIGGER refuse_poison BEFORE INSERT ON user_items
     FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
  );
  redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  nc = await connectNats(env.config.nats.url, 'recflow-test-poison');
  await ensureStreams(nc, env.config.nats);
  const hot = new HotStore(redis, env.config.redis.prefix);
  worker = await startWorker({
    nc,
    config: env.config,
    repository: new FeatureRepository(db),
    hot,
    log: pino({ level: 'debug' }, { write: (line: string) => logged.push(line) }),
  });
});

afterAll(async () => {
  await worker.drain();
  await nc.drain();
  redis.disconnect();
  await db.$disconnect();
  await cleanUp(env);
});

async function applied(): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<Array<{ item_id: string }>>(
    'SELECT item_id FROM events ORDER BY item_id',
  );
  return rows.map((r) => r.item_id);
}

test('a poison event is retried, dead-lettered with its reason; others apply', async () => {
  const ingest = new IngestService(
    new EventPublisher(nc, env.config.nats.subjectPrefix),
    env.config.events.limits,
    1000,
  );
  const inputs = ['before', 'poison', 'after'].map((itemId) => ({
    eventId: eventId('poison'),
    userId: `u-${itemId}`,
    itemId,
    type: 'VIEW',
  }));
  await ingest.record(inputs, 'inputs', 'req-poison-1');

  // The good events do not wait for the poison one.
  await eventually(async () => (await applied()).length === 2, 10_000, 'the good events');
  expect(await applied()).toEqual(['after', 'before']);

  const jsm = await jetstreamManager(nc);
  const names = streamNames(env.config.nats);
  await eventually(
    async () => (await jsm.streams.info(names.deadLetters)).state.messages === 1,
    30_000,
    'the dead letter',
  );
  const letter = await jsm.streams.getMessage(names.deadLetters, { seq: 1 });
  expect(JSON.parse(Buffer.from(letter?.data ?? []).toString()).itemId).toBe('poison');
  expect(letter?.header.get('Recflow-Reason')).toMatch(/refusing the poison item second line/);
  expect(Number(letter?.header.get('Recflow-Deliveries'))).toBe(3);
  // The request that recorded it, from the client's call to the dead letter.
  expect(letter?.header.get('Recflow-Request-Id')).toBe('req-poison-1');
  const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
  const poison = inputs[1].eventId;
  expect(lines).toContainEqual(
    expect.objectContaining({
      msg: 'event failed on its own; handed back for a later try',
      eventId: poison,
      requestId: 'req-poison-1',
    }),
  );
  expect(lines).toContainEqual(
    expect.objectContaining({
      msg: 'event dead-lettered',
      eventId: poison,
      requestId: 'req-poison-1',
    }),
  );

  // Terminated: it does not come back, and nothing else is pending.
  await new Promise((r) => setTimeout(r, 2500));
  const consumer = await jsm.consumers.info(names.events, env.config.nats.consumer);
  expect(consumer.num_ack_pending).toBe(0);
  expect(consumer.num_pending).toBe(0);
  expect(await applied()).toEqual(['after', 'before']);
  expect(worker.health()).toMatchObject({ state: 'running', deadLettered: 1 });

  // Per batch, the events applied count the good two once, though the
  // poison one came three times (what the bench counts).
  const batches = logged
    .map((l) => JSON.parse(l) as { msg: string; size: number; applied: number })
    .filter((line) => line.msg === 'batch handled');
  expect(batches.reduce((n, b) => n + b.applied, 0)).toBe(2);
  expect(batches.reduce((n, b) => n + b.size, 0)).toBe(5);
});
