import { bloomPositions, checkShape, falsePositiveRate } from '../../../src/storage/bloom';

const SHAPE = { bits: 2 ** 18, hashes: 7 };

function filterOf(ids: string[]): Uint8Array {
  const bits = new Uint8Array(SHAPE.bits);
  for (const id of ids) for (const p of bloomPositions(id, SHAPE)) bits[p] = 1;
  return bits;
}

const holds = (bits: Uint8Array, id: string) => bloomPositions(id, SHAPE).every((p) => bits[p]);

test('positions are the same on every call, distinct, and within the filter', () => {
  const first = bloomPositions('user-42', SHAPE);
  expect(bloomPositions('user-42', SHAPE)).toEqual(first);
  expect(new Set(first).size).toBe(SHAPE.hashes);
  for (const p of first) expect(p >= 0 && p < SHAPE.bits && Number.isInteger(p)).toBe(true);
  // Ids a character apart land elsewhere.
  expect(bloomPositions('user-43', SHAPE)).not.toEqual(first);
  // The largest shape Redis allows still gives unsigned positions.
  const huge = bloomPositions('user-42', { bits: 2 ** 32, hashes: 7 });
  for (const p of huge) expect(p >= 0 && p < 2 ** 32).toBe(true);
});

test('members always read as members, strangers as often as theory says', () => {
  const members = Array.from({ length: 20_000 }, (_, n) => `user-${n}`);
  const bits = filterOf(members);
  expect(members.every((id) => holds(bits, id))).toBe(true);

  const strangers = 100_000;
  let wrong = 0;
  for (let n = 0; n < strangers; n += 1) if (holds(bits, `visitor-${n}`)) wrong += 1;
  // (1 - e^(-7 × 20,000 / 2^18))^7 = 0.21 %: some 210 of 100,000.
  const expected = falsePositiveRate(SHAPE, members.length) * strangers;
  expect(expected).toBeGreaterThan(200);
  expect(expected).toBeLessThan(220);
  expect(wrong).toBeGreaterThan(expected * 0.7);
  expect(wrong).toBeLessThan(expected * 1.3);
});

test('a shape must be a power of two within Redis limits', () => {
  expect(() => checkShape({ bits: 1000, hashes: 7 })).toThrow(RangeError);
  expect(() => checkShape({ bits: 2 ** 33, hashes: 7 })).toThrow(RangeError);
  expect(() => checkShape({ bits: 2 ** 20, hashes: 0 })).toThrow(RangeError);
  expect(checkShape(SHAPE)).toBe(SHAPE);
});
