/**
 * Redis, the hot copy of the features.
 *
 * Layout, under the configured prefix:
 *   u:<user>            the user's record and seen items, one string:
 *                       "<version>|<record>\n<mark>\t<item>\t<item>\t..."
 *                       (see user-codec.ts; the mark says up to which
 *                       version the seen list is complete)
 *   i:<item>            item record (catalogue and features), "<version>|<json>"
 *   pop:<WINDOW>[:c:<category>]   sorted set of item -> popularity score
 *   nb:<item>           sorted set of co-visited item -> pair weight
 *   ku                  the known users: a Bloom filter (bloom.ts) of every
 *                       user PostgreSQL holds features for
 *   mark:<part>         present once a part of the hot copy is built:
 *                       `users` (the filter, trusted only while marked),
 *                       `neighbours` and `popular` (every nb: or pop: set
 *                       filled); build:<part>, the token of the build in
 *                       progress (build-mark.ts; pipeline/hot-copy-parts.ts)
 *
 * Every write is idempotent: records are replaced only by a higher version
 * (a Lua check), seen lists only grow, and sorted-set scores only grow
 * (ZADD GT). So a late or repeated write after a crash can never move the
 * hot copy backwards. This class says what each write holds; hot-writes.ts
 * lays it out in script calls and pipelines.
 *
 * A user's seen items sit in the same string as the record, rather than in
 * a set of their own: a second key, and a Redis 7.0 set of strings (a hash
 * table), cost more than the record itself for a user with a few items.
 * The Lua script that writes a user appends the items it is given that the
 * list lacks, whatever the version, so the list keeps growing even when the
 * record is older than the one stored.
 *
 * A sorted set that was filled from PostgreSQL carries the member FILLED
 * with score +inf; a set without it may hold only what the pipeline wrote
 * since Redis last restarted, so readers treat it as a miss and refill it.
 * A seen list's mark, "F<v>", says it holds every item of every record
 * version up to v (user-script.ts, WRITE_USERS); readers treat a list whose v
 * has not reached its record's version as a miss, and refill it.
 */
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../../domain/features';
import type { ItemPairWeight, VersionedScore } from '../postgres/feature-repository';
import type { RedisClient } from './client';
import { Writes, execOrThrow } from './pipelines';
import {
  FILLED,
  type HotKeys,
  type UserWrite,
  type VersionRange,
  queueItems,
  queueNeighbours,
  queueUsers,
} from './hot-writes';
import { defineScripts } from './scripts';
import { decodeItem } from './item-codec';
import { parseUserValue } from './user-codec';
import { BuildMark } from './build-mark';
import { bitfieldArgs, notHeld } from './known-users';

export interface ScoredId {
  itemId: string;
  score: number;
}

/** What a sorted-set read found: its entries, or a miss that needs a refill. */
export type ZsetRead = { filled: true; entries: ScoredId[] } | { filled: false };

export { FILLED, type VersionRange } from './hot-writes';

export class HotStore implements HotKeys {
  /** The marks of the parts workers build (pipeline/hot-copy-parts.ts). */
  readonly marks: { users: BuildMark; neighbours: BuildMark; popular: BuildMark };

  constructor(
    private readonly redis: RedisClient,
    readonly prefix: string,
  ) {
    defineScripts(redis);
    const mark = (part: string) =>
      new BuildMark(redis, { mark: `${prefix}mark:${part}`, build: `${prefix}build:${part}` });
    this.marks = { users: mark('users'), neighbours: mark('neighbours'), popular: mark('popular') };
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

  /** The known-users filter's bits (known-users.ts). */
  knownUsersKey(): string {
    return `${this.prefix}ku`;
  }

  // ---- reads: one round trip each (a user read that finds no key, two) ----

  /**
   * Per id: the record with its seen items, null when known to be absent, or
   * undefined on a miss (no record, or a seen list that is not complete).
   * An id without a key is known to be absent when the known-users filter
   * is built and does not hold it. One round trip when every id has a key,
   * two when some have none: only those ids are looked up in the filter
   * (`onFilterRead` is told when that second trip is sent).
   */
  async getUsers(
    ids: readonly string[],
    onFilterRead?: () => void,
  ): Promise<Array<UserFeatures | null | undefined>> {
    if (ids.length === 0) return [];
    const values = await this.redis.mget(...ids.map((id) => this.userKey(id)));
    const found = new Array<UserFeatures | null | undefined>(ids.length).fill(undefined);
    const keyless: number[] = [];
    for (let i = 0; i < ids.length; i += 1) {
      const stored = values[i];
      if (stored === null) {
        keyless.push(i);
        continue;
      }
      // null: a remembered absence; undefined: a seen list without a record.
      const value = parseUserValue(ids[i], stored);
      if (!value) found[i] = value;
      else if (value.complete) found[i] = { ...value.record, seen: value.seen };
    }
    if (keyless.length > 0) {
      onFilterRead?.();
      const unknown = await this.neverKnown(keyless.map((i) => ids[i]));
      keyless.forEach((i, k) => (found[i] = unknown[k] ? null : undefined));
    }
    return found;
  }

  /**
   * Per id: true when the known-users filter is built (its mark stands) and
   * does not hold the user, so PostgreSQL has no features for them.
   */
  private async neverKnown(ids: readonly string[]): Promise<boolean[]> {
    const pipeline = this.redis.pipeline();
    pipeline.exists(this.marks.users.keys.mark);
    for (const args of bitfieldArgs('GET', ids)) {
      pipeline.call('BITFIELD_RO', this.knownUsersKey(), ...args);
    }
    const [[, built], ...commands] = await execOrThrow(pipeline);
    if (built !== 1) return new Array<boolean>(ids.length).fill(false);
    return notHeld(
      commands.map(([, reply]) => reply as number[]),
      ids.length,
    );
  }

  async getItems(ids: readonly string[]): Promise<Array<ItemFeatures | null | undefined>> {
    if (ids.length === 0) return [];
    const values = await this.redis.mget(...ids.map((id) => this.itemKey(id)));
    return values.map(decodeItem);
  }

  /**
   * The top `count` entries of each sorted set, in one pipelined round trip.
   * Only sets filled from PostgreSQL (FILLED) are complete; any other set,
   * and a missing one, reads as a miss, to refill. A set the pipeline made
   * may lack entries whose writes were lost, or that expired with it.
   */
  async getTop(keys: readonly string[], count: number): Promise<ZsetRead[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.zrange(key, 0, count, 'REV', 'WITHSCORES');
    const replies = await execOrThrow(pipeline);
    return replies.map(([, reply]) => parseTop(reply as string[]));
  }

  // ---- writes: pipelined, idempotent ----

  /**
   * Writes whatever a batch changed, pipelined (see Writes): user
   * records with the items each user touched (`seen`, grown, never
   * replaced; complete as far as `covers` says), item records and their
   * popularity, and co-visitation pairs (each item's neighbours trimmed to
   * `keep`).
   */
  async writeBatch(batch: {
    users: readonly UserFeatures[];
    seen: ReadonlyMap<string, ReadonlySet<string>>;
    /** Per user, the record versions whose items `seen` holds every one of. */
    covers?: ReadonlyMap<string, VersionRange>;
    items: readonly ItemFeatures[];
    /** Per item, categories it has left (see WRITE_ITEMS). */
    left?: ReadonlyMap<string, Iterable<string>>;
    pairs: readonly ItemPairWeight[];
    keep: number;
  }): Promise<void> {
    const writes = new Writes(this.redis);
    const records = new Map(batch.users.map((u) => [u.userId, u]));
    const users: UserWrite[] = [];
    for (const userId of new Set([...records.keys(), ...batch.seen.keys()])) {
      const seen = batch.seen.get(userId);
      users.push({
        userId,
        record: records.get(userId),
        seen: seen ? [...seen] : [],
        covers: batch.covers?.get(userId),
      });
    }
    queueUsers(writes, this, users);
    queueItems(writes, this, batch.items, batch.left);
    queueNeighbours(writes, this, batch.pairs, batch.keep);
    await writes.send();
  }

  /**
   * Writes records; a user's seen list is left as it is. `left` names, per
   * item, categories it has left: it leaves their popularity sets unless the
   * newest record names them (see WRITE_ITEMS).
   */
  async writeRecords(
    users: readonly UserFeatures[],
    items: readonly ItemFeatures[],
    left?: ReadonlyMap<string, Iterable<string>>,
  ): Promise<void> {
    if (users.length === 0 && items.length === 0) return;
    const writes = new Writes(this.redis);
    queueUsers(
      writes,
      this,
      users.map((user) => ({ userId: user.userId, record: user, seen: [] })),
    );
    queueItems(writes, this, items, left);
    await writes.send();
  }

  /** Adds items to users' seen lists. Lists only grow, so repeating this is harmless. */
  async addSeen(interactions: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    if (interactions.size === 0) return;
    const writes = new Writes(this.redis);
    const users: UserWrite[] = [];
    for (const [userId, items] of interactions) {
      if (items.size > 0) users.push({ userId, seen: [...items] });
    }
    queueUsers(writes, this, users);
    await writes.send();
  }

  /**
   * Fills a user's seen list from PostgreSQL's answer, which holds every item
   * up to the version read: the list is complete up to that version.
   */
  async fillSeen(users: readonly UserFeatures[]): Promise<void> {
    if (users.length === 0) return;
    const writes = new Writes(this.redis);
    queueUsers(
      writes,
      this,
      users.map((user) => ({
        userId: user.userId,
        seen: user.seen,
        covers: [1, user.version] as const,
      })),
    );
    await writes.send();
  }

  /** Writes pair weights to both items' neighbour sets and trims them to `keep`. */
  async writeNeighbours(pairs: readonly ItemPairWeight[], keep: number): Promise<void> {
    if (pairs.length === 0) return;
    const writes = new Writes(this.redis);
    queueNeighbours(writes, this, pairs, keep);
    await writes.send();
  }

  /**
   * Fills a missing or incomplete popularity set with PostgreSQL's top. An
   * item goes in only where Redis holds the version PostgreSQL listed, or no
   * record (then a stub notes the category): a stale read must not undo a
   * change written since, nor list an item where its stored record does not
   * say it is (see FILL_POPULAR).
   */
  async fillPopular(
    key: string,
    category: string | null,
    entries: readonly VersionedScore[],
  ): Promise<void> {
    await execOrThrow(this.fillPopularPipeline([{ key, category, entries }]));
  }

  /**
   * Writes that fill popularity sets as fillPopular does, to send together.
   * A build keeps empty sets (`expireEmpty` false): it writes every list
   * it knows, and a list's first entries may come within the minute.
   */
  fillPopularPipeline(
    lists: ReadonlyArray<{
      key: string;
      category: string | null;
      entries: readonly VersionedScore[];
    }>,
    expireEmpty = true,
  ): ReturnType<RedisClient['pipeline']> {
    const pipeline = this.redis.pipeline();
    for (const { key, category, entries } of lists) {
      const args: Array<string | number> = [FILLED, category ?? ''];
      for (const entry of entries) args.push(entry.score, entry.itemId, entry.version);
      pipeline.recflowFillPopular(
        1 + entries.length,
        key,
        ...entries.map((e) => this.itemKey(e.itemId)),
        ...args,
      );
      if (entries.length === 0 && expireEmpty) pipeline.expire(key, ABSENT_TTL_SECONDS, 'NX');
    }
    return pipeline;
  }

  /** Replaces a missing or incomplete neighbour set's top with PostgreSQL's answer. */
  async fillTop(key: string, entries: readonly ScoredId[]): Promise<void> {
    await execOrThrow(this.fillTopPipeline([{ key, entries }]));
  }

  /**
   * Writes that fill sorted sets as fillTop does, to send together. An
   * empty list (an item nobody co-visited) is remembered only briefly, like
   * an absent record, unless `expireEmpty` is false: a build keeps every
   * list it knows.
   */
  fillTopPipeline(
    lists: ReadonlyArray<{ key: string; entries: readonly ScoredId[] }>,
    expireEmpty = true,
  ): ReturnType<RedisClient['pipeline']> {
    const pipeline = this.redis.pipeline();
    for (const { key, entries } of lists) {
      const args: Array<string | number> = ['+inf', FILLED];
      for (const entry of entries) args.push(entry.score, entry.itemId);
      pipeline.zadd(key, 'GT', ...args);
      if (entries.length === 0 && expireEmpty) pipeline.expire(key, ABSENT_TTL_SECONDS, 'NX');
    }
    return pipeline;
  }

  /** Writes that set the known-users bits of `userIds`, to send as one page of a build. */
  knownUsersPipeline(userIds: readonly string[]): ReturnType<RedisClient['pipeline']> {
    const pipeline = this.redis.pipeline();
    for (const args of bitfieldArgs('SET', userIds)) {
      pipeline.call('BITFIELD', this.knownUsersKey(), ...args);
    }
    return pipeline;
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
      // A user key may hold a seen list without a record: keep it.
      if (kind === 'user') pipeline.set(this.userKey(id), ABSENT, 'EX', ABSENT_TTL_SECONDS, 'NX');
      else pipeline.recflowSetIfNewer(this.itemKey(id), 0, ABSENT, ABSENT_TTL_SECONDS);
    }
    await execOrThrow(pipeline);
  }

  /**
   * Deletes every remembered absence of a user (see writeAbsent), a SCAN
   * page at a time: users whose features reached PostgreSQL by other means
   * than the pipeline would otherwise read as new until theirs expired. A
   * key is deleted only if it still holds an absence when checked, inside
   * Redis. Returns how many were deleted.
   */
  async forgetAbsentUsers(): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.prefix}u:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.recflowDeleteIfEqual(key, ABSENT);
      for (const [, gone] of await execOrThrow(pipeline)) deleted += gone as number;
    } while (cursor !== '0');
    return deleted;
  }
}

/** Payload of a remembered absence; see writeAbsent. */
const ABSENT = '0|null';
const ABSENT_TTL_SECONDS = 60;

/** A ZRANGE WITHSCORES reply, heaviest first, if FILLED; else a miss. */
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
