/**
 * The Lua scripts of the hot copy, registered as ioredis commands. Each runs
 * atomically inside Redis, and together they carry the rules that keep
 * every write idempotent (hot-store.ts): a record is replaced only by a
 * higher version, seen lists only grow, and sorted-set scores only grow.
 * The user script is in user-script.ts, the item and sorted-set scripts in
 * item-scripts.ts.
 */
import type { Result } from 'ioredis';
import type { RedisClient } from './client';
import { FILL_POPULAR, SET_IF_NEWER, TRIM_TO_TOP, WRITE_ITEMS } from './item-scripts';
import { WRITE_USERS } from './user-script';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    recflowSetIfNewer(
      key: string,
      version: number,
      value: string,
      ttl: number,
    ): Result<number, Context>;
    recflowTrimToTop(key: string, keep: number, sentinel: string): Result<number, Context>;
    recflowDeleteIfEqual(key: string, value: string): Result<number, Context>;
    /** Arguments: the number of keys, the keys, then WRITE_USERS's ARGV. */
    recflowWriteUsers(...args: Array<string | number>): Result<number, Context>;
    /** Arguments: the number of keys, the keys, then WRITE_ITEMS's ARGV. */
    recflowWriteItems(...args: Array<string | number>): Result<number, Context>;
    /** Arguments: the number of keys, the keys, then FILL_POPULAR's ARGV. */
    recflowFillPopular(...args: Array<string | number>): Result<number, Context>;
  }
}

/** Deletes KEYS[1] if it holds exactly ARGV[1]; 1 if it did. */
const DELETE_IF_EQUAL = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Registers the scripts as commands on a client (once per client). */
export function defineScripts(redis: RedisClient): void {
  redis.defineCommand('recflowSetIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
  redis.defineCommand('recflowTrimToTop', { numberOfKeys: 1, lua: TRIM_TO_TOP });
  redis.defineCommand('recflowDeleteIfEqual', { numberOfKeys: 1, lua: DELETE_IF_EQUAL });
  redis.defineCommand('recflowWriteUsers', { lua: WRITE_USERS });
  redis.defineCommand('recflowWriteItems', { lua: WRITE_ITEMS });
  redis.defineCommand('recflowFillPopular', { lua: FILL_POPULAR });
}
