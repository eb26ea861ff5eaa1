/**
 * A trained recommendation model as gateways serve it: item factors for
 * fold-in scoring, item neighbours (cosine kNN) for similar items, and EASE
 * weights on catalogues small enough for them. User factors are
 * not kept: a user's vector is always folded in from that user's current
 * interactions, which is what keeps recommendations fresh between
 * trainings and serves users the model never saw.
 *
 * `encodeModel`/`decodeModel` give the compact binary form stored in
 * PostgreSQL: a JSON header, then the typed arrays, little-endian.
 */
import type { EaseParams } from './ease';
import { foldIn, type FoldInEntry, type IalsParams } from './ials';
import type { ItemKnnParams, Neighbours } from './item-knn';
import { gram } from './linear-algebra';
import { tieRanks } from './top-n';

export interface ModelParams {
  ials: IalsParams;
  itemKnn: ItemKnnParams;
  ease: EaseParams;
}

export interface TrainedModel {
  params: ModelParams;
  itemIds: string[];
  /** items × factors, row-major. */
  itemFactors: Float32Array;
  neighbours: Neighbours;
  /** items × items EASE weights, or null when the catalogue was too large for EASE. */
  ease: Float32Array | null;
}

/** An item the user interacted with, and the net weight of those interactions. */
export interface WeightedItem {
  itemId: string;
  weight: number;
}

/** Read-only serving view of a model, with what every request reuses precomputed. */
export class ServingModel {
  readonly itemIndex: Map<string, number>;
  readonly factors: number;
  /** A fixed order among items with equal scores. */
  readonly tieRank: Float64Array;
  private readonly scaledGram: Float64Array;

  constructor(readonly model: TrainedModel) {
    this.factors = model.params.ials.factors;
    this.tieRank = tieRanks(model.itemIds.length, model.params.ials.seed);
    this.itemIndex = new Map(model.itemIds.map((id, i) => [id, i]));
    this.scaledGram = gram(model.itemFactors, model.itemIds.length, this.factors);
    const a0 = model.params.ials.unobservedWeight;
    for (let e = 0; e < this.scaledGram.length; e += 1) this.scaledGram[e] *= a0;
  }

  get itemCount(): number {
    return this.model.itemIds.length;
  }

  /** The user's latent vector from these interactions; items the model lacks are ignored. */
  foldIn(interactions: readonly WeightedItem[]): Float64Array {
    const entries: FoldInEntry[] = [];
    for (const { itemId, weight } of interactions) {
      const item = this.itemIndex.get(itemId);
      if (item !== undefined && weight !== 0) entries.push({ item, weight });
    }
    return foldIn(
      this.model.itemFactors,
      this.scaledGram,
      this.itemCount,
      entries,
      this.model.params.ials,
    );
  }

  /** Every item's model score for a user vector, indexed like `itemIds`. */
  scores(vector: Float64Array): Float64Array {
    const k = this.factors;
    const y = this.model.itemFactors;
    const out = new Float64Array(this.itemCount);
    for (let i = 0; i < out.length; i += 1) {
      let sum = 0;
      const offset = i * k;
      for (let j = 0; j < k; j += 1) sum += y[offset + j] * vector[j];
      out[i] = sum;
    }
    return out;
  }

  /**
   * Item-to-item scores from the user's positive interactions: each liked
   * item lends its neighbours their similarity, scaled like training scaled
   * weights. `because[j]` is the liked item that gave j the most.
   */
  neighbourScores(interactions: readonly WeightedItem[]): {
    scores: Float64Array;
    because: Int32Array;
  } {
    const { start, index, value } = this.model.neighbours;
    const epsilon = this.model.params.itemKnn.epsilon;
    const scores = new Float64Array(this.itemCount);
    const best = new Float64Array(this.itemCount);
    const because = new Int32Array(this.itemCount).fill(-1);
    for (const { itemId, weight } of interactions) {
      const i = this.itemIndex.get(itemId);
      if (i === undefined || weight <= 0) continue;
      const r = Math.log1p(weight / epsilon);
      for (let e = start[i]; e < start[i + 1]; e += 1) {
        const share = r * value[e];
        const j = index[e];
        scores[j] += share;
        if (share > best[j]) {
          best[j] = share;
          because[j] = i;
        }
      }
    }
    return { scores, because };
  }

  /**
   * EASE scores from the user's positive interactions (Σ over liked items of
   * their weight rows), or null when the model has no EASE part.
   * `because[j]` is the liked item that gave j the most.
   */
  easeScores(
    interactions: readonly WeightedItem[],
  ): { scores: Float64Array; because: Int32Array } | null {
    const weights = this.model.ease;
    if (!weights) return null;
    const n = this.itemCount;
    const scores = new Float64Array(n);
    const best = new Float64Array(n).fill(-Infinity);
    const because = new Int32Array(n).fill(-1);
    for (const { itemId, weight } of interactions) {
      const i = this.itemIndex.get(itemId);
      if (i === undefined || weight <= 0) continue;
      const row = i * n;
      for (let j = 0; j < n; j += 1) {
        const share = weights[row + j];
        scores[j] += share;
        if (share > best[j]) {
          best[j] = share;
          because[j] = i;
        }
      }
    }
    return { scores, because };
  }

  /** Cosine of two items' factor vectors; null when the model lacks either or one is zero. */
  factorCosine(a: string, b: string): number | null {
    const i = this.itemIndex.get(a);
    const j = this.itemIndex.get(b);
    if (i === undefined || j === undefined) return null;
    const k = this.factors;
    const y = this.model.itemFactors;
    let dot = 0;
    let ni = 0;
    let nj = 0;
    for (let f = 0; f < k; f += 1) {
      dot += y[i * k + f] * y[j * k + f];
      ni += y[i * k + f] ** 2;
      nj += y[j * k + f] ** 2;
    }
    return ni > 0 && nj > 0 ? dot / Math.sqrt(ni * nj) : null;
  }

  /** An item's stored neighbours, most similar first. */
  neighboursOf(itemId: string): Array<{ itemId: string; similarity: number }> {
    const i = this.itemIndex.get(itemId);
    if (i === undefined) return [];
    const { start, index, value } = this.model.neighbours;
    const out: Array<{ itemId: string; similarity: number }> = [];
    for (let e = start[i]; e < start[i + 1]; e += 1) {
      out.push({ itemId: this.model.itemIds[index[e]], similarity: value[e] });
    }
    return out;
  }
}

const MAGIC = 'RFM1';

interface Header {
  params: ModelParams;
  itemIds: string[];
  neighbourCount: number;
  hasEase: boolean;
}

export function encodeModel(model: TrainedModel): Buffer {
  const header: Header = {
    params: model.params,
    itemIds: model.itemIds,
    neighbourCount: model.neighbours.index.length,
    hasEase: model.ease !== null,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = align(8 + json.length);
  const parts = [
    model.itemFactors,
    model.neighbours.start,
    model.neighbours.index,
    model.neighbours.value,
    ...(model.ease ? [model.ease] : []),
  ];
  const out = Buffer.alloc(headerEnd + parts.reduce((n, p) => n + p.byteLength, 0));
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  let at = headerEnd;
  for (const part of parts) {
    Buffer.from(part.buffer, part.byteOffset, part.byteLength).copy(out, at);
    at += part.byteLength;
  }
  return out;
}

export function decodeModel(bytes: Uint8Array): TrainedModel {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 8 || buffer.toString('ascii', 0, 4) !== MAGIC) {
    throw new Error('not a recflow model (bad magic)');
  }
  const jsonLength = buffer.readUInt32LE(4);
  const header = JSON.parse(buffer.toString('utf8', 8, 8 + jsonLength)) as Header;
  const nItems = header.itemIds.length;
  const k = header.params.ials.factors;
  // Copy into a fresh, aligned ArrayBuffer so typed views need no alignment luck.
  const body = new Uint8Array(buffer.subarray(align(8 + jsonLength))).buffer;
  let at = 0;
  const take = <T>(make: (b: ArrayBuffer, offset: number, length: number) => T, n: number) => {
    const view = make(body, at, n);
    at += n * 4;
    return view;
  };
  const easeCount = header.hasEase ? nItems * nItems : 0;
  const expected = (nItems * k + nItems + 1 + 2 * header.neighbourCount + easeCount) * 4;
  if (body.byteLength !== expected) {
    throw new Error(`model body is ${body.byteLength} bytes, expected ${expected}`);
  }
  const itemFactors = take((b, o, n) => new Float32Array(b, o, n), nItems * k);
  const start = take((b, o, n) => new Int32Array(b, o, n), nItems + 1);
  const index = take((b, o, n) => new Int32Array(b, o, n), header.neighbourCount);
  const value = take((b, o, n) => new Float32Array(b, o, n), header.neighbourCount);
  const ease = header.hasEase ? take((b, o, n) => new Float32Array(b, o, n), easeCount) : null;
  const model = {
    params: header.params,
    itemIds: header.itemIds,
    itemFactors,
    neighbours: { start, index, value },
    ease,
  };
  checkModel(model);
  return model;
}

/**
 * Refuses a model that decodes but cannot be served safely: a gateway keeps
 * its current model rather than swap in one that would loop, read out of
 * range, or score every item NaN.
 */
export function checkModel(model: TrainedModel): void {
  const fail = (why: string) => {
    throw new Error(`model is inconsistent: ${why}`);
  };
  const n = model.itemIds.length;
  const k = model.params?.ials?.factors;
  if (n === 0) fail('it knows no item');
  if (!Number.isInteger(k) || k < 1) fail('the factor count is not a positive whole number');
  if (new Set(model.itemIds).size !== n) fail('an item id appears twice');
  if (model.itemIds.some((id) => typeof id !== 'string' || id.length === 0))
    fail('an item id is empty');
  if (!model.itemFactors.every(Number.isFinite)) fail('a factor is not a finite number');
  const { start, index, value } = model.neighbours;
  if (start[0] !== 0 || start[n] !== index.length) fail('neighbour offsets do not span the list');
  for (let i = 0; i < n; i += 1) {
    if (start[i + 1] < start[i]) fail('neighbour offsets go backwards');
  }
  for (let e = 0; e < index.length; e += 1) {
    if (index[e] < 0 || index[e] >= n) fail('a neighbour index is out of range');
    if (!Number.isFinite(value[e])) fail('a similarity is not a finite number');
  }
  if (model.ease && !model.ease.every(Number.isFinite)) fail('an EASE weight is not finite');
}

function align(n: number): number {
  return Math.ceil(n / 8) * 8;
}
