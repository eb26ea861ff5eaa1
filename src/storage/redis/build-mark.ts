/**
 * A mark that says a part of the hot copy is built, and the builds that set
 * it. Readers trust the known-users filter (known-users.ts) only while its
 * mark is present, and ask PostgreSQL otherwise; for the neighbour and
 * popularity sets the mark only says they were all filled from PostgreSQL
 * (pipeline/hot-copy-parts.ts).
 *
 * A build writes the part from PostgreSQL under a token, then sets the mark
 * only if its token still stands: a build that was superseded, or whose
 * mark was withdrawn meanwhile, sets nothing. A restarted Redis has no
 * mark, so the part is built again.
 */
import type { Result } from 'ioredis';
import type { RedisClient } from './client';

/** How long a build's token holds without being renewed (a builder that died lets go). */
export const BUILD_LEASE_SECONDS = 120;
/** How long a mark holds: at the latest, a part is rebuilt this often. */
export const MARK_SECONDS = 86_400;

/** Sets the mark (KEYS[2]) if the build's token (ARGV[1]) still stands; 1 if it did. */
const FINISH = `
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
    recflowFinishBuild(
      build: string,
      mark: string,
      token: string,
      markSeconds: number,
    ): Result<number, Context>;
    recflowRenewBuild(build: string, token: string, leaseSeconds: number): Result<number, Context>;
  }
}

type Pipeline = ReturnType<RedisClient['pipeline']>;

export class BuildMark {
  constructor(
    private readonly redis: RedisClient,
    /** The mark's key, and the key holding the token of the build in progress. */
    readonly keys: { mark: string; build: string },
  ) {
    redis.defineCommand('recflowFinishBuild', { numberOfKeys: 2, lua: FINISH });
    redis.defineCommand('recflowRenewBuild', { numberOfKeys: 1, lua: RENEW });
  }

  /** Whether the part is built (its mark stands). */
  async complete(): Promise<boolean> {
    return (await this.redis.exists(this.keys.mark)) === 1;
  }

  /** Withdraws the mark and ends any build in progress (its mark would not be set). */
  async withdraw(): Promise<void> {
    await this.redis.del(this.keys.mark, this.keys.build);
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
        .del(this.keys.mark)
        .set(this.keys.build, token, 'EX', BUILD_LEASE_SECONDS)
        .exec();
      return true;
    }
    const set = await this.redis.set(this.keys.build, token, 'EX', BUILD_LEASE_SECONDS, 'NX');
    return set === 'OK';
  }

  /**
   * Sends `pipeline`, a page of the build's writes, with the renewal of its
   * lease at the end; false if the token no longer stands.
   */
  async sendPage(pipeline: Pipeline, token: string): Promise<boolean> {
    pipeline.recflowRenewBuild(this.keys.build, token, BUILD_LEASE_SECONDS);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    return replies[replies.length - 1][1] === 1;
  }

  /** Renews the build's lease; false if its token no longer stands. */
  async renew(token: string): Promise<boolean> {
    return (await this.redis.recflowRenewBuild(this.keys.build, token, BUILD_LEASE_SECONDS)) === 1;
  }

  /** Sets the mark if the build under `token` still stands; true if it did. */
  async finish(token: string): Promise<boolean> {
    const done = await this.redis.recflowFinishBuild(
      this.keys.build,
      this.keys.mark,
      token,
      MARK_SECONDS,
    );
    return done === 1;
  }
}
