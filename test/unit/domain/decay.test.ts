import {
  decayedValue,
  FEATURE_EPOCH_MS,
  HALF_LIFE_MS,
  logAddExp,
  logContribution,
  netDecayedValue,
} from '../../../src/domain/decay';
import { seededRandom, shuffles } from '../support/random';

const DAY = 86_400_000;
const YEAR = 365.25 * DAY;

/** |actual − expected| within `relative` of |expected|. */
function expectRelativelyClose(actual: number, expected: number, relative: number): void {
  expect(Number.isFinite(actual)).toBe(true);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
}

function fold(logs: readonly number[]): number | null {
  return logs.reduce<number | null>((sum, log) => logAddExp(sum, log), null);
}

describe('the feature epoch', () => {
  test('is 2000-01-01T00:00:00Z', () => {
    expect(new Date(FEATURE_EPOCH_MS).toISOString()).toBe('2000-01-01T00:00:00.000Z');
  });
});

describe('logContribution', () => {
  test('is ln w for an event at the epoch', () => {
    expect(logContribution(8, FEATURE_EPOCH_MS, DAY)).toBeCloseTo(Math.log(8), 12);
  });

  test('grows by ln 2 for every half-life after the epoch', () => {
    const at = FEATURE_EPOCH_MS + 3 * DAY;
    expect(logContribution(8, at, DAY)).toBeCloseTo(Math.log(8) + 3 * Math.LN2, 12);
  });

  test('shrinks by ln 2 for every half-life before the epoch', () => {
    const at = FEATURE_EPOCH_MS - 2 * HALF_LIFE_MS.week;
    const log = logContribution(1, at, HALF_LIFE_MS.week);
    expect(log).toBeCloseTo(-2 * Math.LN2, 12);
  });

  test.each([0, -1, -0.001, NaN])('rejects the weight %p, which has no logarithm', (weight) => {
    expect(() => logContribution(weight, FEATURE_EPOCH_MS, DAY)).toThrow(RangeError);
    expect(() => logContribution(weight, FEATURE_EPOCH_MS, DAY)).toThrow(/must be positive/);
  });
});

describe('logAddExp', () => {
  test('treats null as an empty sum', () => {
    expect(logAddExp(null, null)).toBeNull();
    expect(logAddExp(null, 1.5)).toBe(1.5);
    expect(logAddExp(-2, null)).toBe(-2);
  });

  test.each([
    [0, 0],
    [1, 2],
    [-3, 4],
    [10, -10],
  ])('adds e^%p and e^%p in the log domain', (a, b) => {
    expect(logAddExp(a, b)).toBeCloseTo(Math.log(Math.exp(a) + Math.exp(b)), 12);
  });

  test('stays finite where the plain sum would overflow', () => {
    expect(Math.exp(10_000)).toBe(Infinity);
    expect(logAddExp(10_000, 10_000)).toBeCloseTo(10_000 + Math.LN2, 9);
  });

  test('is commutative', () => {
    expect(logAddExp(3.25, -7.5)).toBe(logAddExp(-7.5, 3.25));
  });
});

describe('decayed sums', () => {
  test('are independent of the order contributions are folded in', () => {
    const random = seededRandom(20_240_601);
    const start = Date.UTC(2024, 0, 1);
    const logs = Array.from({ length: 300 }, () =>
      logContribution(0.1 + 10 * random(), start + random() * 2 * YEAR, HALF_LIFE_MS.day),
    );
    const reference = fold(logs) as number;
    const orders = shuffles(logs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(orders.some((order) => order[0] !== logs[0])).toBe(true);
    for (const order of orders) {
      expectRelativelyClose(fold(order) as number, reference, 1e-12);
    }
    expectRelativelyClose(fold([...logs].reverse()) as number, reference, 1e-12);
  });

  test('read at some time, equal the weights each halved once per half-life since', () => {
    const readAt = Date.UTC(2024, 5, 1);
    const events = [
      { weight: 4, at: readAt - 2 * DAY }, // worth 1
      { weight: 6, at: readAt - DAY }, // worth 3
      { weight: 2, at: readAt }, // worth 2
    ];
    const log = fold(events.map((e) => logContribution(e.weight, e.at, DAY)));
    expectRelativelyClose(decayedValue(log, readAt, DAY), 6, 1e-12);
  });

  test('halve after one half-life', () => {
    const at = Date.UTC(2024, 5, 1);
    const halfLife = HALF_LIFE_MS.affinity;
    const log = logContribution(4, at, halfLife);
    expectRelativelyClose(decayedValue(log, at, halfLife), 4, 1e-12);
    expectRelativelyClose(decayedValue(log, at + halfLife, halfLife), 2, 1e-12);
    expectRelativelyClose(decayedValue(log, at + 2 * halfLife, halfLife), 1, 1e-12);
  });

  test('are worth nothing when empty', () => {
    expect(decayedValue(null, Date.UTC(2024, 0, 1), DAY)).toBe(0);
  });

  test('do not overflow for events 30 years after the epoch with a 1-day half-life', () => {
    const at = FEATURE_EPOCH_MS + 30 * YEAR;
    const exponent = (Math.LN2 * (at - FEATURE_EPOCH_MS)) / DAY;
    expect(Math.exp(exponent)).toBe(Infinity); // a plain decayed sum would overflow here

    const log = fold([logContribution(3, at, DAY), logContribution(5, at, DAY)]) as number;
    expect(Number.isFinite(log)).toBe(true);
    expectRelativelyClose(decayedValue(log, at, DAY), 8, 1e-12);
    expectRelativelyClose(decayedValue(log, at + DAY, DAY), 4, 1e-12);
  });
});

describe('netDecayedValue', () => {
  test('is the positive sum minus the negative sum', () => {
    const at = Date.UTC(2024, 5, 1);
    const pos = logContribution(6, at, DAY);
    const neg = logContribution(2, at, DAY);
    expectRelativelyClose(netDecayedValue(pos, neg, at, DAY), 4, 1e-12);
    expectRelativelyClose(netDecayedValue(neg, pos, at, DAY), -4, 1e-12);
    expect(netDecayedValue(null, null, at, DAY)).toBe(0);
    expectRelativelyClose(netDecayedValue(pos, null, at, DAY), 6, 1e-12);
  });

  test('orders two affinities the same way whenever it is read', () => {
    const at = Date.UTC(2024, 5, 1);
    const strong = logContribution(5, at - 10 * DAY, HALF_LIFE_MS.affinity);
    const weak = logContribution(5, at - 40 * DAY, HALF_LIFE_MS.affinity);
    for (const readAt of [at, at + 90 * DAY, at + 2 * YEAR]) {
      const ratio =
        netDecayedValue(strong, null, readAt, HALF_LIFE_MS.affinity) /
        netDecayedValue(weak, null, readAt, HALF_LIFE_MS.affinity);
      expectRelativelyClose(ratio, 2, 1e-9);
    }
  });
});

describe('logAddExp across huge gaps', () => {
  test('returns the larger term, never NaN or an error, when the gap is beyond exp range', () => {
    expect(logAddExp(100, 10_000)).toBe(10_000);
    expect(logAddExp(-5000, 3)).toBe(3);
    expect(Number.isFinite(logAddExp(0, 1e6) as number)).toBe(true);
  });
});
