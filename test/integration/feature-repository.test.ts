import { eventWeight } from '../../src/domain/weights';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository, type StoredEvent } from '../../src/storage/postgres/feature-repository';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

let env: IsolatedEnv;
let db: Db;
let repo: FeatureRepository;

beforeAll(async () => {
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 4);
  repo = new FeatureRepository(db);
});

afterAll(async () => {
  await db.$disconnect();
  await env.dropDatabase();
});

function event(id: string, userId: string, itemId: string, at: number, type: StoredEvent['type'] = 'VIEW', value: number | null = null): StoredEvent {
  const base = { eventId: id, userId, itemId, type, value, occurredAt: at, context: null, streamSeq: null };
  return { ...base, weight: eventWeight(base) };
}

test('applies a batch once and reads the features back', async () => {
  const t = Date.UTC(2024, 0, 1);
  const batch = [event('e1', 'u1', 'i1', t), event('e2', 'u1', 'i2', t + 1000, 'RATE', 5)];
  const first = await repo.applyBatch(batch, 300_000);
  expect(first.applied.sort()).toEqual(['e1', 'e2']);
  expect(first.users[0]).toMatchObject({ userId: 'u1', events: 2, positives: 2 });
  expect(first.pairs).toEqual([{ itemA: 'i1', itemB: 'i2', weight: 1 }]);
  const again = await repo.applyBatch(batch, 300_000);
  expect(again.applied).toEqual([]);
  expect(again.users[0].events).toBe(2);
});
