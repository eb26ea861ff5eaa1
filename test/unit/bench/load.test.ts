import { openLoop } from '../../../bench/load';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('openLoop groups', () => {
  test('summarises each group apart, beside the whole run', async () => {
    // Odd requests answer after 40 ms, even ones at once.
    const result = await openLoop({
      rate: 200,
      durationMs: 200,
      send: (i) => (i % 2 === 1 ? sleep(40) : Promise.resolve()),
      groupOf: (i) => (i % 2 === 1 ? 'slow' : 'fast'),
    });
    expect(result.sent).toBe(40);
    expect(result.groups?.slow.count).toBe(20);
    expect(result.groups?.fast.count).toBe(20);
    expect(result.latency.count).toBe(40);
    expect(result.groups?.slow.min).toBeGreaterThanOrEqual(39);
    expect(result.groups?.fast.p50).toBeLessThan(result.groups?.slow.p50 ?? 0);
  });

  test('counts only answered requests in their group', async () => {
    const result = await openLoop({
      rate: 100,
      durationMs: 100,
      send: (i) => (i < 3 ? Promise.reject(new Error('refused')) : Promise.resolve()),
      groupOf: (i) => (i < 5 ? 'first' : 'rest'),
    });
    expect(result.errors).toBe(3);
    expect(result.groups?.first.count).toBe(2);
    expect(result.groups?.rest.count).toBe(5);
  });

  test('has no groups unless asked', async () => {
    const result = await openLoop({ rate: 100, durationMs: 50, send: () => Promise.resolve() });
    expect(result.groups).toBeUndefined();
  });
});
