/**
 * The known-users filter end to end: a worker SIGKILLed between a batch's
 * commit and its hot-copy write must not leave the batch's new user looking
 * new while the filter is marked whole. The worker sets the batch's users'
 * bits before it commits. Real worker child processes; the gateway runs in
 * this process.
 */
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
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
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(90_000);

let env: IsolatedEnv;
let gw: TestRecflow;
const children: ChildProcess[] = [];
const worker = (extra: Record<string, string> = {}) => {
  const child = spawnCli(['serve', '--role', 'worker'], { ...env.env, ...extra });
  children.push(child);
  return child;
};

beforeAll(async () => {
  env = await isolatedEnv({ RECFLOW_ACK_WAIT: '2s', RECFLOW_LOG_LEVEL: 'info' });
  gw = await startRecflow({ role: 'gateway', isolated: env });
});

afterAll(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
  }
  await gw.stop();
  await cleanUp(env);
});

const RECORD = `mutation($input: EventInput!) { recordEvent(input: $input) { status } }`;
const ASK = `query($id: ID!) {
  user(id: $id) { features { events } }
  recommendations(userId: $id, limit: 5) { strategy }
}`;

test('a user whose worker died between commit and hot-copy write is still known', async () => {
  const doomed = worker({ RECFLOW_FAILPOINT: 'crash-after-commit' });
  // Its start supersedes the users mark and builds it (no users yet).
  await eventually(
    async () => /"part":"known users".*marked whole/.test(doomed.output()) || undefined,
    30_000,
    'the users mark built',
  );
  const redis = createRedis(env.config.redis.url, 2000);
  await redis.connect();
  try {
    const markKey = `${env.config.redis.prefix}mark:users`;
    expect(await redis.exists(markKey)).toBe(1);

    const sent = await gql(gw.url, RECORD, {
      input: { eventId: 'ev-1', userId: 'newcomer', itemId: 'item-1', type: 'PURCHASE' },
    });
    expect(sent.data?.recordEvent.status).toBe('ACCEPTED');
    expect((await exited(doomed)).signal).toBe('SIGKILL');
    const pg = new Client({ connectionString: env.config.postgres.url });
    await pg.connect();
    const { rows } = await pg.query('SELECT events FROM user_features WHERE user_id = $1', [
      'newcomer',
    ]);
    await pg.end();
    expect(rows).toEqual([{ events: 1 }]);

    // No worker runs, so nothing has written the user's hot record; the
    // mark stands, and the filter still sends the gateway to PostgreSQL.
    expect(await redis.exists(`${env.config.redis.prefix}u:newcomer`)).toBe(0);
    expect(await redis.exists(markKey)).toBe(1);
    const asked = await gql(gw.url, ASK, { id: 'newcomer' });
    expect(asked.data?.user?.features?.events).toBe(1);
  } finally {
    redis.disconnect();
  }
});
