import { requestIdFrom } from '../../../../src/api/http/request-id';

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
