import { RateLimiter } from '../../../../src/api/http/rate-limit';

/** A limiter on a hand-driven clock. */
function limiter(perSecond: number, burst: number, maxClients?: number) {
  const clock = { ms: 1_000_000 };
  return { limit: new RateLimiter(perSecond, burst, () => clock.ms, maxClients), clock };
}

/** The answers of `times` takes in a row, at the same instant. */
function takes(limit: RateLimiter, client: string, times: number): number[] {
  return Array.from({ length: times }, () => limit.take(client));
}

describe('RateLimiter', () => {
  test('allows a full burst at once, then refuses the next request', () => {
    const { limit } = limiter(2, 5);
    expect(takes(limit, 'key-a', 5)).toEqual([0, 0, 0, 0, 0]);
    expect(limit.take('key-a')).toBeGreaterThan(0);
  });

  test('refills at the configured rate after the burst is spent', () => {
    const { limit, clock } = limiter(2, 5);
    takes(limit, 'key-a', 5);
    clock.ms += 499;
    expect(limit.take('key-a')).toBeGreaterThan(0);
    clock.ms += 1;
    expect(limit.take('key-a')).toBe(0);
    expect(limit.take('key-a')).toBeGreaterThan(0);
    clock.ms += 1000;
    expect(takes(limit, 'key-a', 3)).toEqual([0, 0, expect.any(Number)]);
  });

  test('never saves up more than the burst, however long a client was idle', () => {
    const { limit, clock } = limiter(10, 3);
    takes(limit, 'key-a', 3);
    clock.ms += 3_600_000;
    expect(takes(limit, 'key-a', 3)).toEqual([0, 0, 0]);
    expect(limit.take('key-a')).toBeGreaterThan(0);
  });

  test('says how long to wait until the next token, rounding up to whole ms', () => {
    const { limit, clock } = limiter(2, 1);
    expect(limit.take('key-a')).toBe(0);
    expect(limit.take('key-a')).toBe(500);
    clock.ms += 200;
    expect(limit.take('key-a')).toBe(300);

    const slow = limiter(3, 1).limit;
    slow.take('key-b');
    expect(slow.take('key-b')).toBe(334);
  });

  test('does not charge a refused request: waiting the hint is enough', () => {
    const { limit, clock } = limiter(4, 1);
    limit.take('key-a');
    let wait = 0;
    for (let i = 0; i < 10; i += 1) wait = limit.take('key-a');
    expect(wait).toBe(250);
    clock.ms += wait;
    expect(limit.take('key-a')).toBe(0);
  });

  test("keeps each client's bucket apart", () => {
    const { limit } = limiter(1, 2);
    expect(takes(limit, 'key-a', 3)).toEqual([0, 0, 1000]);
    expect(takes(limit, 'key-b', 2)).toEqual([0, 0]);
    expect(limit.take('key-a')).toBe(1000);
  });

  test('is disabled at a rate of 0 and then allows everything', () => {
    const { limit } = limiter(0, 1);
    expect(limit.enabled).toBe(false);
    expect(takes(limit, 'key-a', 1000).every((wait) => wait === 0)).toBe(true);
    expect(limiter(1, 1).limit.enabled).toBe(true);
  });

  test('forgets the least recently seen client beyond maxClients, who starts afresh', () => {
    const { limit } = limiter(1, 1, 2);
    limit.take('key-a');
    limit.take('key-b');
    expect(limit.take('key-a')).toBe(1000);
    expect(limit.take('key-b')).toBe(1000);

    // key-b was seen last, so a third client pushes out key-a only.
    limit.take('key-c');
    expect(limit.take('key-b')).toBe(1000);
    expect(limit.take('key-a')).toBe(0);
  });

  test('counts a refused request as being seen, for eviction', () => {
    const { limit } = limiter(1, 1, 2);
    limit.take('key-a');
    limit.take('key-b');
    expect(limit.take('key-a')).toBe(1000);
    limit.take('key-c');
    expect(limit.take('key-a')).toBe(1000);
    expect(limit.take('key-b')).toBe(0);
  });
});
