import { choleskySolve, gram, rowDot } from '../../../src/learning/linear-algebra';
import { invertSymmetric } from '../../../src/learning/ease';
import { seededRandom } from '../support/random';

function randomSpd(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const a = Float64Array.from({ length: n * n }, () => random() - 0.5);
  const spd = gram(a, n, n);
  for (let i = 0; i < n; i += 1) spd[i * n + i] += 0.5;
  return spd;
}

function multiply(a: Float64Array, x: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => rowDot(a, i, x, n));
}

describe('gram', () => {
  test('is AᵀA', () => {
    // A = [[1, 2], [3, 4], [5, 6]]
    const g = gram([1, 2, 3, 4, 5, 6], 3, 2);
    expect([...g]).toEqual([1 + 9 + 25, 2 + 12 + 30, 2 + 12 + 30, 4 + 16 + 36]);
  });
});

describe('choleskySolve', () => {
  test('solves a symmetric positive-definite system', () => {
    const n = 8;
    const a = randomSpd(n, 3);
    const x = Float64Array.from({ length: n }, (_, i) => i - 3);
    const b = multiply(a, x, n);
    expect(choleskySolve(Float64Array.from(a), b, n)).toBe(true);
    b.forEach((v, i) => expect(v).toBeCloseTo(x[i], 9));
  });

  test('refuses a matrix that is not positive definite', () => {
    expect(choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toBe(
      false,
    );
  });
});

describe('invertSymmetric', () => {
  test('gives the inverse: A · A⁻¹ = I', () => {
    const n = 12;
    const a = randomSpd(n, 9);
    const inverse = invertSymmetric(Float64Array.from(a), n);
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < n; j += 1) {
        let sum = 0;
        for (let q = 0; q < n; q += 1) sum += a[i * n + q] * inverse[q * n + j];
        // L and L⁻¹ are kept in single precision: about 1e-7 relative.
        expect(sum).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
  });

  test('throws on a matrix that is not positive definite', () => {
    expect(() => invertSymmetric(Float64Array.from([0, 0, 0, 1]), 2)).toThrow(/positive definite/);
  });
});
