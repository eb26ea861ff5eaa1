/**
 * Bit positions of a Bloom filter: a set of strings kept as bits, which can
 * answer "certainly not a member" but only "probably a member". An id is
 * a member only if all of its positions are set; a false "probably" costs
 * the caller a lookup elsewhere, never a wrong answer.
 *
 * Positions come from two 32-bit hashes of the id (double hashing: the
 * i-th position is h1 + i × h2, Kirsch and Mitzenmacher 2006), so every
 * process that shares a filter must use this function and the same shape.
 */

export interface BloomShape {
  /** Bits in the filter: a power of two, at most 2^32 (Redis's limit). */
  readonly bits: number;
  /** Positions per id. */
  readonly hashes: number;
}

/**
 * The chance that an id never added reads as a member, once `members` ids
 * are in: (1 - e^(-k n / m))^k.
 */
export function falsePositiveRate(shape: BloomShape, members: number): number {
  return (1 - Math.exp((-shape.hashes * members) / shape.bits)) ** shape.hashes;
}

/** The `shape.hashes` bit positions of `id`, each in [0, shape.bits). */
export function bloomPositions(id: string, shape: BloomShape): number[] {
  const mask = shape.bits - 1;
  const h1 = mix(fnv1a(id, 0x811c9dc5));
  // Odd, so that with a power-of-two size the positions of one id differ.
  const h2 = mix(fnv1a(id, 0x01000193)) | 1;
  const positions: number[] = [];
  for (let i = 0; i < shape.hashes; i += 1) {
    positions.push(((h1 + Math.imul(i, h2)) & mask) >>> 0);
  }
  return positions;
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`, from `basis`. */
function fnv1a(text: string, basis: number): number {
  let hash = basis;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

/** MurmurHash3's finaliser: spreads every input bit over the low bits too. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Checks a shape's bits are a power of two within Redis's bitmap limit. */
export function checkShape(shape: BloomShape): BloomShape {
  const { bits, hashes } = shape;
  if (!Number.isInteger(Math.log2(bits)) || bits < 8 || bits > 2 ** 32) {
    throw new RangeError(`a Bloom filter's bits must be a power of two up to 2^32, not ${bits}`);
  }
  if (!Number.isInteger(hashes) || hashes < 1 || hashes > 32) {
    throw new RangeError(`a Bloom filter's hashes must be 1 to 32, not ${hashes}`);
  }
  return shape;
}
