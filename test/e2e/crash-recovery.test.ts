/**
 * Exactly-once effects across worker crashes: a worker killed between
 * commit and ack, and a worker killed with SIGKILL in the middle of a load.
 * Workers run as real child processes (`recflow serve --role worker`).
 */
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { eventWeight } from '../../src/domain/weights';
import { EventPublisher } from '../../src/ingestion/publisher';
import { connectNats, ensureStreams, type NatsConnection } from '../../src/messaging/connection';
import { Subjects, userFromToken } from '../../src/messaging/subjects';
import { createDb } from '../../src/storage/postgres/client';
import { FeatureRepository, type StoredEvent } from '../../src/storage/postgres/feature-repository';
import { waitForPipeline } from '../../src/pipeline/wait';
import type { Interaction } from '../../src/domain/events';
import { cleanUp, eventually, exited, spawnCli } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(120_000);

/** A seeded mix of events over a few users and items, within co-visitation reach. */
function makeEvents(count: number, seed: string): Interaction[] {
  const types = ['VIEW', 'CLICK', 'LIKE', 'PURCHASE', 'SKIP', 'DISLIKE'] as const;
  const start = Date.UTC(2026, 10, 1);
  return Array.from({ length: count }, (_, n) => ({
    eventId: `${seed}-${n}`,
    userId: `u${(n * 7) % 23}`,
    itemId: `i${(n * 13) % 41}`,
    type: types[(n * 5) % types.length],
    value: null,
    occurredAt: start + ((n * 37) % 600) * 1000,
    context: null,
  }));
}

/** Every feature table as sorted text, floats rounded, for exact comparison. */
async function snapshot(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const queries = [
    'SELECT user_id, events, positives, negatives, first_at, last_at FROM user_features ORDER BY 1',
    `SELECT user_id, item_id, events, round(weight_sum::numeric, 6),
       round(log_pos::numeric, 6), round(log_neg::numeric, 6), last_type
     FROM user_items ORDER BY 1, 2`,
    `SELECT user_id, category, events, round(log_pos::numeric, 6)
     FROM user_categories ORDER BY 1, 2`,
    `SELECT item_id, events, positives, negatives, round(pop_all::numeric, 6),
       round(log_day::numeric, 6)
     FROM item_features ORDER BY 1`,
    'SELECT item_a, item_b, weight, events FROM item_pairs ORDER BY 1, 2',
    'SELECT count(*) FROM events',
  ];
  const parts: string[] = [];
  for (const q of queries) parts.push(JSON.stringify((await client.query(q)).rows));
  await client.end();
  return parts.join('\n');
}

/** The features the events must produce: applied once, in one batch, by the repository itself. */
async function reference(events: Interaction[]): Promise<{ snapshot: string; env: IsolatedEnv }> {
  const env = await isolatedEnv();
  const db = createDb(env.config.postgres.url, 2);
  const stored: StoredEvent[] = events.map((e) => ({
    ...e,
    weight: eventWeight(e),
    streamSeq: null,
  }));
  await new FeatureRepository(db).applyBatch(stored, env.config.pipeline.covisitWindowMs);
  await db.$disconnect();
  return { snapshot: await snapshot(env.config.postgres.url), env };
}

async function publishAll(
  nc: NatsConnection,
  prefix: string,
  events: Interaction[],
): Promise<void> {
  const publisher = new EventPublisher(nc, prefix);
  for (let i = 0; i < events.length; i += 250) await publisher.publish(events.slice(i, i + 250));
}

async function countEvents(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('SELECT count(*)::int AS n FROM events');
  await client.end();
  return rows[0].n;
}

/** Users with events in PostgreSQL. */
async function committedUsers(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('SELECT DISTINCT user_id FROM events ORDER BY 1');
  await client.end();
  return rows.map((r: { user_id: string }) => r.user_id);
}

describe('a worker that dies', () => {
  let env: IsolatedEnv;
  let refEnv: IsolatedEnv | undefined;
  let nc: NatsConnection;
  const children: ChildProcess[] = [];
  const worker = (extra: Record<string, string> = {}) => {
    const child = spawnCli(['serve', '--role', 'worker'], { ...env.env, ...extra });
    children.push(child);
    return child;
  };

  /**
   * Starts a worker that commits its first batch and dies before acking
   * it, publishes `events`, and waits for it to die, having committed some.
   */
  const commitThenDie = async (events: Interaction[]): Promise<void> => {
    const doomed = worker({ RECFLOW_FAILPOINT: 'crash-after-commit' });
    await eventually(
      async () => doomed.output().includes('worker consuming') || undefined,
      20_000,
      'doomed worker',
    );
    await publishAll(nc, env.config.nats.subjectPrefix, events);
    expect((await exited(doomed)).signal).toBe('SIGKILL');
    expect(await countEvents(env.config.postgres.url)).toBeGreaterThan(0);
  };

  beforeEach(async () => {
    env = await isolatedEnv({
      RECFLOW_ACK_WAIT: '2s',
      RECFLOW_WORKER_BATCH: '100',
      RECFLOW_LOG_LEVEL: 'info',
    });
    nc = await connectNats(env.config.nats.url, 'crash-test');
    await ensureStreams(nc, env.config.nats);
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    await nc.close();
    await cleanUp(env);
    if (refEnv) await refEnv.dropDatabase();
  });

  test('between commit and ack loses nothing and applies nothing twice', async () => {
    const events = makeEvents(400, 'commit-ack');
    const expected = await reference(events);
    refEnv = expected.env;

    await commitThenDie(events);

    // A healthy worker receives the unacked batch again and everything else.
    const healthy = worker();
    try {
      await waitForPipeline(nc, loadConfig(env.env), 60_000);
      expect(await snapshot(env.config.postgres.url)).toBe(expected.snapshot);
    } finally {
      healthy.kill('SIGTERM');
      await exited(healthy);
    }
  });

  test('what a worker committed before it died is announced when it comes again', async () => {
    // A user per event: only the redelivery can announce the users of the
    // batch that was committed and never announced.
    const events = makeEvents(60, 'announce').map((e, n) => ({ ...e, userId: `solo${n}` }));
    await commitThenDie(events);
    const committed = await committedUsers(env.config.postgres.url);

    const subject = new Subjects(env.config.nats.subjectPrefix).allUserFeatures;
    const announced = new Set<string>();
    const sub = nc.subscribe(subject, {
      callback: (_error, msg) => {
        announced.add(userFromToken(msg.subject.slice(subject.length - 1)));
      },
    });
    const healthy = worker();
    try {
      await waitForPipeline(nc, loadConfig(env.env), 60_000);
      await eventually(
        async () => committed.every((user) => announced.has(user)),
        10_000,
        'a notice for every user of the committed batch',
      );
    } finally {
      sub.unsubscribe();
      healthy.kill('SIGTERM');
      await exited(healthy);
    }
  });

  test('SIGKILL mid-load, then a restart: the features of one clean pass', async () => {
    const events = makeEvents(3000, 'sigkill');
    const expected = await reference(events);
    refEnv = expected.env;

    const first = worker();
    await eventually(
      async () => first.output().includes('worker consuming') || undefined,
      20_000,
      'worker start',
    );
    const publishing = publishAll(nc, env.config.nats.subjectPrefix, events);
    await eventually(
      async () => (await countEvents(env.config.postgres.url)) > 200 || undefined,
      30_000,
      'progress',
    );
    first.kill('SIGKILL');
    await exited(first);
    await publishing;
    const partial = await countEvents(env.config.postgres.url);
    expect(partial).toBeLessThan(events.length);

    const second = worker();
    try {
      await waitForPipeline(nc, loadConfig(env.env), 90_000);
      expect(await snapshot(env.config.postgres.url)).toBe(expected.snapshot);
    } finally {
      second.kill('SIGTERM');
      await exited(second);
    }
  });
});
