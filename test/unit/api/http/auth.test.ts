import { ApiKeys } from '../../../../src/api/http/auth';

const KEY = 'k3y-0123456789abcdef';
const OTHER_KEY = 'k3y-fedcba9876543210';

describe('ApiKeys', () => {
  test('is disabled with no keys and then allows every caller, with or without a key', () => {
    const keys = new ApiKeys([]);
    expect(keys.enabled).toBe(false);
    expect(keys.allows(undefined)).toBe(true);
    expect(keys.allows('')).toBe(true);
    expect(keys.allows('Bearer anything-at-all')).toBe(true);
  });

  test('is enabled as soon as one key is configured', () => {
    expect(new ApiKeys([KEY]).enabled).toBe(true);
  });

  test.each([
    ['a Bearer key', `Bearer ${KEY}`],
    ['a bearer key in lower case', `bearer ${KEY}`],
    ['a Bearer key with extra spaces', `Bearer   ${KEY}  `],
    ['a bare key', KEY],
  ])('accepts %s', (_what, header) => {
    expect(new ApiKeys([KEY]).allows(header)).toBe(true);
  });

  test('accepts any one of several configured keys', () => {
    const keys = new ApiKeys([KEY, OTHER_KEY]);
    expect(keys.allows(`Bearer ${KEY}`)).toBe(true);
    expect(keys.allows(`Bearer ${OTHER_KEY}`)).toBe(true);
  });

  test.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a Bearer with no key', 'Bearer '],
    ['a wrong key', 'Bearer k3y-not-the-right-one'],
    ['the key with one character changed', `Bearer ${KEY.slice(0, -1)}0`],
    ['a prefix of the key', `Bearer ${KEY.slice(0, 8)}`],
    ['the key with more after it', `Bearer ${KEY}x`],
    ['the key in another case', `Bearer ${KEY.toUpperCase()}`],
    ['the key under another scheme', `Basic ${KEY}`],
  ])('refuses %s', (_what, header) => {
    expect(new ApiKeys([KEY, OTHER_KEY]).allows(header)).toBe(false);
  });
});
