import { parseDuration } from '../../../src/config/env';

// The common forms are in env.test.ts; these are the edges around them.
describe('parseDuration at the edges', () => {
  test.each([
    ['2.5ms', 3],
    ['0.4ms', 0],
    ['0.0005s', 1],
    ['0.25m', 15_000],
    ['1.5h', 5_400_000],
    ['0d', 0],
    ['007s', 7000],
    ['\t10s\n', 10_000],
  ])('reads %j as %p ms, rounding to whole ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test('tells minutes (m) from milliseconds (ms)', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('5ms')).toBe(5);
  });

  test.each(['5S', '5MS', '5Min', '+5s', '1h30m', '5.s', '5..0s', 'ms', '5 s s', '٣s'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );
});
