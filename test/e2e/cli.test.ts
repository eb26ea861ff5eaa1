/**
 * The `recflow` command as a user runs it: configuration errors, the
 * seeded generator going through the real ingestion path, and the workers
 * asked to build the hot copy's parts again.
 */
import { createRedis } from '../../src/storage/redis/client';
import {
  cleanUp,
  eventually,
  exited,
  gql,
  spawnCli,
  startRecflow,
  type TestRecflow,
} from '../support/recflow';

jest.setTimeout(90_000);

describe('configuration errors', () => {
  test('a bad value stops the command with exit code 2 and names the variable', async () => {
    const child = spawnCli(['serve'], {
      RECFLOW_PORT: 'abc',
      RECFLOW_DATABASE_URL: 'mysql://admin:hunter2@127.0.0.1/x',
    });
    const end = await exited(child);
    expect(end.code).toBe(2);
    expect(child.output()).toMatch(/RECFLOW_PORT/);
    expect(child.output()).toMatch(/RECFLOW_DATABASE_URL/);
    expect(child.output()).not.toMatch(/hunter2/);
  });

  test('an unknown option prints the usage and exits 2', async () => {
    const child = spawnCli(['refill', '--user'], {});
    expect((await exited(child)).code).toBe(2);
    expect(child.output()).toMatch(/Unknown option '--user'/);
    expect(child.output()).toMatch(/usage:/);
  });

  test('--help after a command prints the usage and exits 0', async () => {
    const child = spawnCli(['refill', '--help'], {});
    expect((await exited(child)).code).toBe(0);
    expect(child.output()).toMatch(/recflow refill \[--users\] \[--wait\]/);
  });

  test('demo --data naming a folder without MovieLens exits 2 and loads nothing', async () => {
    // No RECFLOW_* settings: it must stop before it opens any connection.
    const child = spawnCli(['demo', '--data', '/nonexistent/ml-100k'], {});
    expect((await exited(child)).code).toBe(2);
    expect(child.output()).toMatch(/no MovieLens data at \/nonexistent\/ml-100k/);
    expect(child.output()).not.toMatch(/gateway listening|generated catalogue/);
  });

  test('an unknown command prints the usage and exits 2', async () => {
    const child = spawnCli(['fly'], {});
    expect((await exited(child)).code).toBe(2);
    expect(child.output()).toMatch(/usage:/);
  });
});

describe('recflow generate', () => {
  let rf: TestRecflow;

  beforeAll(async () => {
    // Workers check for parts to build every second, not every 30 s.
    rf = await startRecflow({ env: { RECFLOW_HOT_COPY_CHECK: '1s' } });
  });

  afterAll(async () => {
    await rf.stop();
    await cleanUp(rf.env);
  });

  const args = ['generate', '--users', '30', '--items', '20', '--events', '300', '--seed', '7'];

  test('loads a seeded catalogue and events, and a second run changes nothing', async () => {
    const first = spawnCli([...args, '--wait'], rf.env.env);
    const firstEnd = await exited(first);
    if (firstEnd.code !== 0) throw new Error(first.output());
    expect(first.output()).toMatch(/items: 20 created/);
    expect(first.output()).toMatch(/events: 300 accepted, 0 duplicate/);
    // The workers are asked to fill every neighbour and popularity set.
    expect(first.output()).toMatch(/asked the workers to fill the neighbour and popularity sets/);
    const popular = await gql(
      rf.url,
      '{ popularItems(limit: 5, window: ALL_TIME) { item { id } } }',
    );
    expect(popular.data.popularItems).toHaveLength(5);
    const before = await gql(rf.url, '{ user(id: "user-1") { features { events positives } } }');

    const second = spawnCli([...args, '--wait'], rf.env.env);
    expect((await exited(second)).code).toBe(0);
    expect(second.output()).toMatch(/items: 0 created, 20 updated/);
    expect(second.output()).toMatch(/events: 0 accepted, 300 duplicate/);
    const after = await gql(rf.url, '{ user(id: "user-1") { features { events positives } } }');
    expect(after.data).toEqual(before.data);
  });

  test('rejects a non-numeric size with exit code 2', async () => {
    const child = spawnCli(['generate', '--users', 'many'], rf.env.env);
    expect((await exited(child)).code).toBe(2);
    expect(child.output()).toMatch(/--users must be a whole number/);
  });

  test('refill --users --wait has the workers build every part again', async () => {
    const redis = createRedis(rf.config.redis.url, 2000);
    await redis.connect();
    try {
      const marks = ['users', 'neighbours', 'popular'].map(
        (part) => `${rf.config.redis.prefix}mark:${part}`,
      );
      // Each part is built; a short expiry tells this mark from a rebuilt one (a day).
      for (const mark of marks) {
        await eventually(async () => (await redis.exists(mark)) === 1, 20_000, `${mark}`);
        await redis.expire(mark, 600);
      }

      // A user the gateway remembered as absent before their features
      // reached PostgreSQL (by other means than the pipeline, say).
      await redis.set(`${rf.config.redis.prefix}u:user-1`, '0|null', 'EX', 60);
      const absent = await gql(rf.url, '{ user(id: "user-1") { features { events } } }');
      expect(absent.data.user.features).toBeNull();

      const child = spawnCli(['refill', '--users', '--wait'], rf.env.env);
      const end = await exited(child);
      if (end.code !== 0) throw new Error(child.output());

      expect(child.output()).toMatch(
        /asked the workers to build the known users, the neighbour sets, the popularity sets/,
      );
      // Within a few of the workers' one-second checks (RECFLOW_HOT_COPY_CHECK).
      const took = Number(/built in ([\d.]+) s/.exec(child.output())?.[1]);
      expect(took).toBeLessThan(15);
      for (const mark of marks) expect(await redis.ttl(mark)).toBeGreaterThan(80_000);
      expect(child.output()).toMatch(/forgot 1 remembered absences of users/);
      const found = await gql(rf.url, '{ user(id: "user-1") { features { events } } }');
      expect(found.data.user.features.events).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});
