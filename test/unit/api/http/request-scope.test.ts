import {
  currentRequestId,
  requestIdFrom,
  requestScope,
} from '../../../../src/api/http/request-scope';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  test.each([
    'abc',
    'req-42',
    '4f1c2b7e-9d3a-4c1e-8f00-123456789abc',
    'trace:span.01_A',
    'x',
    'a'.repeat(128),
  ])("keeps the caller's safe id %j", (id) => {
    expect(requestIdFrom(id)).toBe(id);
  });

  test('takes the first value when the header was sent more than once', () => {
    expect(requestIdFrom(['first-id', 'second-id'])).toBe('first-id');
  });

  test.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['an empty list', []],
    ['an id longer than 128 characters', 'a'.repeat(129)],
    ['an id with a space', 'two words'],
    ['an id with a line break', 'id\nlevel=error forged log line'],
    ['an id ending in a line break', 'id\n'],
    ['an id with markup', '<script>alert(1)</script>'],
    ['an id with quotes', 'a"b'],
    ['an id with a slash', 'a/b'],
    ['an id with non-ASCII letters', 'idé'],
    ['a list whose first id is unsafe', ['bad id', 'good-id']],
  ])('replaces %s with a fresh UUID', (_what, header) => {
    const id = requestIdFrom(header);
    expect(id).toMatch(UUID);
  });

  test('makes a different UUID each time it replaces an id', () => {
    const ids = new Set(Array.from({ length: 50 }, () => requestIdFrom('bad id')));
    expect(ids.size).toBe(50);
  });
});

describe('currentRequestId', () => {
  test('is the id of the request being served, across awaits', async () => {
    const seen = await requestScope.run({ requestId: 'req-1' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentRequestId();
    });
    expect(seen).toBe('req-1');
  });

  test('keeps concurrent requests apart', async () => {
    const serve = (requestId: string, delayMs: number) =>
      requestScope.run({ requestId }, async () => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return currentRequestId();
      });
    await expect(Promise.all([serve('req-a', 5), serve('req-b', 1)])).resolves.toEqual([
      'req-a',
      'req-b',
    ]);
  });

  test('is undefined outside any request', () => {
    expect(currentRequestId()).toBeUndefined();
  });
});
