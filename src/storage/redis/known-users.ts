/**
 * The known-users filter in Redis: which users PostgreSQL holds features
 * for, as a Bloom filter (KNOWN_USERS in hot-store.ts). A reader that misses
 * a user's hot record asks PostgreSQL only if the filter may hold the user,
 * so a user never seen before costs no PostgreSQL query. The filter is
 * trusted only while its completeness mark (`ku:ok`) is present.
 *
 * - Every write of a user's hot record sets the user's bits (hot-store.ts),
 *   so users added after a build are in it. Bits are never cleared: a user
 *   whose features are gone reads as "maybe", which costs one query.
 * - A build (known-users-builder.ts) sets the bits of every user in
 *   PostgreSQL, then sets the mark, unless the build was superseded or the
 *   mark withdrawn meanwhile: the mark is set only by the build whose token
 *   still stands.
 * - Whoever may have lost a user's bits withdraws the mark: a hot-copy
 *   writer that dropped queued writes, and every worker when it starts (one
 *   that crashed could have held writes Redis never got). Readers then ask
 *   PostgreSQL, as they would without the filter, until a build completes.
 * - A restarted Redis has neither bits nor mark.
 */
import type { Result } from 'ioredis';
import type { RedisClient } from './client';
import { type HotStore, bitfieldArgs } from './hot-store';

/** How long a build's token holds without being renewed (a builder that died lets go). */
export const BUILD_LEASE_SECONDS = 120;
/** How long a mark holds: at the latest, the filter is rebuilt this often. */
export const MARK_SECONDS = 86_400;

/** Sets the mark if the build's token (ARGV[1]) still stands; 1 if it did. */
const COMPLETE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[2]))
return 1`;

/** Renews the build's lease if its token (ARGV[1]) still stands; 1 if it did. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    recflowCompleteKnownUsers(
      build: string,
      mark: string,
      token: string,
      markSeconds: number,
    ): Result<number, Context>;
    recflowRenewKnownUsersBuild(
      build: string,
      token: string,
      leaseSeconds: number,
    ): Result<number, Context>;
  }
}

export class KnownUsers {
  private readonly keys: ReturnType<HotStore['knownUsersKeys']>;

  constructor(
    private readonly redis: RedisClient,
    hot: HotStore,
  ) {
    this.keys = hot.knownUsersKeys();
    redis.defineCommand('recflowCompleteKnownUsers', { numberOfKeys: 2, lua: COMPLETE });
    redis.defineCommand('recflowRenewKnownUsersBuild', { numberOfKeys: 1, lua: RENEW });
  }

  /** Whether the filter holds every user with features now. */
  async complete(): Promise<boolean> {
    return (await this.redis.exists(this.keys.complete)) === 1;
  }

  /** Withdraws the mark and ends any build in progress (its mark would not be set). */
  async withdraw(): Promise<void> {
    await this.redis.del(this.keys.complete, this.keys.build);
  }

  /**
   * Starts a build under `token`. `supersede` withdraws the mark and takes
   * over from any build in progress; otherwise the build starts only if none
   * is in progress. True if this build is the one in progress.
   */
  async begin(token: string, supersede: boolean): Promise<boolean> {
    if (supersede) {
      await this.redis
        .multi()
        .del(this.keys.complete)
        .set(this.keys.build, token, 'EX', BUILD_LEASE_SECONDS)
        .exec();
      return true;
    }
    const set = await this.redis.set(this.keys.build, token, 'EX', BUILD_LEASE_SECONDS, 'NX');
    return set === 'OK';
  }

  /** Sets the bits of `userIds`, in one round trip, and renews the build's lease. */
  async add(token: string, userIds: readonly string[]): Promise<boolean> {
    const pipeline = this.redis.pipeline();
    for (const args of bitfieldArgs('SET', userIds)) {
      pipeline.call('BITFIELD', this.keys.bits, ...args);
    }
    pipeline.recflowRenewKnownUsersBuild(this.keys.build, token, BUILD_LEASE_SECONDS);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    return replies[replies.length - 1][1] === 1;
  }

  /** Sets the mark if the build under `token` still stands; true if it did. */
  async finish(token: string): Promise<boolean> {
    const done = await this.redis.recflowCompleteKnownUsers(
      this.keys.build,
      this.keys.complete,
      token,
      MARK_SECONDS,
    );
    return done === 1;
  }
}
