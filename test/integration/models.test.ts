/**
 * Model versions on the real PostgreSQL and NATS: training from the stored
 * interactions (in a worker thread), storing, the gateway's swap on a
 * notice, rollback, pruning, and scheduled training that only one worker
 * runs at a time.
 */
import { connectNats, type NatsConnection } from '../../src/messaging/connection';
import { silentLogger } from '../../src/observability/logger';
import { Metrics } from '../../src/observability/metrics';
import { ModelRegistry } from '../../src/recommend/model-registry';
import { DEFAULT_MODEL_PARAMS } from '../../src/learning/train';
import { decodeModel } from '../../src/learning/model';
import { DEFAULT_BLEND_WEIGHTS } from '../../src/domain/ranking';
import { createDb, type Db } from '../../src/storage/postgres/client';
import { FeatureRepository, type StoredEvent } from '../../src/storage/postgres/feature-repository';
import { ModelRepository } from '../../src/storage/postgres/model-repository';
import { TrainingScheduler } from '../../src/training/scheduler';
import { Trainer } from '../../src/training/trainer';
import { storedEvent, T0 } from '../support/features';
import { eventually } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';
import { seededRandom } from '../unit/support/random';

jest.setTimeout(60_000);

let env: IsolatedEnv;
let db: Db;
let nc: NatsConnection;
let models: ModelRepository;
let features: FeatureRepository;
let seq = 0;

/** Two taste groups of users on two groups of items, as RATE and PURCHASE events. */
function tasteEvents(prefix: string, users: number): StoredEvent[] {
  const random = seededRandom(users);
  const events: StoredEvent[] = [];
  for (let u = 0; u < users; u += 1) {
    const group = u % 2 === 0 ? 'a' : 'b';
    for (let i = 0; i < 10; i += 1) {
      if (random() < 0.6) {
        seq += 1;
        events.push({
          ...storedEvent(
            `${prefix}-${u}-${i}`,
            `${prefix}${u}`,
            `${group}${i}`,
            T0 + seq * 1000,
            'PURCHASE',
          ),
          streamSeq: seq,
        });
      }
    }
  }
  return events;
}

function trainer(keepVersions = 3): Trainer {
  return new Trainer({
    repository: models,
    nc,
    subjectPrefix: env.config.nats.subjectPrefix,
    params: DEFAULT_MODEL_PARAMS,
    blendWeights: DEFAULT_BLEND_WEIGHTS,
    holdoutUsers: 20,
    keepVersions,
    log: silentLogger(),
  });
}

beforeAll(async () => {
  env = await isolatedEnv();
  db = createDb(env.config.postgres.url, 4);
  nc = await connectNats(env.config.nats.url, 'models-test');
  models = new ModelRepository(db);
  features = new FeatureRepository(db);
});

afterAll(async () => {
  await nc?.close();
  await db?.$disconnect();
  await env?.dropDatabase();
});

test('training with nothing stored stores nothing', async () => {
  expect(await trainer().train()).toBeNull();
  expect(await models.list()).toEqual([]);
  expect(await models.serving()).toBeNull();
});

test('a version is stored with watermark, parameters and figures', async () => {
  await features.applyBatch(tasteEvents('u', 40), 300_000);
  const report = await trainer().train();
  if (!report) throw new Error('expected a model');
  const { model } = report;
  expect(model).toMatchObject({
    version: expect.any(Number),
    watermark: { streamSeq: seq },
    users: 40,
    items: 20,
    retiredAt: null,
  });
  expect(model.params).toEqual(JSON.parse(JSON.stringify(DEFAULT_MODEL_PARAMS)));
  const evaluation = model.evaluation as { users: number; sources: Record<string, unknown> };
  expect(evaluation.users).toBe(20);
  expect(Object.keys(evaluation.sources).sort()).toEqual(['blend', 'ease', 'itemKnn', 'model']);
  const data = await models.data(model.version);
  expect(decodeModel(data as Uint8Array).itemIds).toHaveLength(20);
  expect(await models.serving()).toMatchObject({ version: model.version });
});

test('a gateway swaps in each new version on the notice, and back on rollback', async () => {
  const registry = new ModelRegistry(
    models,
    nc,
    env.config.nats.subjectPrefix,
    0,
    silentLogger(),
    new Metrics({ defaultMetrics: false }),
  );
  await registry.start();
  try {
    const first = registry.version;
    expect(first).toBeGreaterThan(0);
    const held = registry.current();

    await features.applyBatch(tasteEvents('v', 10), 300_000);
    const report = await trainer().train();
    const second = report?.model.version as number;
    expect(second).toBeGreaterThan(first);
    await eventually(async () => registry.version === second, 10_000, 'the swap');
    // A request that took the old model keeps a whole, working model.
    expect(held?.itemCount).toBe(20);
    expect(registry.current()).not.toBe(held);

    const rolled = await models.rollback();
    expect(rolled).toMatchObject({ retired: { version: second }, serving: { version: first } });
    await trainer().announce(first);
    await eventually(async () => registry.version === first, 10_000, 'the swap back');
    expect((await models.list()).find((m) => m.version === second)?.retiredAt).toBeInstanceOf(Date);
  } finally {
    registry.close();
  }
});

test('rollback needs two serviceable versions', async () => {
  const serving = (await models.list()).filter((m) => m.retiredAt === null);
  expect(serving).toHaveLength(1);
  expect(await models.rollback()).toBeNull();
});

test('pruning keeps the newest serviceable versions and drops retired ones', async () => {
  for (let n = 0; n < 3; n += 1) await trainer(2).train();
  const left = await models.list();
  expect(left).toHaveLength(2);
  expect(left.every((m) => m.retiredAt === null)).toBe(true);
});

test('scheduled training: only after new events, one worker at a time', async () => {
  const scheduler = (t: Trainer) =>
    new TrainingScheduler(t, models, env.config.postgres.url, 0, silentLogger());
  const before = (await models.list())[0].version;
  await scheduler(trainer()).runOnce();
  expect((await models.list())[0].version).toBe(before);

  await features.applyBatch(tasteEvents('w', 6), 300_000);
  await Promise.all([scheduler(trainer()).runOnce(), scheduler(trainer()).runOnce()]);
  const versions = (await models.list()).map((m) => m.version);
  expect(versions.filter((v) => v > before)).toHaveLength(1);
});

test('a gateway skips a stored version it cannot serve and serves the one before', async () => {
  const good = (await models.serving())?.version as number;
  const info = await models.serving();
  const corrupt = await models.save({
    watermark: { streamSeq: (info?.watermark.streamSeq ?? 0) + 1, processedAt: new Date() },
    interactions: 1,
    users: 1,
    items: 1,
    params: {},
    evaluation: {},
    timings: {},
    data: Buffer.from('RFM1 but not a model at all'),
  });
  expect((await models.serving())?.version).toBe(corrupt.version);
  const registry = new ModelRegistry(models, nc, env.config.nats.subjectPrefix, 0, silentLogger());
  await registry.start();
  try {
    expect(registry.version).toBe(good);
    expect(registry.current()).not.toBeNull();
  } finally {
    registry.close();
    await db.$executeRawUnsafe('DELETE FROM models WHERE version = $1', corrupt.version);
  }
});

test('a training that read older data never displaces one that read newer data', async () => {
  const serving = await models.serving();
  const older = await models.save({
    watermark: { streamSeq: 1, processedAt: new Date(0) },
    interactions: 1,
    users: 1,
    items: 1,
    params: {},
    evaluation: {},
    timings: {},
    data: Buffer.from('x'),
  });
  expect(older.version).toBeGreaterThan(serving?.version ?? 0);
  expect((await models.serving())?.version).toBe(serving?.version);
  await db.$executeRawUnsafe('DELETE FROM models WHERE version = $1', older.version);
});
