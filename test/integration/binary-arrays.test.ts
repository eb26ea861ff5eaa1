/**
 * Arrays sent in PostgreSQL's binary format (src/storage/postgres/binary-arrays.ts)
 * arrive as the values they were made from: nulls, empty arrays, extremes,
 * and text that an array literal would have to quote or escape.
 */
import { Client } from 'pg';
import {
  float8Array,
  int4Array,
  int8Array,
  textArray,
} from '../../src/storage/postgres/binary-arrays';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

let env: IsolatedEnv;
let client: Client;

beforeAll(async () => {
  env = await isolatedEnv();
  client = new Client({ connectionString: env.config.postgres.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await env?.dropDatabase();
});

async function roundTrip(sql: string, param: Buffer): Promise<unknown> {
  const found = await client.query<{ a: unknown }>(`SELECT ${sql} AS a`, [param]);
  return found.rows[0].a;
}

test('float8[] keeps every value exactly, nulls included', async () => {
  const values = [0, -0.5, 12.345678901234567, 1e-300, -1.7976931348623157e308, null, 3];
  const back = (await roundTrip('$1::float8[]', float8Array(values))) as Array<number | null>;
  expect(back).toEqual(values);
  const text = await client.query<{ a: string }>('SELECT ($1::float8[])[3]::text AS a', [
    float8Array(values),
  ]);
  expect(text.rows[0].a).toBe('12.345678901234567');
});

test('int4[] and int8[] take whole numbers in range and refuse others', async () => {
  expect(await roundTrip('$1::int4[]', int4Array([1, -2, 2 ** 31 - 1, null]))).toEqual([
    1,
    -2,
    2 ** 31 - 1,
    null,
  ]);
  const big = await client.query<{ a: string[] }>('SELECT $1::int8[]::text[] AS a', [
    int8Array([Number.MAX_SAFE_INTEGER, -7, null]),
  ]);
  expect(big.rows[0].a).toEqual([String(Number.MAX_SAFE_INTEGER), '-7', null]);
  expect(() => int4Array([1.5])).toThrow(RangeError);
  expect(() => int4Array([2 ** 31])).toThrow(RangeError);
  expect(() => int8Array([2 ** 60])).toThrow(RangeError);
});

test('text[] carries quotes, backslashes, braces, commas, NULL-like words and UTF-8', async () => {
  const values = ['plain', 'a "quoted" \\ back', '{x,y}', 'NULL', '', 'é ∑ 😀', null, ' sp '];
  expect(await roundTrip('$1::text[]', textArray(values))).toEqual(values);
  const json = JSON.stringify([['e1', 'i "2"', 'VIEW', null, 1.5, 1700000000000]]);
  const parsed = await client.query<{ a: unknown }>('SELECT (($1::text[])[1])::json AS a', [
    textArray([json]),
  ]);
  expect(parsed.rows[0].a).toEqual(JSON.parse(json));
});

test('empty arrays of every type', async () => {
  expect(await roundTrip('$1::float8[]', float8Array([]))).toEqual([]);
  expect(await roundTrip('$1::int4[]', int4Array([]))).toEqual([]);
  expect(await roundTrip('$1::text[]', textArray([]))).toEqual([]);
  const n = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM unnest($1::text[], $2::float8[]) AS u(a, b)',
    [textArray([]), float8Array([])],
  );
  expect(n.rows[0].n).toBe(0);
});
