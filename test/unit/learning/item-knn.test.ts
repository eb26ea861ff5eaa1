import { trainItemKnn } from '../../../src/learning/item-knn';
import { buildMatrix, type Interaction } from '../../../src/learning/matrix';

const rows = (pairs: Array<[string, string, number?]>): Interaction[] =>
  pairs.map(([userId, itemId, weight]) => ({ userId, itemId, weight: weight ?? 1 }));

describe('trainItemKnn', () => {
  // a and b share two users, a and c one; epsilon = 1 so every r = ln 2.
  const matrix = buildMatrix(
    rows([
      ['u1', 'a'],
      ['u1', 'b'],
      ['u2', 'a'],
      ['u2', 'b'],
      ['u3', 'a'],
      ['u3', 'c'],
      ['u4', 'd'],
    ]),
  );

  const similarities = (shrinkage: number, neighbours = 10) => {
    const nb = trainItemKnn(matrix, { neighbours, shrinkage, epsilon: 1 });
    const of = (id: string) => {
      const i = matrix.itemIndex.get(id) as number;
      return Array.from({ length: nb.start[i + 1] - nb.start[i] }, (_, e) => [
        matrix.itemIds[nb.index[nb.start[i] + e]],
        nb.value[nb.start[i] + e],
      ]);
    };
    return of;
  };

  test('is the cosine of the item columns without shrinkage', () => {
    const of = similarities(0);
    const [[first, simAB], [second, simAC]] = of('a') as Array<[string, number]>;
    expect([first, second]).toEqual(['b', 'c']);
    expect(simAB).toBeCloseTo(2 / Math.sqrt(3 * 2), 6);
    expect(simAC).toBeCloseTo(1 / Math.sqrt(3 * 1), 6);
    expect(of('d')).toEqual([]);
  });

  test('shrinks similarities that rest on few users', () => {
    const r2 = Math.LN2 ** 2;
    const of = similarities(1);
    const [[, simAB], [, simAC]] = of('a') as Array<[string, number]>;
    expect(simAB).toBeCloseTo((2 * r2) / (Math.sqrt(3 * r2) * Math.sqrt(2 * r2) + 1), 6);
    expect(simAC).toBeCloseTo(r2 / (Math.sqrt(3 * r2) * Math.sqrt(r2) + 1), 6);
  });

  test('keeps only the top-k neighbours', () => {
    expect(similarities(0, 1)('a').map(([id]) => id)).toEqual(['b']);
  });

  test('ignores negative interactions', () => {
    const withDislike = buildMatrix(
      rows([
        ['u1', 'a'],
        ['u1', 'b', -6],
      ]),
    );
    const nb = trainItemKnn(withDislike, { neighbours: 10, shrinkage: 0, epsilon: 1 });
    expect(nb.index.length).toBe(0);
  });
});
