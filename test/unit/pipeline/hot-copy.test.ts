import type { ItemFeatures, UserFeatures } from '../../../src/domain/features';
import { silentLogger } from '../../../src/observability/logger';
import { HotCopyWriter } from '../../../src/pipeline/hot-copy';
import type { HotStore } from '../../../src/storage/redis/hot-store';

type Written = Parameters<HotStore['writeBatch']>[0];

/** A HotStore whose writes wait until released, and fail when told to. */
function fakeStore() {
  const writes: Written[] = [];
  const pending: Array<{ fail: boolean; release: () => void }> = [];
  const store = {
    writeBatch(batch: Written) {
      writes.push({
        ...batch,
        seen: new Map([...batch.seen].map(([u, s]) => [u, new Set(s)])),
        covers: batch.covers && new Map(batch.covers),
      });
      return new Promise<void>((resolve, reject) => {
        const entry = {
          fail: false,
          release: () => (entry.fail ? reject(new Error('down')) : resolve()),
        };
        pending.push(entry);
      });
    },
  };
  const settle = async (fail: boolean) => {
    await new Promise((r) => setImmediate(r));
    const next = pending.shift() as (typeof pending)[number];
    next.fail = fail;
    next.release();
    await new Promise((r) => setImmediate(r));
  };
  return { store: store as unknown as HotStore, writes, settle };
}

function user(userId: string, version: number): UserFeatures {
  return { userId, version } as UserFeatures;
}

/** A batch's records; `users` also say which versions it folded. */
function batch(users: UserFeatures[], seen: Array<[string, string]>) {
  return {
    users,
    items: [],
    pairs: [],
    interactions: seen.map(([userId, itemId]) => ({ userId, itemId })),
    folded: users.map(({ userId, version }) => ({ userId, version })),
  };
}

test('a failed write stays pending; what came meanwhile joins it, newest first', async () => {
  const { store, writes, settle } = fakeStore();
  const writer = new HotCopyWriter(store, 50, silentLogger());

  const first = writer.write(batch([user('a', 1), user('b', 1)], [['a', 'x']]));
  await new Promise((r) => setImmediate(r));
  const second = writer.write(batch([user('a', 2)], [['a', 'y']]));
  // Both the records being written and those queued count as pending.
  expect(writer.pending).toBeGreaterThanOrEqual(3);

  await settle(true);
  expect(await first).toBe(false);
  expect(writer.pending).toBe(3);

  // The second write sends what failed together with its own records.
  await settle(false);
  expect(await second).toBe(true);
  expect(writer.pending).toBe(0);
  expect(writes).toHaveLength(2);
  expect(writes[1].users.map((u) => [u.userId, u.version])).toEqual([
    ['a', 2],
    ['b', 1],
  ]);
  expect(writes[1].seen).toEqual(new Map([['a', new Set(['x', 'y'])]]));
});

test('a flush ends only once the flush in progress has, then writes what is left', async () => {
  const { store, writes, settle } = fakeStore();
  const writer = new HotCopyWriter(store, 50, silentLogger());

  const first = writer.write(batch([user('a', 1)], []));
  const drained = writer.flush();
  let done = false;
  void drained.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  expect(done).toBe(false);

  await settle(false);
  expect(await first).toBe(true);
  expect(await drained).toBe(true);
  // Nothing was left, so the second flush wrote nothing again.
  expect(writes).toHaveLength(1);
});

test("a failed write keeps the categories items left, merged with a newer version's", async () => {
  const { store, writes, settle } = fakeStore();
  const writer = new HotCopyWriter(store, 50, silentLogger());
  const item = (version: number, categories: string[]) =>
    ({ itemId: 'i', version, categories }) as unknown as ItemFeatures;
  const move = (version: number, categories: string[], left: string[]) => ({
    ...batch([], []),
    items: [item(version, categories)],
    left: new Map([['i', left]]),
  });

  const first = writer.write(move(2, ['y'], ['x']));
  await new Promise((r) => setImmediate(r));
  const second = writer.write(move(3, ['z'], ['y']));
  await settle(true);
  expect(await first).toBe(false);

  // The retry carries the newest record and every category left on the way:
  // Redis keeps the item only in sets the newest record names.
  await settle(false);
  expect(await second).toBe(true);
  expect(writes[1].items.map((i) => i.version)).toEqual([3]);
  expect(writes[1].left).toEqual(new Map([['i', new Set(['x', 'y'])]]));
});

test('covered versions survive a failed write, joined with later ones', async () => {
  const { store, writes, settle } = fakeStore();
  const writer = new HotCopyWriter(store, 50, silentLogger());

  const first = writer.write(batch([user('a', 1)], [['a', 'x']]));
  await new Promise((r) => setImmediate(r));
  const second = writer.write(
    batch(
      [user('a', 2), user('b', 4)],
      [
        ['a', 'y'],
        ['b', 'z'],
      ],
    ),
  );
  await settle(true);
  expect(await first).toBe(false);
  await settle(false);
  expect(await second).toBe(true);

  expect(writes[0].covers).toEqual(new Map([['a', [1, 1]]]));
  expect(writes[1].covers).toEqual(
    new Map([
      ['a', [1, 2]],
      ['b', [4, 4]],
    ]),
  );
  expect(writes[1].seen.get('a')).toEqual(new Set(['x', 'y']));
});

test('a version missing between two queued writes is never claimed', async () => {
  const { store, writes, settle } = fakeStore();
  const writer = new HotCopyWriter(store, 50, silentLogger());

  // Version 2 was written by another worker; this one holds 1 and 3.
  const first = writer.write(batch([user('a', 1)], [['a', 'x']]));
  await new Promise((r) => setImmediate(r));
  const second = writer.write(batch([user('a', 3)], [['a', 'z']]));
  await settle(true);
  expect(await first).toBe(false);
  await settle(false);
  expect(await second).toBe(true);

  expect(writes[1].covers).toEqual(new Map([['a', [3, 3]]]));
});

test('versions whose queued items were dropped for room are no longer covered', async () => {
  const { store, writes, settle } = fakeStore();
  const writer = new HotCopyWriter(store, 50, silentLogger());

  // The first user's items are queued first, so they are the first dropped
  // when a failed write leaves more than the cap (100,000) pending.
  const first = writer.write(batch([user('a', 1)], [['a', 'x']]));
  await new Promise((r) => setImmediate(r));
  const crowd = Array.from({ length: 100_000 }, (_, i): [string, string] => [`u${i}`, 'i']);
  const second = writer.write({ ...batch([], crowd), folded: [{ userId: 'u99999', version: 1 }] });
  await settle(true);
  expect(await first).toBe(false);
  await settle(false);
  expect(await second).toBe(true);

  expect(writes[1].seen.has('a')).toBe(false);
  expect(writes[1].covers).toEqual(new Map([['u99999', [1, 1]]]));
});
