/**
 * EASE, an item-item model with a closed form (Steck, "Embarrassingly
 * shallow autoencoders for sparse data", 2019):
 *
 *   P = (XᵀX + λI)⁻¹,   B_ij = −P_ij / P_jj,   B_jj = 0
 *
 * X is the binary matrix of positive interactions. A user's scores are
 * x_u B: every liked item votes for the others with a learned weight.
 *
 * Its cost grows with the cube of the number of items and its weights take
 * items² floats, so it is trained only while the catalogue is at most
 * `maxItems` (see DEFAULT_EASE_PARAMS); larger catalogues rely on iALS and
 * item-kNN.
 */
import type { InteractionMatrix } from './matrix';

export interface EaseParams {
  regularization: number;
  /** Catalogues larger than this skip EASE. */
  maxItems: number;
}

export const DEFAULT_EASE_PARAMS: EaseParams = {
  regularization: 400,
  maxItems: 4000,
};

/** items × items, row-major: weights[i * n + j] is how much liking i says about j. */
export interface EaseWeights {
  items: number;
  weights: Float32Array;
}

export function trainEase(matrix: InteractionMatrix, params: EaseParams): EaseWeights | null {
  const n = matrix.itemIds.length;
  if (n === 0 || n > params.maxItems) return null;
  const { byUser } = matrix;

  // G = XᵀX + λI, lower triangle only.
  const g = new Float64Array(n * n);
  const liked: number[] = [];
  for (let u = 0; u + 1 < byUser.start.length; u += 1) {
    liked.length = 0;
    for (let e = byUser.start[u]; e < byUser.start[u + 1]; e += 1) {
      if (byUser.value[e] > 0) liked.push(byUser.index[e]);
    }
    for (let a = 0; a < liked.length; a += 1) {
      const row = liked[a] * n;
      for (let b = 0; b <= a; b += 1) g[row + liked[b]] += 1;
    }
  }
  for (let i = 0; i < n; i += 1) g[i * n + i] += params.regularization;

  const p = invertSymmetric(g, n);
  const weights = new Float32Array(n * n);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      if (i !== j) weights[i * n + j] = -p[i * n + j] / p[j * n + j];
    }
  }
  return { items: n, weights };
}

/**
 * Inverts a symmetric positive-definite matrix given by its lower triangle
 * (overwritten), through its Cholesky factor: A⁻¹ = L⁻ᵀ L⁻¹. Every inner
 * loop runs along a row, which is what keeps it fast on typed arrays.
 */
export function invertSymmetric(a: Float64Array, n: number): Float64Array {
  // A = L Lᵀ, L written over the lower triangle of a.
  for (let i = 0; i < n; i += 1) {
    const rowI = i * n;
    for (let j = 0; j <= i; j += 1) {
      const rowJ = j * n;
      let sum = a[rowI + j];
      for (let q = 0; q < j; q += 1) sum -= a[rowI + q] * a[rowJ + q];
      if (i === j) {
        if (!(sum > 0)) throw new Error('matrix is not positive definite');
        a[rowI + i] = Math.sqrt(sum);
      } else {
        a[rowI + j] = sum / a[rowJ + j];
      }
    }
  }
  // W = L⁻¹ (lower triangular), row by row: W_i = (e_i − Σ_{q<i} L_iq W_q) / L_ii.
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    const rowI = i * n;
    w[rowI + i] = 1;
    for (let q = 0; q < i; q += 1) {
      const l = a[rowI + q];
      if (l === 0) continue;
      const rowQ = q * n;
      for (let c = 0; c <= q; c += 1) w[rowI + c] -= l * w[rowQ + c];
    }
    const diagonal = a[rowI + i];
    for (let c = 0; c <= i; c += 1) w[rowI + c] /= diagonal;
  }
  // A⁻¹ = Wᵀ W, accumulated row by row of W into the lower triangle, then mirrored.
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    const rowI = i * n;
    for (let r = 0; r <= i; r += 1) {
      const wr = w[rowI + r];
      if (wr === 0) continue;
      const out = r * n;
      for (let c = 0; c <= r; c += 1) inverse[out + c] += wr * w[rowI + c];
    }
  }
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < r; c += 1) inverse[c * n + r] = inverse[r * n + c];
  }
  return inverse;
}
