import type { UserFeatures } from '../../../src/domain/features';
import { encodeUserRecord, parseUserValue } from '../../../src/storage/redis/user-codec';

const T = Date.UTC(2024, 5, 1);

const user: UserFeatures = {
  userId: 'u|1 é',
  version: 12,
  events: 3,
  positives: 2,
  negatives: 1,
  firstAt: T,
  lastAt: T + 90_000,
  categories: [
    { category: 'Drama', events: 2, logPos: 12.345678901234567, logNeg: null },
    { category: 'Sci-Fi "x"', events: 1, logPos: null, logNeg: -3.5e-7 },
  ],
  recent: [
    { itemId: 'i2', type: 'RATE', value: 4.5, weight: 4, at: T + 90_000 },
    { itemId: 'i1', type: 'DISLIKE', value: null, weight: -6, at: T },
  ],
  disliked: ['i1'],
  seen: ['i1', 'i2'],
};

const { seen: _seen, ...record } = user;

test('a record decodes to exactly what was encoded', () => {
  const value = `12|${encodeUserRecord(user)}\nF12\ti1\ti2\t`;
  expect(parseUserValue(user.userId, value)).toEqual({
    record,
    seen: ['i1', 'i2'],
    complete: true,
  });
});

test('a record with times that are not whole milliseconds is kept as plain JSON', () => {
  const odd = { ...user, firstAt: T + 0.5 };
  const encoded = encodeUserRecord(odd);
  expect(encoded.startsWith('{')).toBe(true);
  expect(parseUserValue(user.userId, `12|${encoded}\nP\t`)?.record).toEqual({
    ...record,
    firstAt: T + 0.5,
  });
});

test('the positional record is much smaller than the named one', () => {
  expect(encodeUserRecord(user).length).toBeLessThan(JSON.stringify(record).length / 2);
});

test('misses, absences and partial lists read as such', () => {
  expect(parseUserValue('u', null)).toBeUndefined();
  expect(parseUserValue('u', '\nP\ti1\t')).toBeUndefined();
  expect(parseUserValue('u', '0|null')).toBeNull();
  expect(parseUserValue(user.userId, `12|${encodeUserRecord(user)}\nP\ti9\t`)).toMatchObject({
    seen: ['i9'],
    complete: false,
  });
});

test('a list is complete only while its mark has reached the record version', () => {
  const at = (mark: string) =>
    parseUserValue(user.userId, `12|${encodeUserRecord(user)}\n${mark}\ti1\t`)?.complete;
  expect(at('F12')).toBe(true);
  expect(at('F13')).toBe(true);
  // A version whose items never arrived.
  expect(at('F11')).toBe(false);
  // Written before versions were marked: not trusted.
  expect(at('F')).toBe(false);
  expect(at('P')).toBe(false);
  // Ranges written ahead do not count until v reaches them.
  expect(at('F11+12-14')).toBe(false);
  expect(at('F12+14-14')).toBe(true);
});

test('only a mark before the first tab counts, as the script reads it', () => {
  const value = (tail: string) => `12|${encodeUserRecord(user)}\n${tail}`;
  expect(parseUserValue(user.userId, value('F12'))?.complete).toBe(false);
  expect(parseUserValue(user.userId, value('P\tF12\t'))?.complete).toBe(false);
  expect(parseUserValue(user.userId, value(`F${'9'.repeat(400)}\t`))?.complete).toBe(false);
});
