/**
 * asksFresh: which caching headers ask for an answer computed now.
 */
import { asksFresh } from '../../../../src/api/http/cache-control';

describe('asksFresh', () => {
  it.each([
    'no-cache',
    'NO-CACHE',
    'no-store',
    'private, no-store',
    'no-cache="set-cookie"',
    'max-age=0',
    'max-age = 0',
    'max-age=00',
    'max-age="0"',
    'max-age=0, must-revalidate',
    'max-age=60, no-cache',
    'no-cache ="x"',
    'foo="a, b", no-store',
  ])('Cache-Control: %s asks for a fresh answer', (value) => {
    expect(asksFresh({ 'cache-control': value })).toBe(true);
  });

  it.each([
    'max-age=60',
    'max-age=05',
    'max-age=0.5',
    'no-transform',
    'x-no-cache-ext',
    'no-cachex',
    's-maxage=0',
    'min-fresh=0',
    'max-stale=0',
    'foo="a,no-cache,b"',
    'foo="x, no-store"',
    'foo="say \\"hi, no-cache\\""',
    '',
  ])('Cache-Control: %p reads the cache', (value) => {
    expect(asksFresh({ 'cache-control': value })).toBe(false);
  });

  it('takes Pragma: no-cache, alone or among others', () => {
    expect(asksFresh({ pragma: 'no-cache' })).toBe(true);
    expect(asksFresh({ pragma: 'x-a, No-Cache' })).toBe(true);
    expect(asksFresh({ pragma: 'x-no-cache' })).toBe(false);
  });

  it('reads the cache without either header', () => {
    expect(asksFresh({})).toBe(false);
  });
});
