/**
 * Item-to-item similarity: cosine on the user-item matrix, with shrinkage,
 * keeping each item's top-k neighbours.
 *
 *   sim(i, j) = Σ_u r_ui r_uj / (‖r_i‖ ‖r_j‖ + shrinkage)
 *
 * r_ui is ln(1 + w/ε) for a positive net weight w and 0 otherwise, the same
 * shaping the factorisation's confidence uses. Shrinkage pulls similarities
 * resting on few common users towards 0 (Koren, 2008).
 *
 * Cost: Σ_u n_u² for the co-occurrences, computed one item at a time into a
 * dense accumulator, so memory stays O(items + k·items).
 */
import type { InteractionMatrix, SparseRows } from './matrix';

export interface ItemKnnParams {
  neighbours: number;
  shrinkage: number;
  epsilon: number;
}

export const DEFAULT_ITEM_KNN_PARAMS: ItemKnnParams = {
  neighbours: 50,
  shrinkage: 10,
  epsilon: 1,
};

/** Each item's neighbours, best first: a SparseRows whose values are similarities. */
export type Neighbours = SparseRows;

export function trainItemKnn(matrix: InteractionMatrix, params: ItemKnnParams): Neighbours {
  const nItems = matrix.itemIds.length;
  const shaped = (w: number) => (w > 0 ? Math.log1p(w / params.epsilon) : 0);
  const { byUser, byItem } = matrix;
  const norm = new Float64Array(nItems);
  for (let i = 0; i < nItems; i += 1) {
    let sum = 0;
    for (let e = byItem.start[i]; e < byItem.start[i + 1]; e += 1)
      sum += shaped(byItem.value[e]) ** 2;
    norm[i] = Math.sqrt(sum);
  }

  const accumulator = new Float64Array(nItems);
  const touched = new Int32Array(nItems);
  const start = new Int32Array(nItems + 1);
  const index: number[] = [];
  const value: number[] = [];
  for (let i = 0; i < nItems; i += 1) {
    start[i] = index.length;
    if (norm[i] === 0) continue;
    let nTouched = 0;
    for (let e = byItem.start[i]; e < byItem.start[i + 1]; e += 1) {
      const rui = shaped(byItem.value[e]);
      if (rui === 0) continue;
      const u = byItem.index[e];
      for (let f = byUser.start[u]; f < byUser.start[u + 1]; f += 1) {
        const j = byUser.index[f];
        if (j === i) continue;
        const ruj = shaped(byUser.value[f]);
        if (ruj === 0) continue;
        if (accumulator[j] === 0) touched[nTouched++] = j;
        accumulator[j] += rui * ruj;
      }
    }
    const scored: Array<[number, number]> = [];
    for (let t = 0; t < nTouched; t += 1) {
      const j = touched[t];
      scored.push([j, accumulator[j] / (norm[i] * norm[j] + params.shrinkage)]);
      accumulator[j] = 0;
    }
    scored.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [j, similarity] of scored.slice(0, params.neighbours)) {
      index.push(j);
      value.push(similarity);
    }
  }
  start[nItems] = index.length;
  return { start, index: Int32Array.from(index), value: Float32Array.from(value) };
}
