import { Recorder, percentile, summarize } from '../../../bench/percentiles';
import { seededRandom, shuffled } from '../support/random';

describe('percentile', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  test('is the nearest rank: the p-th of 1..100 is p', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });

  test('rounds the rank up, so a tail sample is never hidden', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000];
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile(ten, 91)).toBe(1000);
    expect(percentile(ten, 99)).toBe(1000);
  });

  test('the 0th percentile is the minimum, and one sample is every percentile', () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  test('is NaN without samples and refuses a percentage outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(hundred, 101)).toThrow(RangeError);
    expect(() => percentile(hundred, Number.NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  test('gives the same summary whatever the order of the samples', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 37) % 1001);
    const expected = summarize(values);
    for (const seed of [1, 2, 3]) {
      expect(summarize(shuffled(values, seededRandom(seed)))).toEqual(expected);
    }
  });

  test('sorts numerically, not as strings, and leaves the input alone', () => {
    const input = [10, 9, 100, 1];
    const s = summarize(input);
    expect(s).toEqual({ count: 4, min: 1, mean: 30, p50: 9, p95: 100, p99: 100, max: 100 });
    expect(input).toEqual([10, 9, 100, 1]);
  });

  test('reports NaN statistics for no samples', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p99).toBeNaN();
    expect(s.mean).toBeNaN();
  });
});

describe('Recorder', () => {
  test('keeps every sample past its initial capacity', () => {
    const recorder = new Recorder();
    for (let i = 1; i <= 5000; i += 1) recorder.record(i);
    expect(recorder.count).toBe(5000);
    expect(recorder.summary()).toMatchObject({ min: 1, p50: 2500, p99: 4950, max: 5000 });
  });
});
