/**
 * MovieLens 100K through the real ingestion path: import with the CLI,
 * recommend for several users, then replay the import past JetStream's
 * duplicate window and check that no feature changed.
 *
 * Needs ../shared/datasets/ml-100k (or RECFLOW_MOVIELENS_DIR); skips with a
 * message when it is absent. The data is read in place, never copied.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import {
  ROOT,
  cleanUp,
  exited,
  gql,
  spawnCli,
  startRecflow,
  type TestRecflow,
} from '../support/recflow';

const DATA =
  process.env.RECFLOW_MOVIELENS_DIR ?? path.resolve(ROOT, '..', 'shared', 'datasets', 'ml-100k');
const present = existsSync(path.join(DATA, 'u.data'));
if (!present) {
  process.stdout.write(
    `skipping MovieLens tests: no MovieLens 100K at ${DATA} (set RECFLOW_MOVIELENS_DIR)\n`,
  );
}
const describeData = present ? describe : describe.skip;

jest.setTimeout(15 * 60_000);

async function tableDigest(url: string): Promise<Record<string, string>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const digest: Record<string, string> = {};
  for (const table of [
    'events',
    'user_features',
    'user_items',
    'user_categories',
    'item_features',
    'item_pairs',
  ]) {
    const columns =
      table === 'events' ? 'event_id, user_id, item_id, type, value, weight, occurred_at' : '*';
    const { rows } = await client.query(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS h
       FROM (SELECT ${columns} FROM ${table}) t`,
    );
    digest[table] = `${rows[0].n}:${rows[0].h}`;
  }
  await client.end();
  return digest;
}

async function runImport(rf: TestRecflow): Promise<string> {
  const child = spawnCli(['import', 'movielens', DATA, '--wait'], rf.env.env);
  const end = await exited(child);
  if (end.code !== 0) throw new Error(`import failed (${end.code}):\n${child.output()}`);
  return child.output();
}

describeData('MovieLens 100K', () => {
  let rf: TestRecflow;
  let firstDigest: Record<string, string>;
  const rated = new Map<string, Set<string>>();

  beforeAll(async () => {
    // A short duplicate window makes the replay reach the pipeline, so that
    // idempotency is checked where it matters: in PostgreSQL, not in JetStream.
    rf = await startRecflow({
      env: { RECFLOW_DUPLICATE_WINDOW: '1s', RECFLOW_WORKER_BATCH: '1000' },
    });
    for (const line of readFileSync(path.join(DATA, 'u.data'), 'utf8').split('\n')) {
      const [user, item] = line.split('\t');
      if (!item) continue;
      if (!rated.has(user)) rated.set(user, new Set());
      rated.get(user)?.add(item);
    }
    const output = await runImport(rf);
    expect(output).toMatch(/events: 100000 accepted, 0 duplicate/);
    expect(output).toMatch(/items: 1682 created/);
    firstDigest = await tableDigest(rf.config.postgres.url);
  });

  afterAll(async () => {
    await rf.stop();
    await cleanUp(rf.env);
  });

  test('every rating becomes exactly one applied event', () => {
    expect(firstDigest.events.startsWith('100000:')).toBe(true);
    expect(firstDigest.user_features.startsWith('943:')).toBe(true);
    expect(firstDigest.user_items.startsWith('100000:')).toBe(true);
  });

  test.each(['1', '42', '186', '500', '943'])(
    'user %s gets ten unseen movies with reasons',
    async (userId) => {
      const r = await gql(
        rf.url,
        `query($u: ID!) { recommendations(userId: $u, limit: 10) {
      strategy items { score reasons item { id title categories } } } }`,
        { u: userId },
      );
      expect(r.errors).toBeUndefined();
      const list = r.data.recommendations;
      expect(list.strategy).toBe('PERSONALIZED');
      expect(list.items).toHaveLength(10);
      for (const rec of list.items) {
        expect(rated.get(userId)?.has(rec.item.id)).toBe(false);
        expect(rec.item.title).toMatch(/\(\d{4}\)$/);
        expect(rec.reasons.length).toBeGreaterThan(0);
      }
    },
  );

  test('an event recorded today on a 1998 movie is applied, not lost', async () => {
    // Decayed sums 28 years apart once underflowed in PostgreSQL's exp().
    const r = await gql(rf.url, 'mutation($i: EventInput!) { recordEvent(input: $i) { status } }', {
      i: { eventId: 'fresh-today-1', userId: '1', itemId: '50', type: 'LIKE' },
    });
    expect(r.data.recordEvent.status).toBe('ACCEPTED');
    const client = new Client({ connectionString: rf.config.postgres.url });
    await client.connect();
    try {
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await client.query(
          "SELECT 1 FROM events WHERE event_id = 'fresh-today-1'",
        );
        if (rows.length === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const { rows } = await client.query("SELECT 1 FROM events WHERE event_id = 'fresh-today-1'");
      expect(rows).toHaveLength(1);
    } finally {
      await client.end();
    }
    // The replay below must change nothing from here on.
    firstDigest = await tableDigest(rf.config.postgres.url);
  });

  test('replaying the import after the duplicate window changes no feature', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const output = await runImport(rf);
    // JetStream no longer recognises the ids, so the pipeline must.
    expect(output).toMatch(/events: 100000 accepted/);
    expect(output).toMatch(/items: 0 created, 1682 updated/);
    expect(await tableDigest(rf.config.postgres.url)).toEqual(firstDigest);
  });
});
