/**
 * The pipeline worker on the real stream, PostgreSQL and Redis: events are
 * applied and announced, poison messages go to the dead-letter stream, and
 * drain() hands back what it did not start.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import pino from 'pino';
import type { EventInput } from '../../src/domain/events';
import { EventPublisher } from '../../src/ingestion/publisher';
import { IngestService } from '../../src/ingestion/ingest-service';
import {
  connectNats,
  ensureStreams,
  type NatsConnection,
  streamNames,
} from '../../src/messaging/connection';
import { Subjects } from '../../src/messaging/subjects';
import { type Logger, silentLogger } from '../../src/observability/logger';
import { Metrics } from '../../src/observability/metrics';
import type { Worker } from '../../src/pipeline/worker';
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository } from '../../src/storage/postgres/feature-repository';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import { parseUserValue } from '../../src/storage/redis/user-codec';
import type { UserFeatures } from '../../src/domain/features';
import { catalogue } from '../support/features';
import { cleanUp, eventId, eventually } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';
import { startWorker as startTestWorker } from '../support/workers';

jest.setTimeout(30_000);

let env: IsolatedEnv;
let db: Db;
let redis: RedisClient;
let nc: NatsConnection;
let hot: HotStore;
let repository: FeatureRepository;
let ingest: IngestService;
let subjects: Subjects;
const workers: Worker[] = [];

beforeAll(async () => {
  // A short ack wait makes a message that was not acked or terminated come back quickly.
  env = await isolatedEnv({ RECFLOW_ACK_WAIT: '1s', RECFLOW_WORKER_BATCH: '4' });
  db = createDb(env.config.postgres.url, 4);
  redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  nc = await connectNats(env.config.nats.url, 'recflow-test-worker');
  await ensureStreams(nc, env.config.nats);
  hot = new HotStore(redis, env.config.redis.prefix);
  repository = new FeatureRepository(db);
  subjects = new Subjects(env.config.nats.subjectPrefix);
  const publisher = new EventPublisher(nc, env.config.nats.subjectPrefix);
  ingest = new IngestService(publisher, env.config.events.limits, 1000);
  await new CatalogRepository(db).upsertItems(catalogue(8));
});

afterAll(async () => {
  for (const worker of workers) await withTimeout(worker.drain(), 5000, 'drain').catch(() => 0);
  await nc?.drain();
  redis?.disconnect();
  await db?.$disconnect();
  await cleanUp(env);
});

async function startWorker(
  metrics = new Metrics({ defaultMetrics: false }),
  log: Logger = silentLogger(),
): Promise<Worker> {
  const worker = await startTestWorker({ nc, config: env.config, repository, hot, log, metrics });
  workers.push(worker);
  return worker;
}

function withTimeout<T>(promise: Promise<T> | undefined, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise as Promise<T>, timeout]).finally(() => clearTimeout(timer));
}

function input(userId: string, itemId: string, type = 'CLICK', at = Date.now()): EventInput {
  return { eventId: eventId('wk'), userId, itemId, type, occurredAt: at };
}

async function eventCount(userId?: string): Promise<number> {
  const rows = await db.$queryRawUnsafe<Array<{ n: number }>>(
    'SELECT count(*)::int AS n FROM events WHERE $1::text IS NULL OR user_id = $1',
    userId ?? null,
  );
  return rows[0].n;
}

function collect(sub: Subscription): unknown[] {
  const received: unknown[] = [];
  void (async () => {
    for await (const m of sub) received.push(m.json());
  })();
  return received;
}

describe('a running worker', () => {
  let worker: Worker;
  let metrics: Metrics;
  /** What the worker logged, one JSON line each, at debug level. */
  const logged: string[] = [];

  beforeAll(async () => {
    metrics = new Metrics({ defaultMetrics: false });
    worker = await startWorker(metrics, pino({ level: 'debug' }, { write: (l) => logged.push(l) }));
  });

  test('applies published events to PostgreSQL and Redis and announces the change', async () => {
    const user = 'w-user/1 é';
    const notices = collect(nc.subscribe(subjects.userFeatures(user)));
    await nc.flush();
    const at = Date.now() - 60_000;

    await ingest.record([
      input(user, 'i00', 'PURCHASE', at),
      input(user, 'i01', 'CLICK', at + 1000),
      input(user, 'i02', 'DISLIKE', at + 2000),
    ]);

    await eventually(async () => (await eventCount(user)) === 3, 10_000, 'events in PostgreSQL');
    const stored = await repository.loadUsers([user]);
    expect(stored.get(user)).toMatchObject({ events: 3, positives: 2, negatives: 1 });
    const value = await eventually(
      async () => parseUserValue(user, await redis.get(hot.userKey(user))) ?? undefined,
      5000,
      'the user in Redis',
    );
    const cached = value.record;
    const { seen, ...record } = stored.get(user) as UserFeatures;
    expect(cached).toEqual(record);
    // Seen items live beside the record, added to by the pipeline.
    expect(value.seen.sort()).toEqual(seen);
    expect(await redis.zscore(hot.neighboursKey('i00'), 'i01')).toBe('1');
    expect(Number(await redis.zscore(hot.popularityKey('ALL_TIME'), 'i00'))).toBeGreaterThan(0);
    await eventually(async () => notices.length > 0, 5000, 'a features-changed notice');
    expect(notices[notices.length - 1]).toEqual({ userId: user, version: cached.version });
    expect(worker.health()).toMatchObject({ state: 'running', processed: 3, deadLettered: 0 });
  });

  test('logs each batch it handled at debug level: its size, events applied, duration', () => {
    // The bench times worker processes by these lines and counts what they
    // applied (bench/scenarios/pipeline.ts). So far, the first test's 3 events.
    type Line = { msg: string; size: number; applied: number; ms: number };
    const batches = logged
      .map((line) => JSON.parse(line) as Line)
      .filter((entry) => entry.msg === 'batch handled');
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.reduce((n, b) => n + b.applied, 0)).toBe(3);
    for (const batch of batches) {
      expect(batch.applied).toBeLessThanOrEqual(batch.size);
      expect(batch.ms).toBeGreaterThanOrEqual(0);
    }
  });

  test("a new user's seen list is complete in Redis; one rebuilt after a loss is not", async () => {
    const user = 'w-user/new';
    const at = Date.now() - 60_000;
    await ingest.record([input(user, 'i00', 'VIEW', at), input(user, 'i01', 'CLICK', at + 1)]);
    // Complete (a read needs nothing from PostgreSQL), whether the two
    // events came in one batch or two.
    const first = await eventually(
      async () => {
        const found = (await hot.getUsers([user]))[0];
        return found?.seen.length === 2 ? found : undefined;
      },
      10_000,
      'the new user, complete, in Redis',
    );
    expect(first.seen.sort()).toEqual(['i00', 'i01']);

    // Redis loses the key; the next batch knows only its own items.
    await redis.del(hot.userKey(user));
    await ingest.record([input(user, 'i02', 'VIEW', at + 2)]);
    const rebuilt = await eventually(
      async () => parseUserValue(user, await redis.get(hot.userKey(user))) ?? undefined,
      10_000,
      'the user written again',
    );
    expect(rebuilt).toMatchObject({ seen: ['i02'], complete: false });
    expect((await hot.getUsers([user]))[0]).toBeUndefined();
  });

  test('a redelivered event is recognised and not applied again', async () => {
    const event = input('w-dup', 'i03');
    await ingest.record([event]);
    await eventually(async () => (await eventCount('w-dup')) === 1, 10_000, 'the first copy');
    // Past JetStream's duplicate window, only PostgreSQL can recognise it.
    const data = Buffer.from(JSON.stringify({ ...event, occurredAt: event.occurredAt }));
    await jetstream(nc).publish(subjects.events, data);

    await eventually(
      async () =>
        (await metrics.eventsProcessed.get()).values.some(
          (v) => v.labels.result === 'duplicate' && v.value === 1,
        ),
      10_000,
      'the duplicate to be counted',
    );
    expect((await repository.loadUsers(['w-dup'])).get('w-dup')?.events).toBe(1);
  });

  test('a malformed message is dead-lettered with a reason and terminated', async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const names = streamNames(env.config.nats);
    const good = input('w-good', 'i04');
    await js.publish(subjects.events, Buffer.from('{ not json'));
    await js.publish(
      subjects.events,
      Buffer.from(JSON.stringify({ ...good, eventId: eventId('bad'), type: 'TELEPORT' })),
    );
    await ingest.record([good]);

    await eventually(
      async () => (await jsm.streams.info(names.deadLetters)).state.messages === 2,
      10_000,
      'two dead letters',
    );
    const deadLetter = async (seq: number) => {
      const message = await jsm.streams.getMessage(names.deadLetters, { seq });
      if (!message) throw new Error(`no dead letter at ${seq}`);
      return message;
    };
    const first = await deadLetter(1);
    const second = await deadLetter(2);
    expect(Buffer.from(first.data).toString()).toBe('{ not json');
    expect(first.header.get('Recflow-Reason')).toMatch(/^invalid event: /);
    expect(second.header.get('Recflow-Reason')).toMatch(/event\.type must be one of/);
    expect(Number(second.header.get('Recflow-Stream-Seq'))).toBeGreaterThan(0);
    // The good event of the same batch went through.
    await eventually(async () => (await eventCount('w-good')) === 1, 10_000, 'the good event');

    // Two ack waits later nothing came back: both were terminated, not left to expire.
    await new Promise((r) => setTimeout(r, 2500));
    const consumer = await jsm.consumers.info(names.events, env.config.nats.consumer);
    expect(consumer.num_redelivered).toBe(0);
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.num_pending).toBe(0);
    expect(worker.health().deadLettered).toBe(2);
    expect((await jsm.streams.info(names.deadLetters)).state.messages).toBe(2);
  });

  test('drain() finishes in-flight work, stops consuming and hands back the rest', async () => {
    const total = 160;
    const user = 'w-drain';
    const at = Date.now() - 3_600_000;
    const events = Array.from({ length: total }, (_, n) =>
      input(user, `i0${n % 8}`, n % 5 === 0 ? 'SKIP' : 'VIEW', at + n),
    );
    await ingest.record(events);
    await eventually(async () => (await eventCount(user)) > 0, 10_000, 'the first batch');

    await withTimeout(worker.drain(), 10_000, 'drain()');

    expect(worker.health().state).toBe('stopped');
    const applied = await eventCount(user);
    expect(applied).toBeLessThan(total);
    // Nothing moves after drain() returned.
    await new Promise((r) => setTimeout(r, 300));
    expect(await eventCount(user)).toBe(applied);
    // Another worker on the same durable consumer picks up the rest, each event once.
    const next = await startWorker();
    await eventually(async () => (await eventCount(user)) === total, 20_000, 'every event');
    expect((await repository.loadUsers([user])).get(user)?.events).toBe(total);
    await withTimeout(next.drain(), 10_000, 'drain() of the second worker');
  });
});
