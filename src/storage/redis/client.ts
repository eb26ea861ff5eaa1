/**
 * The ioredis connection. Commands fail fast while Redis is unreachable (no
 * offline queue, a command timeout), so callers can fall back to PostgreSQL
 * instead of hanging; the client keeps reconnecting in the background.
 */
import Redis from 'ioredis';

export type RedisClient = Redis;

export function createRedis(url: string, commandTimeoutMs: number): RedisClient {
  return new Redis(url, {
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  });
}

export async function pingRedis(redis: RedisClient): Promise<boolean> {
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}
