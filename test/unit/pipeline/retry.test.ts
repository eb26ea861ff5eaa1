import { InvalidInputError } from '../../../src/domain/errors';
import { backoffMs, isTransient, sleep } from '../../../src/pipeline/retry';
import { seededRandom } from '../support/random';

/** An error as a driver raises it: a neutral message, so only `code` can decide. */
function coded(code: string, message = 'query failed'): Error {
  return Object.assign(new Error(message), { code });
}

function causedBy(cause: unknown, message = 'batch failed'): Error {
  return new Error(message, { cause });
}

describe('isTransient', () => {
  test.each([
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['55P03', 'lock not available'],
    ['57P01', 'admin shutdown'],
    ['57P03', 'cannot connect now'],
    ['53300', 'too many connections'],
    ['53200', 'out of shared memory (a full lock table)'],
    ['08000', 'connection exception'],
    ['08001', 'client unable to establish connection'],
    ['08003', 'connection does not exist'],
    ['08006', 'connection failure'],
  ])('retries PostgreSQL SQLSTATE %s (%s)', (code) => {
    expect(isTransient(coded(code))).toBe(true);
  });

  test.each([
    ['P1001', "can't reach the database"],
    ['P1002', 'database timed out'],
    ['P1017', 'server closed the connection'],
    ['P2024', 'connection pool timeout'],
    ['P2028', 'transaction API error'],
    ['P2034', 'write conflict or deadlock'],
  ])('retries Prisma error %s (%s)', (code) => {
    expect(isTransient(coded(code))).toBe(true);
  });

  test.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'])(
    'retries the Node socket error %s',
    (code) => {
      expect(isTransient(coded(code))).toBe(true);
    },
  );

  test('reads the code of a plain object too, not only of an Error', () => {
    expect(isTransient({ code: 'ECONNRESET' })).toBe(true);
  });

  test.each([
    'Connection terminated unexpectedly',
    'timeout exceeded when trying to connect',
    'Operation has timed out',
    'could not serialize access due to concurrent update',
    'deadlock detected',
    'terminating connection due to administrator command',
    'connect ECONNREFUSED 127.0.0.1:5432',
  ])('retries an uncoded error whose message says %j', (message) => {
    expect(isTransient(new Error(message))).toBe(true);
  });

  test('finds a transient cause below wrapping errors', () => {
    expect(isTransient(causedBy(coded('40P01')))).toBe(true);
    expect(isTransient(causedBy(causedBy(causedBy(coded('ECONNRESET')))))).toBe(true);
    expect(isTransient(causedBy(causedBy(new Error('Connection terminated'))))).toBe(true);
  });

  test('is false for a chain of errors none of which is transient', () => {
    expect(isTransient(causedBy(causedBy(coded('23505'))))).toBe(false);
  });

  test('stops on a cyclic cause chain', () => {
    const a = new Error('first') as Error & { cause?: unknown };
    const b = new Error('second', { cause: a });
    a.cause = b;
    expect(isTransient(a)).toBe(false);
  });

  test.each([
    ['a validation error', new InvalidInputError('event.userId', 'event.userId must be a string')],
    ['a type error', new TypeError("Cannot read properties of undefined (reading 'id')")],
    [
      'a unique violation (23505)',
      coded('23505', 'duplicate key value violates unique constraint "items_pkey"'),
    ],
    ['a check violation (23514)', coded('23514', 'new row violates check constraint "value"')],
    ['invalid text (22P02)', coded('22P02', 'invalid input syntax for type integer: "x"')],
    ['Prisma P2002', coded('P2002', 'Unique constraint failed on the fields: (`id`)')],
    ['Prisma P2025', coded('P2025', 'Record to update not found.')],
    ['a file error', coded('ENOENT', 'no such file or directory')],
  ])('is false for %s', (_what, error) => {
    expect(isTransient(error)).toBe(false);
  });

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'ECONNRESET'],
    ['a number', 40001],
    ['an empty object', {}],
  ])('is false for %s thrown in place of an error', (_what, thrown) => {
    expect(isTransient(thrown)).toBe(false);
  });
});

describe('backoffMs', () => {
  const highest = () => 1 - Number.EPSILON;
  const lowest = () => 0;

  test('waits between half of the base and the base on the first attempt', () => {
    expect(backoffMs(1, 100, 10_000, lowest)).toBe(50);
    expect(backoffMs(1, 100, 10_000, () => 0.5)).toBe(75);
    expect(backoffMs(1, 100, 10_000, highest)).toBe(100);
  });

  test('doubles its ceiling with each attempt', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, 100, 10_000, highest));
    expect(waits).toEqual([100, 200, 400, 800, 1600, 3200]);
    const floors = [1, 2, 3, 4].map((attempt) => backoffMs(attempt, 200, 10_000, lowest));
    expect(floors).toEqual([100, 200, 400, 800]);
  });

  test('never waits longer than the cap, however many attempts', () => {
    const waits = [4, 5, 6, 30, 1000, 100_000].map((a) => backoffMs(a, 100, 1000, highest));
    expect(waits).toEqual([800, 1000, 1000, 1000, 1000, 1000]);
    expect(backoffMs(100_000, 100, 1000, lowest)).toBe(500);
  });

  test('uses a base of 100 ms and a cap of 10 s by default', () => {
    expect(backoffMs(1, undefined, undefined, highest)).toBe(100);
    expect(backoffMs(50, undefined, undefined, highest)).toBe(10_000);
  });

  test('treats an attempt below 1 as the first', () => {
    expect(backoffMs(0, 100, 10_000, highest)).toBe(100);
    expect(backoffMs(-3, 100, 10_000, highest)).toBe(100);
  });

  test('spreads the waits of one attempt over the upper half of its ceiling', () => {
    const random = seededRandom(7);
    const waits = Array.from({ length: 500 }, () => backoffMs(3, 100, 10_000, random));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...waits)).toBeLessThanOrEqual(400);
    expect(new Set(waits).size).toBeGreaterThan(100);
  });
});

describe('sleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('resolves once the given time has passed, not before', async () => {
    let done = false;
    const slept = sleep(250).then(() => (done = true));
    await jest.advanceTimersByTimeAsync(249);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await slept;
    expect(done).toBe(true);
  });
});
