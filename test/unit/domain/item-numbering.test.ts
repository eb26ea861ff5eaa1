import { ItemNumbering } from '../../../src/domain/item-numbering';

test('numbers ids from 0 in order of first appearance, afresh in each pass', () => {
  const numbering = new ItemNumbering();
  numbering.begin();
  expect(['b', 'a', 'b', 'c', 'a'].map((id) => numbering.numberOf(id))).toEqual([0, 1, 0, 2, 1]);
  expect(numbering.size).toBe(3);
  numbering.begin();
  expect(['c', 'x', 'b'].map((id) => numbering.numberOf(id))).toEqual([0, 1, 2]);
});

test('keeps working past its first arrays and after its table is emptied', () => {
  const numbering = new ItemNumbering(3000);
  for (let pass = 0; pass < 5; pass += 1) {
    numbering.begin();
    const ids = Array.from({ length: 2500 }, (_, i) => `p${pass}-${i % 2000}`);
    const expected = ids.map((_, i) => i % 2000);
    expect(ids.map((id) => numbering.numberOf(id))).toEqual(expected);
    expect(numbering.size).toBe(2000);
  }
});
