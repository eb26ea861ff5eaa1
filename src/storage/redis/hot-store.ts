/**
 * Redis, the hot copy of the features.
 *
 * Layout, under the configured prefix:
 *   u:<user>            user features, "<version>|<json>", without `seen`
 *   s:<user>            set of every item the user interacted with (`seen`)
 *   i:<item>            item record (catalogue and features), same encoding
 *   pop:<WINDOW>[:c:<category>]   sorted set of item -> popularity score
 *   nb:<item>           sorted set of co-visited item -> pair weight
 *
 * Every write is idempotent: records are replaced only by a higher version
 * (a Lua check), and sorted-set scores only grow (ZADD GT). So a late or
 * repeated write after a crash can never move the hot copy backwards.
 *
 * A sorted set that was filled from PostgreSQL carries the member FILLED
 * with score +inf. A set without it may hold only what the pipeline wrote
 * since Redis last restarted, so readers treat it as a miss and refill it.
 */
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../../domain/features';
import { POPULARITY_WINDOWS, popularityScore } from '../../domain/features';
import type { ItemPairWeight } from '../postgres/feature-repository';
import type { RedisClient } from './client';

/** Marks a sorted set as complete; ids can never contain control characters. */
export const FILLED = '\u0000';

const RECORD_TTL_SECONDS = 7 * 86_400;

const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^(%d+)|'))
  if version and version >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/** Keeps the ARGV[1] highest members, plus the sentinel ARGV[2] when the set holds it. */
const TRIM_TO_TOP = `
local sentinel = redis.call('ZSCORE', KEYS[1], ARGV[2]) and 1 or 0
return redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + sentinel + 1))`;

export interface ScoredId {
  itemId: string;
  score: number;
}

/** What a sorted-set read found: its entries, or a miss that needs a refill. */
export type ZsetRead = { filled: true; entries: ScoredId[] } | { filled: false };

import type { Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    recflowSetIfNewer(
      key: string,
      version: number,
      value: string,
      ttl: number,
    ): Result<number, Context>;
    recflowTrimToTop(key: string, keep: number, sentinel: string): Result<number, Context>;
  }
}

export class HotStore {
  constructor(
    private readonly redis: RedisClient,
    readonly prefix: string,
  ) {
    redis.defineCommand('recflowSetIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
    redis.defineCommand('recflowTrimToTop', { numberOfKeys: 1, lua: TRIM_TO_TOP });
  }

  userKey(userId: string): string {
    return `${this.prefix}u:${userId}`;
  }

  itemKey(itemId: string): string {
    return `${this.prefix}i:${itemId}`;
  }

  popularityKey(window: PopularityWindow, category: string | null = null): string {
    return category === null
      ? `${this.prefix}pop:${window}`
      : `${this.prefix}pop:${window}:c:${category}`;
  }

  neighboursKey(itemId: string): string {
    return `${this.prefix}nb:${itemId}`;
  }

  seenKey(userId: string): string {
    return `${this.prefix}s:${userId}`;
  }

  // ---- reads: one round trip each ----

  /**
   * Per id: the record with its seen items, null when known to be absent, or
   * undefined on a miss (no record, or a seen set that was never filled).
   * One pipelined round trip: an MGET and one SMEMBERS per user.
   */
  async getUsers(ids: readonly string[]): Promise<Array<UserFeatures | null | undefined>> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    pipeline.mget(...ids.map((id) => this.userKey(id)));
    for (const id of ids) pipeline.smembers(this.seenKey(id));
    const replies = (await pipeline.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    const records = replies[0][1] as Array<string | null>;
    return ids.map((_, i) => {
      const record = decode<UserFeatures>(records[i]);
      if (!record) return record;
      const seen = replies[i + 1][1] as string[];
      if (!seen.includes(FILLED)) return undefined;
      // Sets are unordered; sorted, the record reads the same as from PostgreSQL.
      return { ...record, seen: seen.filter((id) => id !== FILLED).sort() };
    });
  }

  async getItems(ids: readonly string[]): Promise<Array<ItemFeatures | null | undefined>> {
    if (ids.length === 0) return [];
    const values = await this.redis.mget(...ids.map((id) => this.itemKey(id)));
    return values.map((v) => decode<ItemFeatures>(v));
  }

  /** The top `count` entries of each sorted set, in one pipelined round trip. */
  async getTop(keys: readonly string[], count: number): Promise<ZsetRead[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.zrange(key, 0, count, 'REV', 'WITHSCORES');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return parseTop(reply as string[]);
    });
  }

  // ---- writes: pipelined, idempotent ----

  async writeRecords(
    users: readonly UserFeatures[],
    items: readonly ItemFeatures[],
  ): Promise<void> {
    if (users.length === 0 && items.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const user of users) {
      pipeline.recflowSetIfNewer(
        this.userKey(user.userId),
        user.version,
        encode(withoutSeen(user)),
        RECORD_TTL_SECONDS,
      );
    }
    for (const item of items) {
      pipeline.recflowSetIfNewer(
        this.itemKey(item.itemId),
        item.version,
        encode(item),
        RECORD_TTL_SECONDS,
      );
      this.queuePopularity(pipeline, item);
    }
    await execOrThrow(pipeline);
  }

  /** Adds items to users' seen sets. Sets only grow, so repeating this is harmless. */
  async addSeen(interactions: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    if (interactions.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [userId, items] of interactions) {
      if (items.size === 0) continue;
      pipeline.sadd(this.seenKey(userId), ...items);
      pipeline.expire(this.seenKey(userId), RECORD_TTL_SECONDS);
    }
    await execOrThrow(pipeline);
  }

  /** Fills a user's seen set from PostgreSQL's answer and marks it complete. */
  async fillSeen(users: readonly UserFeatures[]): Promise<void> {
    if (users.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const user of users) {
      pipeline.sadd(this.seenKey(user.userId), FILLED, ...user.seen);
      pipeline.expire(this.seenKey(user.userId), RECORD_TTL_SECONDS);
    }
    await execOrThrow(pipeline);
  }

  /** Writes pair weights to both items' neighbour sets and trims them to `keep`. */
  async writeNeighbours(pairs: readonly ItemPairWeight[], keep: number): Promise<void> {
    if (pairs.length === 0) return;
    const pipeline = this.redis.pipeline();
    const touched = new Set<string>();
    for (const pair of pairs) {
      pipeline.zadd(this.neighboursKey(pair.itemA), 'GT', pair.weight, pair.itemB);
      pipeline.zadd(this.neighboursKey(pair.itemB), 'GT', pair.weight, pair.itemA);
      touched.add(pair.itemA);
      touched.add(pair.itemB);
    }
    // Keep the `keep` heaviest neighbours, and the sentinel (+inf) if the set is filled.
    for (const itemId of touched) {
      pipeline.recflowTrimToTop(this.neighboursKey(itemId), keep, FILLED);
    }
    await execOrThrow(pipeline);
  }

  /** Replaces a missing or incomplete sorted set's top with PostgreSQL's answer. */
  async fillTop(key: string, entries: readonly ScoredId[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    const args: Array<string | number> = ['+inf', FILLED];
    for (const entry of entries) args.push(entry.score, entry.itemId);
    pipeline.zadd(key, 'GT', ...args);
    await execOrThrow(pipeline);
  }

  /**
   * Takes items out of the popularity sets of categories they left. Scores
   * only grow, so no later write would ever remove them.
   */
  async leaveCategories(moves: ReadonlyArray<{ itemId: string; left: string[] }>): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const { itemId, left } of moves) {
      for (const window of POPULARITY_WINDOWS) {
        for (const c of left) pipeline.zrem(this.popularityKey(window, c), itemId);
      }
    }
    await execOrThrow(pipeline);
  }

  /**
   * Remembers, briefly, that PostgreSQL has no record for these ids, so that
   * unknown users (cold start) do not cost a query each time. Version 0 loses
   * to any real record the pipeline writes later.
   */
  async writeAbsent(kind: 'user' | 'item', ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      const key = kind === 'user' ? this.userKey(id) : this.itemKey(id);
      pipeline.recflowSetIfNewer(key, 0, ABSENT, ABSENT_TTL_SECONDS);
    }
    await execOrThrow(pipeline);
  }

  private queuePopularity(pipeline: ReturnType<RedisClient['pipeline']>, item: ItemFeatures): void {
    if (!item.available) return;
    for (const window of POPULARITY_WINDOWS) {
      const score = popularityScore(item, window);
      if (score === null) continue;
      pipeline.zadd(this.popularityKey(window), 'GT', score, item.itemId);
      for (const c of item.categories)
        pipeline.zadd(this.popularityKey(window, c), 'GT', score, item.itemId);
    }
  }
}

/** Payload of a remembered absence; see writeAbsent. */
const ABSENT = '0|null';
const ABSENT_TTL_SECONDS = 60;

/** The record as stored: `seen` lives in its own set. */
function withoutSeen(user: UserFeatures): Omit<UserFeatures, 'seen'> {
  const { seen: _seen, ...record } = user;
  return record;
}

export function encode(record: { version: number }): string {
  return `${record.version}|${JSON.stringify(record)}`;
}

export function decode<T>(value: string | null): T | null | undefined {
  if (value === null) return undefined;
  const bar = value.indexOf('|');
  return bar < 0 ? undefined : (JSON.parse(value.slice(bar + 1)) as T);
}

function parseTop(flat: string[]): ZsetRead {
  if (flat.length === 0 || flat[0] !== FILLED) return { filled: false };
  const entries: ScoredId[] = [];
  for (let i = 2; i < flat.length; i += 2)
    entries.push({ itemId: flat[i], score: Number(flat[i + 1]) });
  // Redis orders equal scores by descending member; PostgreSQL (and ranking) by ascending id.
  entries.sort((a, b) => b.score - a.score || byId(a.itemId, b.itemId));
  return { filled: true, entries };
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function execOrThrow(pipeline: ReturnType<RedisClient['pipeline']>): Promise<void> {
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed) throw failed[0];
}
