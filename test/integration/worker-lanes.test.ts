/**
 * A worker's lanes on the real stream, PostgreSQL and Redis: a backlog is
 * applied by several transactions at once, each holding the users of one
 * lane only, and the features come out as one batch of the same events
 * gives them.
 */
import type { EventInput } from '../../src/domain/events';
import { IngestService } from '../../src/ingestion/ingest-service';
import { EventPublisher } from '../../src/ingestion/publisher';
import { connectNats, ensureStreams, type NatsConnection } from '../../src/messaging/connection';
import { laneOfUser } from '../../src/pipeline/lanes';
import type { Worker } from '../../src/pipeline/worker';
import { CatalogRepository } from '../../src/storage/postgres/catalog-repository';
import { createDb, type Db } from '../../src/storage/postgres/client';
import {
  type AppliedBatch,
  FeatureRepository,
  type StoredEvent,
} from '../../src/storage/postgres/feature-repository';
import { createRedis, type RedisClient } from '../../src/storage/redis/client';
import { HotStore } from '../../src/storage/redis/hot-store';
import { catalogue, differences, generateEvents, snapshot } from '../support/features';
import { cleanUp, eventually } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';
import { startWorker } from '../support/workers';

jest.setTimeout(60_000);

const LANES = 3;

/** The real repository, watched: how many batches run at once, and whose users each holds. */
class WatchedRepository extends FeatureRepository {
  inFlight = 0;
  mostInFlight = 0;
  eventsInFlight = 0;
  mostEventsInFlight = 0;
  readonly batchUsers: string[][] = [];

  override async applyBatch(batch: readonly StoredEvent[], window: number): Promise<AppliedBatch> {
    this.inFlight += 1;
    this.eventsInFlight += batch.length;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    this.mostEventsInFlight = Math.max(this.mostEventsInFlight, this.eventsInFlight);
    this.batchUsers.push([...new Set(batch.map((e) => e.userId))]);
    try {
      return await super.applyBatch(batch, window);
    } finally {
      this.inFlight -= 1;
      this.eventsInFlight -= batch.length;
    }
  }
}

let laned: IsolatedEnv;
let reference: IsolatedEnv;
let db: Db;
let referenceDb: Db;
let redis: RedisClient;
let nc: NatsConnection;
const workers: Worker[] = [];
let ingest: IngestService;

beforeAll(async () => {
  laned = await isolatedEnv({ RECFLOW_WORKER_BATCH: '25', RECFLOW_WORKER_LANES: String(LANES) });
  reference = await isolatedEnv();
  db = createDb(laned.config.postgres.url, 6);
  referenceDb = createDb(reference.config.postgres.url, 2);
  redis = createRedis(laned.config.redis.url, 2000);
  await redis.connect();
  nc = await connectNats(laned.config.nats.url, 'recflow-test-lanes');
  await ensureStreams(nc, laned.config.nats);
  for (const target of [db, referenceDb]) {
    await new CatalogRepository(target).upsertItems(catalogue(12));
  }
  ingest = new IngestService(
    new EventPublisher(nc, laned.config.nats.subjectPrefix),
    laned.config.events.limits,
    1000,
  );
});

afterAll(async () => {
  for (const worker of workers) await worker.drain();
  await nc?.drain();
  redis?.disconnect();
  await db?.$disconnect();
  await referenceDb?.$disconnect();
  await cleanUp(laned);
  await cleanUp(reference);
});

/** Publishes the events, 100 per call. */
async function publish(events: readonly StoredEvent[]): Promise<void> {
  const inputs: EventInput[] = events.map((e) => ({
    eventId: e.eventId,
    userId: e.userId,
    itemId: e.itemId,
    type: e.type,
    value: e.value,
    occurredAt: e.occurredAt,
  }));
  for (let i = 0; i < inputs.length; i += 100) await ingest.record(inputs.slice(i, i + 100));
}

async function startLanedWorker(repository: FeatureRepository): Promise<Worker> {
  const hot = new HotStore(redis, laned.config.redis.prefix);
  const worker = await startWorker({ nc, config: laned.config, repository, hot });
  workers.push(worker);
  return worker;
}

test('lanes apply a backlog at once, one user in one lane, as one batch would', async () => {
  expect(laned.config.pipeline.lanes).toBe(LANES);
  const events = generateEvents(41, 600, { users: 40, items: 12 });
  // A backlog first, so that every lane has batches waiting when the worker starts.
  await publish(events);

  const repository = new WatchedRepository(db);
  const worker = await startLanedWorker(repository);
  await eventually(async () => worker.health().processed === events.length, 30_000, 'the backlog');

  // Several transactions ran at once, together never more than a batch,
  // and none held two lanes' users.
  expect(repository.mostInFlight).toBeGreaterThan(1);
  expect(repository.mostInFlight).toBeLessThanOrEqual(LANES);
  expect(repository.mostEventsInFlight).toBeLessThanOrEqual(laned.config.pipeline.batchSize);
  const mixed = repository.batchUsers.filter(
    (users) => new Set(users.map((u) => laneOfUser(u, LANES))).size > 1,
  );
  expect(mixed).toEqual([]);

  await new FeatureRepository(referenceDb).applyBatch(
    events,
    laned.config.pipeline.covisitWindowMs,
  );
  expect(differences(await snapshot(db), await snapshot(referenceDb))).toEqual([]);
});

test('a drained worker hands every message back at once, not after the ack wait', async () => {
  // The first test's worker stops; the ack wait is JetStream's 30 s default here.
  await workers[0].drain();
  expect(laned.config.pipeline.ackWaitMs).toBe(30_000);
  const events = generateEvents(42, 3000, { users: 200, items: 12 }).map((e) => ({
    ...e,
    eventId: `handover-${e.eventId}`,
  }));
  await publish(events);
  const first = await startLanedWorker(new FeatureRepository(db));
  await eventually(async () => first.health().processed > 0, 10_000, 'the first batch');
  await first.drain();
  const handled = first.health().processed;
  expect(handled).toBeLessThan(events.length);

  // What the first worker had fetched and not finished reaches the next one
  // at once: within 10 s, well inside the 30 s ack wait.
  const next = await startLanedWorker(new FeatureRepository(db));
  await eventually(
    async () => next.health().processed === events.length - handled,
    10_000,
    'the rest of the events, from the next worker',
  );
});
