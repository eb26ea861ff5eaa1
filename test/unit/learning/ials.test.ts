import { confidence } from '../../../src/learning/confidence';
import {
  DEFAULT_IALS_PARAMS,
  foldIn,
  type IalsParams,
  trainIals,
} from '../../../src/learning/ials';
import { gram, rowDot } from '../../../src/learning/linear-algebra';
import { buildMatrix, type Interaction } from '../../../src/learning/matrix';
import { seededRandom } from '../support/random';

// Two tastes, two factors; classic Hu-Koren-Volinsky settings suit this tiny, dense data.
const PARAMS: IalsParams = {
  ...DEFAULT_IALS_PARAMS,
  factors: 2,
  iterations: 15,
  regularization: 0.01,
  regularizationExponent: 0,
  unobservedWeight: 1,
  alpha: 10,
  seed: 3,
};

/** Two taste groups: users 0-19 like items 0-9, users 20-39 like items 10-19. */
function plantedTastes(): Interaction[] {
  const random = seededRandom(11);
  const out: Interaction[] = [];
  for (let u = 0; u < 40; u += 1) {
    const base = u < 20 ? 0 : 10;
    for (let i = 0; i < 10; i += 1) {
      if (random() < 0.5) out.push({ userId: `u${u}`, itemId: `i${base + i}`, weight: 1 });
    }
  }
  return out;
}

/** Plain Gaussian elimination with partial pivoting, independent of the code under test. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c += 1) {
    let pivot = c;
    for (let r = c + 1; r < n; r += 1) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = 0; r < n; r += 1) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k += 1) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

describe('foldIn', () => {
  test('is the least-squares solution of the weighted normal equations', () => {
    const k = 4;
    const nItems = 7;
    const random = seededRandom(2);
    const y = Float64Array.from({ length: nItems * k }, () => random() - 0.5);
    const params = {
      ...PARAMS,
      factors: k,
      alpha: 2,
      unobservedWeight: 0.3,
      regularization: 0.02,
      regularizationExponent: 1,
    };
    const entries = [
      { item: 1, weight: 5 },
      { item: 4, weight: 1 },
      { item: 6, weight: -6 },
    ];
    const scaledGram = gram(y, nItems, k).map((v) => v * params.unobservedWeight);
    const x = foldIn(y, scaledGram, nItems, entries, params);

    // Independently: A = a0·Σ_all y yᵀ + Σ_obs (c − a0) y yᵀ + λ_u I, b = Σ_obs c·p·y.
    const lambda = params.regularization * (entries.length + params.unobservedWeight * nItems);
    const a = Array.from({ length: k }, (_, i) =>
      Array.from({ length: k }, (_, j) => {
        let sum = i === j ? lambda : 0;
        for (let item = 0; item < nItems; item += 1) {
          sum += params.unobservedWeight * y[item * k + i] * y[item * k + j];
        }
        for (const { item, weight } of entries) {
          const c = confidence(weight, params);
          sum += (c - params.unobservedWeight) * y[item * k + i] * y[item * k + j];
        }
        return sum;
      }),
    );
    const b = Array.from({ length: k }, (_, i) =>
      entries.reduce(
        (sum, { item, weight }) =>
          sum + (weight > 0 ? confidence(weight, params) * y[item * k + i] : 0),
        0,
      ),
    );
    solve(a, b).forEach((v, i) => expect(x[i]).toBeCloseTo(v, 9));
  });

  test('gives the zero vector to a user without interactions', () => {
    const x = foldIn(new Float64Array(8), new Float64Array(4), 4, [], { ...PARAMS, factors: 2 });
    expect([...x]).toEqual([0, 0]);
  });
});

describe('trainIals', () => {
  const matrix = buildMatrix(plantedTastes());
  const factors = trainIals(matrix, PARAMS);
  const k = PARAMS.factors;
  const score = (u: number, i: number) =>
    rowDot(factors.items, i, factors.users.subarray(u * k, (u + 1) * k), k);

  test("ranks every user's unseen own-taste items above the other group's items", () => {
    for (let u = 0; u < matrix.userIds.length; u += 1) {
      const group = Number(matrix.userIds[u].slice(1)) < 20 ? 0 : 10;
      const seen = new Set(
        Array.from(
          matrix.byUser.index.subarray(matrix.byUser.start[u], matrix.byUser.start[u + 1]),
        ),
      );
      const unseen = matrix.itemIds
        .map((id, i) => ({ i, n: Number(id.slice(1)) }))
        .filter(({ i }) => !seen.has(i));
      const own = unseen.filter(({ n }) => n >= group && n < group + 10);
      const other = unseen.filter(({ n }) => n < group || n >= group + 10);
      const worstOwn = Math.min(...own.map(({ i }) => score(u, i)));
      const bestOther = Math.max(...other.map(({ i }) => score(u, i)));
      if (own.length > 0) expect(worstOwn).toBeGreaterThan(bestOther);
    }
  });

  test('user vectors converge to the exact fold-in against the final item factors', () => {
    const exact = trainIals(matrix, { ...PARAMS, cgSteps: k, iterations: 40 });
    const scaledGram = gram(exact.items, matrix.itemIds.length, k).map(
      (v) => v * PARAMS.unobservedWeight,
    );
    // The last half-step solved items, so users lag one half-step: compare loosely.
    for (let u = 0; u < 5; u += 1) {
      const entries = [];
      for (let e = matrix.byUser.start[u]; e < matrix.byUser.start[u + 1]; e += 1) {
        entries.push({ item: matrix.byUser.index[e], weight: matrix.byUser.value[e] });
      }
      const folded = foldIn(exact.items, scaledGram, matrix.itemIds.length, entries, PARAMS);
      for (let j = 0; j < k; j += 1) {
        const error = Math.abs(exact.users[u * k + j] - folded[j]);
        expect(error).toBeLessThan(0.02 * Math.max(1, Math.abs(folded[j])));
      }
    }
  });

  test('is deterministic for a seed', () => {
    expect(trainIals(matrix, PARAMS).items).toEqual(factors.items);
  });

  test('a dislike pushes the item below where it would have been', () => {
    const k2 = PARAMS.factors;
    const y = factors.items;
    const scaledGram = gram(y, matrix.itemIds.length, k2).map((v) => v * PARAMS.unobservedWeight);
    const item = matrix.itemIndex.get('i3') as number;
    const liked = [0, 1, 2].map((n) => ({
      item: matrix.itemIndex.get(`i${n}`) as number,
      weight: 1,
    }));
    const neutral = foldIn(y, scaledGram, matrix.itemIds.length, liked, PARAMS);
    const disliking = foldIn(
      y,
      scaledGram,
      matrix.itemIds.length,
      [...liked, { item, weight: -6 }],
      PARAMS,
    );
    expect(rowDot(y, item, disliking, k2)).toBeLessThan(rowDot(y, item, neutral, k2));
  });
});
