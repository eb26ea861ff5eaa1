/**
 * The Prisma client, connected through the node-postgres driver adapter
 * (Prisma 7 ships no query engine binary). One per process.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export type Db = PrismaClient;

export function createDb(url: string, poolSize: number): Db {
  const adapter = new PrismaPg({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 5000, timeout: 60_000 } });
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
