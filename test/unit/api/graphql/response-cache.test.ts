/**
 * ResponseCache: lifetimes, a user's changes, computations that began
 * before a change, the bound on entries, and that users are let go.
 */
import { ResponseCache } from '../../../../src/api/graphql/response-cache';
import { mulberry32 } from '../../../../src/domain/random';
import type { Linked } from '../../../../src/storage/write-order';
import { orderOf, walk } from '../../support/write-order';

function cacheAt(options: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000 };
  const cache = new ResponseCache<string>({
    ttlMs: options.ttlMs ?? 1000,
    maxEntries: options.maxEntries ?? 100,
    now: () => clock.now,
  });
  const store = (user: string, key: string, value: string) =>
    cache.finish(cache.begin(user), key, value);
  return { cache, clock, store };
}

/** How many entries the cache keeps reachable, walked through its private list. */
function entriesHeld(cache: ResponseCache<string>): number {
  return walk(orderOf<Entry>(cache)).length;
}

/** Walks the private list both ways: same entries, oldest to newest by expiry. */
function expectWhole(cache: ResponseCache<string>): void {
  const entries = walk(orderOf<Entry>(cache));
  expect(entries).toHaveLength(cache.size);
  for (let i = 1; i < entries.length; i += 1) {
    expect(entries[i].expiresAt).toBeGreaterThanOrEqual(entries[i - 1].expiresAt);
  }
}

type Entry = Linked<Entry> & { expiresAt: number };

/** How many users the cache holds, read through its private map. */
function usersHeld(cache: ResponseCache<string>): number {
  return (cache as unknown as { users: Map<string, unknown> }).users.size;
}

describe('ResponseCache', () => {
  it('serves an answer for its lifetime, then no more', () => {
    const { cache, clock, store } = cacheAt({ ttlMs: 1000 });
    store('u1', 'q', 'answer');
    expect(cache.get('u1', 'q')).toBe('answer');
    clock.now += 999;
    expect(cache.get('u1', 'q')).toBe('answer');
    clock.now += 1;
    expect(cache.get('u1', 'q')).toBeUndefined();
  });

  it('keeps answers apart by user and by key', () => {
    const { cache, store } = cacheAt();
    store('u1', 'q', 'u1 q');
    store('u1', 'r', 'u1 r');
    store('u2', 'q', 'u2 q');
    expect([cache.get('u1', 'q'), cache.get('u1', 'r'), cache.get('u2', 'q')]).toEqual([
      'u1 q',
      'u1 r',
      'u2 q',
    ]);
    expect(cache.get('u2', 'r')).toBeUndefined();
    expect(cache.size).toBe(3);
  });

  it("drops a user's answers when their features change, and only theirs", () => {
    const { cache, store } = cacheAt();
    store('u1', 'q', 'a');
    store('u1', 'r', 'b');
    store('u2', 'q', 'c');
    cache.forgetUser('u1');
    expect(cache.get('u1', 'q')).toBeUndefined();
    expect(cache.get('u1', 'r')).toBeUndefined();
    expect(cache.get('u2', 'q')).toBe('c');
    expect(cache.size).toBe(1);
  });

  it('does not keep what a computation read before a change of its user', () => {
    const { cache } = cacheAt();
    const before = cache.begin('u1');
    cache.forgetUser('u1');
    cache.finish(before, 'q', 'stale');
    expect(cache.get('u1', 'q')).toBeUndefined();
    // One begun after the change is kept.
    const after = cache.begin('u1');
    cache.finish(after, 'q', 'fresh');
    expect(cache.get('u1', 'q')).toBe('fresh');
  });

  it('does not keep what a computation read before the cache was cleared', () => {
    const { cache, store } = cacheAt();
    const running = cache.begin('u1');
    store('u2', 'q', 'kept before the clear');
    cache.clear();
    cache.finish(running, 'q', 'stale');
    expect(cache.get('u1', 'q')).toBeUndefined();
    expect(cache.get('u2', 'q')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("a change of another user does not refuse a computation's answer", () => {
    const { cache, store } = cacheAt();
    const running = cache.begin('u1');
    store('u2', 'q', 'x');
    cache.forgetUser('u2');
    cache.forgetUser('nobody');
    cache.finish(running, 'q', 'kept');
    expect(cache.get('u1', 'q')).toBe('kept');
  });

  it('keeps the change when its user had nothing cached but a computation in flight', () => {
    const { cache } = cacheAt();
    const first = cache.begin('u1');
    const second = cache.begin('u1');
    cache.finish(first, 'q', undefined);
    // The user is still held by the second computation, so the change counts.
    cache.forgetUser('u1');
    cache.finish(second, 'q', 'stale');
    expect(cache.get('u1', 'q')).toBeUndefined();
  });

  it('holds at most maxEntries, pushing the oldest out', () => {
    const { cache, clock, store } = cacheAt({ maxEntries: 3 });
    for (const [i, user] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      clock.now += 1;
      store(user, 'q', `${user}${i}`);
    }
    expect(cache.size).toBe(3);
    expect(cache.get('a', 'q')).toBeUndefined();
    expect(cache.get('b', 'q')).toBeUndefined();
    expect(['c', 'd', 'e'].map((u) => cache.get(u, 'q'))).toEqual(['c2', 'd3', 'e4']);
  });

  it('replacing an answer counts it once', () => {
    const { cache, store } = cacheAt({ maxEntries: 2 });
    store('u1', 'q', 'first');
    store('u1', 'q', 'second');
    store('u2', 'q', 'other');
    expect(cache.size).toBe(2);
    expect(cache.get('u1', 'q')).toBe('second');
    expect(cache.get('u2', 'q')).toBe('other');
  });

  it('lets users go once their answers expire and nothing runs for them', () => {
    const { cache, clock, store } = cacheAt({ ttlMs: 100 });
    for (let i = 0; i < 50; i += 1) store(`u${i}`, 'q', 'x');
    expect(usersHeld(cache)).toBe(50);
    clock.now += 100;
    // The next store sweeps what expired.
    store('late', 'q', 'y');
    expect(cache.size).toBe(1);
    expect(usersHeld(cache)).toBe(1);
    cache.forgetUser('late');
    expect(usersHeld(cache)).toBe(0);
  });

  it('keeps memory bounded under many stores, forgets and replacements', () => {
    const { cache, clock, store } = cacheAt({ ttlMs: 50, maxEntries: 500 });
    for (let i = 0; i < 20_000; i += 1) {
      clock.now += 1;
      store(`u${i % 700}`, `q${i % 3}`, String(i));
      if (i % 7 === 0) cache.forgetUser(`u${(i * 13) % 700}`);
    }
    expect(cache.size).toBeLessThanOrEqual(500);
    expect(entriesHeld(cache)).toBe(cache.size);
    expect(usersHeld(cache)).toBeLessThanOrEqual(500);
  });

  it('holds no replaced or forgotten answer behind an older live one', () => {
    // One long-lived answer first; then answers replaced and forgotten
    // behind it must not stay reachable until it expires.
    const { cache, store } = cacheAt({ ttlMs: 60_000, maxEntries: 10 });
    store('first', 'q', 'kept');
    for (let i = 0; i < 5_000; i += 1) store('busy', 'q', `replaced ${i}`);
    for (let i = 0; i < 5_000; i += 1) {
      store(`u${i}`, 'q', 'dropped');
      cache.forgetUser(`u${i}`);
    }
    expect(cache.size).toBe(2);
    expect(entriesHeld(cache)).toBe(2);
    expect(usersHeld(cache)).toBe(2);
    expect(cache.get('first', 'q')).toBe('kept');
    expect(cache.get('busy', 'q')).toBe('replaced 4999');
  });

  it('keeps its list whole and in expiry order under random work', () => {
    const { cache, clock, store } = cacheAt({ ttlMs: 40, maxEntries: 60 });
    const random = mulberry32(7);
    const running: Array<{ ticket: ReturnType<typeof cache.begin>; key: string }> = [];
    for (let i = 0; i < 20_000; i += 1) {
      clock.now += random() < 0.3 ? 1 : 0;
      const user = `u${Math.floor(random() * 80)}`;
      const key = `q${Math.floor(random() * 3)}`;
      const roll = random();
      if (roll < 0.5) store(user, key, String(i));
      else if (roll < 0.7) running.push({ ticket: cache.begin(user), key });
      else if (roll < 0.85 && running.length > 0) {
        const { ticket, key: k } = running.splice(Math.floor(random() * running.length), 1)[0];
        cache.finish(ticket, k, String(i));
      } else if (roll < 0.99) cache.forgetUser(user);
      else cache.clear();
      if (i % 500 === 0) expectWhole(cache);
    }
    expectWhole(cache);
  });

  it('keeps nothing with a lifetime of 0', () => {
    const { cache, store } = cacheAt({ ttlMs: 0 });
    expect(cache.enabled).toBe(false);
    store('u1', 'q', 'x');
    expect(cache.get('u1', 'q')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(usersHeld(cache)).toBe(0);
  });
});
