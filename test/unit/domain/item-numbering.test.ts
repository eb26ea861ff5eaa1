import { ItemNumbering, ItemSet, ItemTable } from '../../../src/domain/item-numbering';

const listOf = (...ids: string[]) => ids.map((itemId) => ({ itemId }));

describe('ItemTable', () => {
  test('gives each id one number, from 0, in order of first appearance', () => {
    const table = new ItemTable();
    expect(['b', 'a', 'b', 'c'].map((id) => table.numberOf(id))).toEqual([0, 1, 0, 2]);
    expect(table.size).toBe(3);
  });

  test('a shared list keeps its numbers; an unshared one is numbered each time', () => {
    const table = new ItemTable();
    const shared = listOf('x', 'y');
    const first = table.numbersOf(shared, true);
    expect([...first]).toEqual([0, 1]);
    expect(table.numbersOf(shared, true)).toBe(first);
    const fresh = listOf('y', 'z');
    expect([...table.numbersOf(fresh)]).toEqual([1, 2]);
    expect(table.numbersOf(fresh)).not.toBe(table.numbersOf(fresh));
  });

  test('nested passes are one pass', () => {
    const table = new ItemTable();
    const outer = table.currentPass;
    table.pass(() => table.pass(() => expect(table.currentPass).toBe(outer + 1)));
    table.pass(() => expect(table.currentPass).toBe(outer + 2));
  });

  test('a full table is emptied only when an outermost pass begins, and old numbers lapse', () => {
    const table = new ItemTable(3);
    const shared = listOf('a', 'b', 'c');
    const before = table.pass(() => {
      const numbers = table.numbersOf(shared, true);
      // Full now, but not emptied inside the pass.
      table.pass(() => expect(table.numberOf('d')).toBe(3));
      expect(table.numberOf('a')).toBe(0);
      return numbers;
    });
    const generation = table.generation;
    table.pass(() => {
      expect(table.generation).toBe(generation + 1);
      expect(table.numberOf('c')).toBe(0);
      const after = table.numbersOf(shared, true);
      expect(after).not.toBe(before);
      expect([...after]).toEqual([1, 2, 0]);
    });
  });

  test('an error in a pass ends it', () => {
    const table = new ItemTable(1);
    expect(() =>
      table.pass(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    table.numberOf('a');
    const generation = table.generation;
    table.pass(() => undefined);
    expect(table.generation).toBe(generation + 1);
  });
});

describe('ItemSet', () => {
  test('is empty before it first begins', () => {
    const set = new ItemSet();
    expect([set.has(0), set.has(5), set.has(1023)]).toEqual([false, false, false]);
    const numbering = new ItemNumbering();
    expect([numbering.localOf(7), numbering.localOf(9), numbering.localOf(7)]).toEqual([0, 1, 0]);
  });

  test('holds the numbers added since it began, past its first arrays', () => {
    const set = new ItemSet();
    set.begin();
    set.add(3);
    set.add(5000);
    expect([set.has(3), set.has(5000), set.has(4), set.has(1 << 20)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    set.begin();
    expect([set.has(3), set.has(5000)]).toEqual([false, false]);
  });
});

describe('ItemNumbering', () => {
  test('numbers items from 0 in order of first appearance, afresh in each use', () => {
    const numbering = new ItemNumbering();
    numbering.begin();
    expect([9, 4, 9, 7000, 4].map((n) => numbering.localOf(n))).toEqual([0, 1, 0, 2, 1]);
    expect(numbering.size).toBe(3);
    numbering.begin();
    expect([7000, 1, 9].map((n) => numbering.localOf(n))).toEqual([0, 1, 2]);
  });

  test('keeps its numbers when its arrays grow in the middle of a use', () => {
    const numbering = new ItemNumbering();
    numbering.begin();
    const early = Array.from({ length: 500 }, (_, i) => numbering.localOf(i));
    numbering.localOf(100_000);
    expect(Array.from({ length: 500 }, (_, i) => numbering.localOf(i))).toEqual(early);
    expect(numbering.localOf(100_000)).toBe(500);
  });
});
