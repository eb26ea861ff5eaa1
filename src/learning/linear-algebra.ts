/**
 * The little dense linear algebra the models need, on row-major
 * Float64Arrays: Gram matrices, Cholesky solves and dot products.
 */

/** Returns AᵀA for an n×k row-major matrix A (k×k, symmetric). */
export function gram(a: ArrayLike<number>, n: number, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let r = 0; r < n; r += 1) {
    const row = r * k;
    for (let i = 0; i < k; i += 1) {
      const ai = a[row + i];
      if (ai === 0) continue;
      const outRow = i * k;
      for (let j = i; j < k; j += 1) out[outRow + j] += ai * a[row + j];
    }
  }
  for (let i = 0; i < k; i += 1) for (let j = 0; j < i; j += 1) out[i * k + j] = out[j * k + i];
  return out;
}

/**
 * Solves A x = b in place for a symmetric positive-definite k×k matrix A.
 * Only A's lower triangle is read, and it is overwritten by the Cholesky
 * factor. Returns false when A is not positive definite, leaving `b`
 * unspecified.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, k: number): boolean {
  for (let j = 0; j < k; j += 1) {
    const rowJ = j * k;
    let diagonal = a[rowJ + j];
    for (let p = 0; p < j; p += 1) diagonal -= a[rowJ + p] * a[rowJ + p];
    if (!(diagonal > 0)) return false;
    const ljj = Math.sqrt(diagonal);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < k; i += 1) {
      const rowI = i * k;
      let sum = a[rowI + j];
      for (let p = 0; p < j; p += 1) sum -= a[rowI + p] * a[rowJ + p];
      a[rowI + j] = sum / ljj;
    }
  }
  // L y = b, then Lᵀ x = y.
  for (let i = 0; i < k; i += 1) {
    let sum = b[i];
    for (let p = 0; p < i; p += 1) sum -= a[i * k + p] * b[p];
    b[i] = sum / a[i * k + i];
  }
  for (let i = k - 1; i >= 0; i -= 1) {
    let sum = b[i];
    for (let p = i + 1; p < k; p += 1) sum -= a[p * k + i] * b[p];
    b[i] = sum / a[i * k + i];
  }
  return true;
}

/** Dot product of row `r` of an n×k matrix with a k-vector. */
export function rowDot(m: ArrayLike<number>, r: number, x: ArrayLike<number>, k: number): number {
  const offset = r * k;
  let sum = 0;
  for (let j = 0; j < k; j += 1) sum += m[offset + j] * x[j];
  return sum;
}
