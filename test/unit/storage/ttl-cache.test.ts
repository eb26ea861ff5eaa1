import { TtlCache } from '../../../src/storage/ttl-cache';

test('serves an entry until it expires', () => {
  const cache = new TtlCache<string, number>(1000, 10);
  cache.set('a', 1, 5000);
  expect(cache.get('a', 5999)).toBe(1);
  expect(cache.get('a', 6000)).toBeUndefined();
});

test('keeps at most maxEntries, dropping the oldest written first', () => {
  const cache = new TtlCache<string, number>(1000, 2);
  cache.set('a', 1, 0);
  cache.set('b', 2, 0);
  cache.set('a', 3, 0); // rewritten: now the newest
  cache.set('c', 4, 0);
  expect(cache.size).toBe(2);
  expect(cache.get('b', 0)).toBeUndefined();
  expect(cache.get('a', 0)).toBe(3);
  expect(cache.get('c', 0)).toBe(4);
});

test('a ttl of 0 keeps nothing and reads every key every time', async () => {
  const cache = new TtlCache<string, string>(0, 10);
  const asked: string[][] = [];
  const read = async (keys: string[]) => {
    asked.push(keys);
    return keys.map((k) => k.toUpperCase());
  };
  expect(await cache.through(['a', 'b'], read)).toEqual(['A', 'B']);
  expect(await cache.through(['a'], read)).toEqual(['A']);
  expect(asked).toEqual([['a', 'b'], ['a']]);
  expect(cache.size).toBe(0);
});

test('through() reads only the missing keys, once, and keeps them in order', async () => {
  const cache = new TtlCache<string, string | null>(60_000, 10);
  const asked: string[][] = [];
  const read = async (keys: string[]) => {
    asked.push(keys);
    return keys.map((k) => (k === 'none' ? null : `${k}!`));
  };
  expect(await cache.through(['a', 'none'], read)).toEqual(['a!', null]);
  expect(await cache.through(['b', 'a', 'none', 'c'], read)).toEqual(['b!', 'a!', null, 'c!']);
  expect(asked).toEqual([
    ['a', 'none'],
    ['b', 'c'],
  ]);
});

test('a failed read caches nothing', async () => {
  const cache = new TtlCache<string, number>(60_000, 10);
  await expect(
    cache.through(['a'], async () => {
      throw new Error('down');
    }),
  ).rejects.toThrow('down');
  expect(cache.size).toBe(0);
});

test('delete and clear forget entries', () => {
  const cache = new TtlCache<string, number>(60_000, 10);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.delete('a');
  expect(cache.get('a')).toBeUndefined();
  cache.clear();
  expect(cache.size).toBe(0);
});
