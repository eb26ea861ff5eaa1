/**
 * The PostgreSQL connections of a process: one node-postgres pool, shared
 * by the Prisma client (through the driver adapter; Prisma 7 ships no query
 * engine binary) and by the pipeline's batched SQL, which talks to the pool
 * directly (see FeatureRepository).
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
import { PrismaClient } from './generated/client';

/** The Prisma client, with the pool it runs on. */
export type Db = PrismaClient & { readonly pool: Pool };

export type { PoolClient };

export function createDb(url: string, poolSize: number): Db {
  const pool = new Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    // Every query here is short. JIT compilation costs tens of milliseconds,
    // and the planner turned it on for the per-batch reads (their estimated
    // cost grows with the batch), where it was a third of the statement.
    options: '-c jit=off',
  });
  // An idle client that loses its server must not take the process down.
  pool.on('error', () => undefined);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const client = new PrismaClient({
    adapter,
    transactionOptions: { maxWait: 5000, timeout: 60_000 },
  });
  return Object.assign(client, { pool });
}

/**
 * Runs `work` in one transaction on a pooled connection: commits what it
 * returns, rolls back what it throws. A connection whose transaction failed
 * mid-way is discarded rather than returned to the pool.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // The pool listens for errors on idle clients only. A connection lost
  // while checked out, between two statements, would otherwise be an
  // unhandled 'error' event, which ends the process; here it fails the
  // next statement instead, and the transaction with it.
  const lost = (error: Error) => (broken = error);
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = error as Error;
    await client.query('ROLLBACK').then(
      () => (broken = undefined),
      () => undefined,
    );
    throw error;
  } finally {
    client.off('error', lost);
    client.release(broken);
  }
}

/** True when PostgreSQL answers a trivial query within the timeout. */
export async function pingDb(db: Db, timeoutMs = 1000): Promise<boolean> {
  try {
    await withTimeout(db.$queryRawUnsafe('SELECT 1'), timeoutMs);
    return true;
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Anything that runs a query: the pool, or one connection inside a transaction. */
export type Queryable = Pick<Pool, 'query'> | PoolClient;

/** The rows of one query. */
export async function rows<T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  const result = await db.query(sql, params);
  return result.rows as T[];
}
