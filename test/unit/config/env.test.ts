import { ConfigError, type Env, EnvReader, parseDuration } from '../../../src/config/env';

/** Reads with `use`, then returns the problems done() reports (none: []). */
function problemsOf(env: Env, use: (read: EnvReader) => void): readonly string[] {
  const read = new EnvReader(env);
  use(read);
  try {
    read.done();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1500', 1500],
    ['0', 0],
    ['1.5s', 1500],
    [' 2 s ', 2000],
  ])('reads %j as %p ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', 'abc', '-5s', '5w', '1e3', '5 sec', 's', '1,5s', '.5s'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('ConfigError', () => {
  test('lists every problem on its own line', () => {
    const error = new ConfigError(['A is wrong', 'B is wrong']);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual(['A is wrong', 'B is wrong']);
    expect(error.message).toBe('invalid configuration:\n  - A is wrong\n  - B is wrong');
  });
});

describe('EnvReader', () => {
  test('uses the fallback for a variable that is unset or empty', () => {
    let values: unknown[] = [];
    const problems = problemsOf({ EMPTY: '' }, (read) => {
      values = [
        read.string('EMPTY', 'dflt'),
        read.optional('EMPTY'),
        read.int('UNSET', 7, 0, 10),
        read.number('EMPTY', 0.5, 0, 1),
        read.duration('UNSET', 250, 0, 1000),
        read.oneOf('EMPTY', 'b', ['a', 'b']),
        read.bool('UNSET', true),
        read.url('EMPTY', 'redis://127.0.0.1:6379', ['redis']),
        read.token('UNSET', 'name'),
        read.custom('EMPTY', 'kept', () => 'parsed'),
      ];
    });
    expect(problems).toEqual([]);
    expect(values).toEqual([
      'dflt',
      undefined,
      7,
      0.5,
      250,
      'b',
      true,
      'redis://127.0.0.1:6379',
      'name',
      'kept',
    ]);
  });

  test('reads whole numbers within their range', () => {
    let value = 0;
    expect(problemsOf({ N: ' 42 ' }, (read) => (value = read.int('N', 1, 0, 100)))).toEqual([]);
    expect(value).toBe(42);
  });

  test.each(['abc', '4.2', '1e3', '101', '-1', '0x10'])(
    'refuses %j as a whole number from 0 to 100, quoting it',
    (raw) => {
      const problems = problemsOf({ N: raw }, (read) => read.int('N', 1, 0, 100));
      expect(problems).toEqual([`N must be a whole number from 0 to 100, got "${raw}"`]);
    },
  );

  test.each(['NaN', 'Infinity', 'two', '1.5'])('refuses %j as a number from 0 to 1', (raw) => {
    const problems = problemsOf({ X: raw }, (read) => read.number('X', 0, 0, 1));
    expect(problems).toEqual([`X must be a number from 0 to 1, got "${raw}"`]);
  });

  test('reads durations with units and checks their range', () => {
    let value = 0;
    expect(problemsOf({ D: '30s' }, (read) => (value = read.duration('D', 1, 0, 60_000)))).toEqual(
      [],
    );
    expect(value).toBe(30_000);
    const problems = problemsOf({ D: '2m' }, (read) => read.duration('D', 1, 0, 60_000));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^D must be a duration from 0 ms to 60000 ms .* got "2m"$/);
  });

  test('accepts only the listed choices', () => {
    const problems = problemsOf({ MODE: 'fast' }, (read) => read.oneOf('MODE', 'a', ['a', 'b']));
    expect(problems).toEqual(['MODE must be one of a, b, got "fast"']);
  });

  test.each([
    ['1', true],
    ['TRUE', true],
    ['yes', true],
    ['On', true],
    ['0', false],
    ['false', false],
    ['NO', false],
    ['off', false],
  ])('reads %j as the boolean %p', (raw, expected) => {
    let value: boolean | undefined;
    expect(problemsOf({ B: raw }, (read) => (value = read.bool('B', !expected)))).toEqual([]);
    expect(value).toBe(expected);
  });

  test('refuses a boolean it cannot read', () => {
    const problems = problemsOf({ B: 'maybe' }, (read) => read.bool('B', false));
    expect(problems).toEqual(['B must be true or false, got "maybe"']);
  });

  test('accepts a URL with an allowed scheme, as given', () => {
    let url = '';
    const raw = 'rediss://user:pw@127.0.0.1:6380/2';
    const problems = problemsOf({ U: raw }, (read) => {
      url = read.url('U', 'redis://127.0.0.1', ['redis', 'rediss']);
    });
    expect(problems).toEqual([]);
    expect(url).toBe(raw);
  });

  test.each([
    ['a URL with another scheme', 'http://admin:hunter2secret@127.0.0.1/', /schemes redis/],
    ['text that is no URL', '//admin:hunter2secret@127.0.0.1', /must be a URL \(redis\)/],
  ])('refuses %s without echoing it', (_what, raw, expected) => {
    const problems = problemsOf({ U: raw }, (read) => read.url('U', 'redis://x', ['redis']));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^U /);
    expect(problems[0]).toMatch(expected);
    expect(problems[0]).not.toContain('hunter2secret');
    expect(problems[0]).not.toContain(raw);
  });

  test('accepts tokens with the extra characters it allows, and only those', () => {
    let token = '';
    expect(problemsOf({ T: 'run.1:a' }, (read) => (token = read.token('T', 'x', ':.')))).toEqual(
      [],
    );
    expect(token).toBe('run.1:a');
    expect(problemsOf({ T: 'run.1:a' }, (read) => read.token('T', 'x'))).toHaveLength(1);
  });

  test.each(['has space', 'a'.repeat(65), 'star*', 'new\nline'])('refuses the token %j', (raw) => {
    const problems = problemsOf({ T: raw }, (read) => read.token('T', 'x'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^T must be 1-64 characters/);
  });

  test("turns a custom parser's error into a problem naming the variable", () => {
    const problems = problemsOf({ C: 'zzz' }, (read) =>
      read.custom('C', 0, () => {
        throw new Error('is not a colour');
      }),
    );
    expect(problems).toEqual(['C is not a colour']);
  });

  test('collects every problem before failing, in reading order', () => {
    const problems = problemsOf({ A: 'x', B: 'y', C: '3' }, (read) => {
      read.int('A', 0, 0, 1);
      read.bool('B', false);
      read.int('C', 0, 0, 5);
    });
    expect(problems.map((p) => p.split(' ')[0])).toEqual(['A', 'B']);
  });

  test('returns the fallback for a bad value, so reading can go on', () => {
    const read = new EnvReader({ N: 'abc' });
    expect(read.int('N', 9, 0, 10)).toBe(9);
    expect(() => read.done()).toThrow(ConfigError);
  });
});
