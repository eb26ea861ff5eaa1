import { mulberry32 } from '../../../src/domain/random';
import { TtlCache } from '../../../src/storage/ttl-cache';
import type { Linked } from '../../../src/storage/write-order';
import { orderOf, walk } from '../support/write-order';

/** A cache over a loader that records what it was asked and can be made to fail. */
function cacheOver(ttlMs: number, maxEntries = 10) {
  const asked: string[][] = [];
  const errors: unknown[] = [];
  let version = 1;
  let failing = false;
  const cache = new TtlCache<string, string | null>({
    ttlMs,
    maxEntries,
    load: async (keys) => {
      asked.push(keys);
      if (failing) throw new Error('down');
      return keys.map((k) => (k === 'none' ? null : `${k}${version}`));
    },
    onRefreshError: (e) => errors.push(e),
  });
  return {
    cache,
    asked,
    errors,
    bump: () => (version += 1),
    fail: (on: boolean) => (failing = on),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Walks the private write-order list both ways: the map's entries, each once. */
function expectWhole(cache: TtlCache<string, string | null>): void {
  type Slot = Linked<Slot> & { key: string };
  const slots = walk(orderOf<Slot>(cache));
  const entries = (cache as unknown as { entries: Map<string, Slot> }).entries;
  expect(slots.length).toBe(entries.size);
  expect(slots.length).toBeLessThanOrEqual(40);
  for (const slot of slots) expect(entries.get(slot.key)).toBe(slot);
}

afterEach(() => jest.useRealTimers());

test('serves an entry while it is fresh', () => {
  const { cache } = cacheOver(1000);
  cache.set('a', 'x', 5000);
  expect(cache.get('a', 5999)).toBe('x');
  expect(cache.get('a', 6000)).toBeUndefined();
});

test('keeps at most maxEntries, dropping the oldest written first', () => {
  const { cache } = cacheOver(1000, 2);
  cache.set('a', '1', 0);
  cache.set('b', '2', 0);
  cache.set('a', '3', 0); // rewritten: now the newest
  cache.set('c', '4', 0);
  expect(cache.size).toBe(2);
  expect(cache.get('b', 0)).toBeUndefined();
  expect(cache.get('a', 0)).toBe('3');
});

test('sets, deletes and sweeps keep the write order whole and within maxEntries', () => {
  const { cache } = cacheOver(50, 40);
  const random = mulberry32(11);
  let now = 0;
  for (let i = 0; i < 20_000; i += 1) {
    now += random() < 0.3 ? 1 : 0;
    const key = `k${Math.floor(random() * 120)}`;
    const roll = random();
    if (roll < 0.7) cache.set(key, String(i), now);
    else if (roll < 0.95) cache.delete(key);
    else if (roll < 0.99) void cache.through([key]);
    else cache.clear();
    if (i % 250 === 0) expectWhole(cache);
  }
  expectWhole(cache);
});

test('a ttl of 0 keeps nothing and loads every key every time', async () => {
  const { cache, asked } = cacheOver(0);
  expect(await cache.through(['a', 'b'])).toEqual(['a1', 'b1']);
  expect(await cache.through(['a'])).toEqual(['a1']);
  expect(asked).toEqual([['a', 'b'], ['a']]);
  expect(cache.size).toBe(0);
});

test('through() loads only the missing keys, once, and answers in order', async () => {
  const { cache, asked } = cacheOver(60_000);
  expect(await cache.through(['a', 'none'])).toEqual(['a1', null]);
  expect(await cache.through(['b', 'a', 'none', 'c'])).toEqual(['b1', 'a1', null, 'c1']);
  expect(asked).toEqual([
    ['a', 'none'],
    ['b', 'c'],
  ]);
});

test('a stale entry is served at once and refreshed in the background, in one load', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'], now: 0 });
  const { cache, asked, bump } = cacheOver(1000);
  await cache.through(['a', 'b']);
  bump();
  jest.setSystemTime(1500); // stale, within the second ttl
  expect(await cache.through(['a'])).toEqual(['a1']);
  expect(await cache.through(['b'])).toEqual(['b1']);
  await turn();
  await turn();
  expect(asked).toEqual([
    ['a', 'b'],
    ['a', 'b'],
  ]);
  expect(await cache.through(['a', 'b'])).toEqual(['a2', 'b2']);
  expect(asked).toHaveLength(2);
});

test('past twice the ttl an entry is gone and the request waits for the load', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'], now: 0 });
  const { cache, asked, bump } = cacheOver(1000);
  await cache.through(['a']);
  bump();
  jest.setSystemTime(2000);
  expect(await cache.through(['a'])).toEqual(['a2']);
  expect(asked).toEqual([['a'], ['a']]);
});

test('entries past twice the ttl are dropped as calls pass, not kept to maxEntries', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'], now: 0 });
  const { cache } = cacheOver(1000, 100);
  await cache.through(['a', 'b']);
  jest.setSystemTime(1500);
  await cache.through(['c']);
  expect(cache.size).toBe(3);
  // a and b can no longer be served; c is fresh until 2500, stale until 3500.
  jest.setSystemTime(2000);
  await cache.through(['c']);
  expect(cache.size).toBe(1);
  expect(cache.get('c', 2000)).toBe('c1');
});

test('a failed background refresh is reported and the entry then expires', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'], now: 0 });
  const { cache, errors, fail } = cacheOver(1000);
  await cache.through(['a']);
  fail(true);
  jest.setSystemTime(1500);
  expect(await cache.through(['a'])).toEqual(['a1']);
  await turn();
  await turn();
  expect(errors).toHaveLength(1);
  jest.setSystemTime(2000);
  await expect(cache.through(['a'])).rejects.toThrow('down');
});

test('a failed load caches nothing', async () => {
  const { cache, fail } = cacheOver(60_000);
  fail(true);
  await expect(cache.through(['a'])).rejects.toThrow('down');
  expect(cache.size).toBe(0);
});

test('a load that started before delete() or clear() does not put old values back', async () => {
  const { cache, bump } = cacheOver(60_000);
  const pending = cache.through(['a']);
  cache.delete('a'); // the item changed while it was being read
  expect(await pending).toEqual(['a1']);
  expect(cache.size).toBe(0);
  bump();
  expect(await cache.through(['a'])).toEqual(['a2']);
  const again = cache.through(['b']);
  cache.clear();
  await again;
  expect(cache.size).toBe(0);
});

test('concurrent misses of the same keys share one load', async () => {
  const { cache, asked } = cacheOver(1000);
  const answers = await Promise.all([
    cache.through(['a', 'b']),
    cache.through(['b', 'a', 'b']),
    cache.through(['c', 'a']),
  ]);
  expect(answers).toEqual([
    ['a1', 'b1'],
    ['b1', 'a1', 'b1'],
    ['c1', 'a1'],
  ]);
  // The first call reads a and b; the third reads only c and joins a.
  expect(asked).toEqual([['a', 'b'], ['c']]);
});

test('a shared load that fails fails every request that joined it, and is not kept', async () => {
  const { cache, asked, fail } = cacheOver(1000);
  fail(true);
  const both = await Promise.allSettled([cache.through(['a']), cache.through(['a'])]);
  expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(asked).toEqual([['a']]);
  fail(false);
  await expect(cache.through(['a'])).resolves.toEqual(['a1']);
  expect(asked).toEqual([['a'], ['a']]);
});

test('after delete() a request does not join a read that started before it', async () => {
  const { cache, asked, bump } = cacheOver(1000);
  const early = cache.through(['a']);
  cache.delete('a');
  bump();
  const late = cache.through(['a']);
  await expect(early).resolves.toEqual(['a1']);
  await expect(late).resolves.toEqual(['a2']);
  expect(asked).toEqual([['a'], ['a']]);
});

test('a refresh reading what is held keeps the held object; a change replaces it', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'], now: 0 });
  let scores = [1, 2];
  const cache = new TtlCache<string, number[]>({
    ttlMs: 1000,
    maxEntries: 10,
    load: async (keys) => keys.map(() => [...scores]),
    same: (held, read) => held.length === read.length && held.every((v, i) => v === read[i]),
  });
  const [first] = await cache.through(['k']);
  jest.setSystemTime(1500);
  expect((await cache.through(['k']))[0]).toBe(first);
  await turn();
  await turn();
  // Refreshed with equal content: the same object, and fresh until 2500.
  jest.setSystemTime(2400);
  expect(cache.get('k')).toBe(first);
  scores = [1, 3];
  jest.setSystemTime(2600);
  expect((await cache.through(['k']))[0]).toBe(first);
  await turn();
  await turn();
  const [changed] = await cache.through(['k']);
  expect(changed).toEqual([1, 3]);
  expect(changed).not.toBe(first);
});
