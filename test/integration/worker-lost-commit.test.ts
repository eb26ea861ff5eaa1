/**
 * A commit whose answer is lost: PostgreSQL committed the batch, the worker
 * saw a connection error and tried the batch again in place, and found
 * every event already applied. The batch's users must still be announced,
 * since nothing announced them when their features changed.
 */
import { EventPublisher } from '../../src/ingestion/publisher';
import { IngestService } from '../../src/ingestion/ingest-service';
import { connectNats, ensureStreams, type NatsConnection } from '../../src/messaging/connection';
import { Subjects, userFromToken } from '../../src/messaging/subjects';
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
import { catalogue } from '../support/features';
import { cleanUp, eventId, eventually } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';
import { startWorker } from '../support/workers';

jest.setTimeout(30_000);

/** Commits its first batch, then reports the connection lost, as if the answer never came. */
class LostAnswerRepository extends FeatureRepository {
  lost = 0;

  override async applyBatch(batch: readonly StoredEvent[], window: number): Promise<AppliedBatch> {
    const applied = await super.applyBatch(batch, window);
    if (this.lost === 0) {
      this.lost += 1;
      throw new Error('Connection terminated unexpectedly');
    }
    return applied;
  }
}

let env: IsolatedEnv;
let db: Db;
let redis: RedisClient;
let nc: NatsConnection;
let worker: Worker | undefined;

beforeAll(async () => {
  env = await isolatedEnv({ RECFLOW_WORKER_BATCH: '50' });
  db = createDb(env.config.postgres.url, 4);
  redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  nc = await connectNats(env.config.nats.url, 'recflow-test-lost-commit');
  await ensureStreams(nc, env.config.nats);
  await new CatalogRepository(db).upsertItems(catalogue(8));
});

afterAll(async () => {
  await worker?.drain();
  await nc?.drain();
  redis?.disconnect();
  await db?.$disconnect();
  await cleanUp(env);
});

test('a batch tried again after a lost commit answer announces its users', async () => {
  const subject = new Subjects(env.config.nats.subjectPrefix).allUserFeatures;
  const announced = new Set<string>();
  nc.subscribe(subject, {
    callback: (_error, msg) => {
      announced.add(userFromToken(msg.subject.slice(subject.length - 1)));
    },
  });
  await nc.flush();
  // Published before the worker starts, so that they come as one batch.
  const users = Array.from({ length: 10 }, (_, n) => `lost-${n}`);
  const ingest = new IngestService(
    new EventPublisher(nc, env.config.nats.subjectPrefix),
    env.config.events.limits,
    1000,
  );
  await ingest.record(
    users.map((userId, n) => ({
      eventId: eventId('lost'),
      userId,
      itemId: `i0${n % 8}`,
      type: 'CLICK',
    })),
  );

  const repository = new LostAnswerRepository(db);
  const hot = new HotStore(redis, env.config.redis.prefix);
  worker = await startWorker({ nc, config: env.config, repository, hot });

  await eventually(async () => worker!.health().processed === users.length, 15_000, 'the batch');
  expect(repository.lost).toBe(1);
  await eventually(
    async () => users.every((u) => announced.has(u)),
    5_000,
    'a notice for every user',
  );
});
