/**
 * One-dimensional PostgreSQL arrays in the binary wire format (what
 * `array_send` writes and `array_recv` reads), for the pipeline's batched
 * statements.
 *
 * node-postgres sends a Buffer parameter in binary format, so a statement
 * that casts it (`$1::float8[]`) receives the array as it stands. Given a
 * plain JavaScript array instead, node-postgres writes an array literal,
 * quoting and escaping every element, and PostgreSQL parses it back: for the
 * thousands of values of a batch, both cost more than the statement's own
 * work on them. Numbers also travel exactly, with no decimal round trip.
 *
 * Layout: ndim, has-nulls flag, element type OID, then per dimension its
 * length and lower bound (1), then per element a 4-byte length (-1 for
 * NULL) and the element's own binary form. All integers are big-endian.
 */

const OID = { int4: 23, int8: 20, float8: 701, text: 25 } as const;

const HEADER_BYTES = 20;

type Nullable<T> = T | null | undefined;

function empty(oid: number): Buffer {
  const buffer = Buffer.alloc(12);
  buffer.writeInt32BE(0, 0);
  buffer.writeInt32BE(0, 4);
  buffer.writeInt32BE(oid, 8);
  return buffer;
}

function header(buffer: Buffer, oid: number, length: number, hasNulls: boolean): number {
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNulls ? 1 : 0, 4);
  buffer.writeInt32BE(oid, 8);
  buffer.writeInt32BE(length, 12);
  buffer.writeInt32BE(1, 16);
  return HEADER_BYTES;
}

// Indexed loops throughout: a for-of over these arrays allocated an iterator
// result per element, a tenth of the worker's garbage.

function countNulls(values: ReadonlyArray<unknown>): number {
  let nulls = 0;
  for (let i = 0; i < values.length; i += 1) {
    if (values[i] === null || values[i] === undefined) nulls += 1;
  }
  return nulls;
}

/** Fixed-width elements: `width` bytes each, written by `write`. */
function fixed<T>(
  oid: number,
  width: number,
  values: ReadonlyArray<Nullable<T>>,
  write: (buffer: Buffer, value: T, offset: number) => void,
): Buffer {
  if (values.length === 0) return empty(oid);
  const nulls = countNulls(values);
  const buffer = Buffer.allocUnsafe(
    HEADER_BYTES + 4 * values.length + width * (values.length - nulls),
  );
  let offset = header(buffer, oid, values.length, nulls > 0);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (value === null || value === undefined) {
      buffer.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      buffer.writeInt32BE(width, offset);
      write(buffer, value, offset + 4);
      offset += 4 + width;
    }
  }
  return buffer;
}

/** A `float8[]`. */
export function float8Array(values: ReadonlyArray<Nullable<number>>): Buffer {
  return fixed(OID.float8, 8, values, (buffer, value, offset) =>
    buffer.writeDoubleBE(value, offset),
  );
}

/** An `int4[]`; every value must be a whole number in range (no silent truncation). */
export function int4Array(values: ReadonlyArray<Nullable<number>>): Buffer {
  return fixed(OID.int4, 4, values, (buffer, value, offset) => {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw new RangeError(`not an int4: ${value}`);
    }
    buffer.writeInt32BE(value, offset);
  });
}

/** An `int8[]` of safe integers. */
export function int8Array(values: ReadonlyArray<Nullable<number>>): Buffer {
  return fixed(OID.int8, 8, values, (buffer, value, offset) => {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    buffer.writeBigInt64BE(BigInt(value), offset);
  });
}

/** A `text[]`, each element as UTF-8. */
export function textArray(values: ReadonlyArray<Nullable<string>>): Buffer {
  if (values.length === 0) return empty(OID.text);
  let bytes = HEADER_BYTES;
  let nulls = 0;
  const lengths = new Array<number>(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (value === null || value === undefined) {
      nulls += 1;
      lengths[i] = -1;
      bytes += 4;
    } else {
      lengths[i] = Buffer.byteLength(value, 'utf8');
      bytes += 4 + lengths[i];
    }
  }
  const buffer = Buffer.allocUnsafe(bytes);
  let offset = header(buffer, OID.text, values.length, nulls > 0);
  for (let i = 0; i < values.length; i += 1) {
    buffer.writeInt32BE(lengths[i], offset);
    offset += 4;
    if (lengths[i] > 0) offset += buffer.write(values[i] as string, offset, lengths[i], 'utf8');
  }
  return buffer;
}
