import { trainEase } from '../../../src/learning/ease';
import { buildMatrix } from '../../../src/learning/matrix';

describe('trainEase', () => {
  const matrix = buildMatrix([
    { userId: 'u1', itemId: 'a', weight: 1 },
    { userId: 'u1', itemId: 'b', weight: 1 },
    { userId: 'u2', itemId: 'a', weight: 1 },
    { userId: 'u2', itemId: 'b', weight: 1 },
    { userId: 'u3', itemId: 'c', weight: 1 },
    { userId: 'u3', itemId: 'b', weight: -3 },
  ]);

  test('matches the closed form on a hand-sized example', () => {
    const ease = trainEase(matrix, { regularization: 1, maxItems: 10 });
    if (!ease) throw new Error('expected weights');
    const n = ease.items;
    // G = XᵀX + I over positives: a,b co-occur twice; c alone once.
    // G = [[3,2,0],[2,3,0],[0,0,2]]; P = G⁻¹ = [[3,-2,0],[-2,3,0],[0,0,2.5]] / 5;
    // B_ab = -P_ab / P_bb = 2/3, B_ac = 0, diagonal 0.
    const at = (i: string, j: string) =>
      ease.weights[(matrix.itemIndex.get(i) as number) * n + (matrix.itemIndex.get(j) as number)];
    expect(at('a', 'b')).toBeCloseTo(2 / 3, 6);
    expect(at('b', 'a')).toBeCloseTo(2 / 3, 6);
    expect(at('a', 'c')).toBeCloseTo(0, 9);
    for (const id of ['a', 'b', 'c']) expect(at(id, id)).toBe(0);
  });

  test('is skipped for catalogues above the size limit', () => {
    expect(trainEase(matrix, { regularization: 1, maxItems: 2 })).toBeNull();
  });
});
