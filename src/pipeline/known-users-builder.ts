/**
 * Builds the known-users filter (storage/redis/known-users.ts) from
 * PostgreSQL, in the worker role.
 *
 * When the worker starts, it supersedes whatever mark or build there was:
 * an earlier worker that crashed could have held user writes Redis never
 * got. After that, it checks every `everyMs` and builds again when the
 * mark is missing (a restarted Redis, dropped writes, the mark's expiry)
 * and no other build is in progress. Until a build completes, readers ask
 * PostgreSQL for every user Redis misses, as they would without the filter.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import type { FeatureRepository } from '../storage/postgres/feature-repository';
import type { KnownUsers } from '../storage/redis/known-users';

export interface KnownUsersBuilderOptions {
  /** User ids read from PostgreSQL per query. */
  pageSize?: number;
  /** How often the mark is checked. */
  everyMs?: number;
}

export class KnownUsersBuilder {
  /** Whether this process has superseded the builds before it; until then it tries each check. */
  private superseded = false;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private current: Promise<void> = Promise.resolve();
  private readonly pageSize: number;
  private readonly everyMs: number;

  constructor(
    private readonly known: KnownUsers,
    private readonly repository: Pick<FeatureRepository, 'userIdsAfter'>,
    private readonly log: Logger,
    options: KnownUsersBuilderOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 5000;
    this.everyMs = options.everyMs ?? 30_000;
  }

  start(): void {
    void this.check();
    this.timer ??= setInterval(() => void this.check(), this.everyMs).unref();
  }

  /** Stops checking and waits for a build in progress to stop (its mark is not set). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** One check (one at a time): builds the filter if it is due; never rejects. */
  check(): Promise<void> {
    const next = () => (this.stopping ? undefined : this.build());
    this.current = this.current.then(next, next);
    return this.current;
  }

  private async build(): Promise<void> {
    try {
      const supersede = !this.superseded;
      if (!supersede && (await this.known.complete())) return;
      const token = randomUUID();
      if (!(await this.known.begin(token, supersede))) return; // another build is in progress
      this.superseded = true;
      const started = performance.now();
      let users = 0;
      for (let after: string | null = null; ;) {
        if (this.stopping) return;
        const page = await this.repository.userIdsAfter(after, this.pageSize);
        if (page.length > 0 && !(await this.known.add(token, page))) {
          this.log.info('known-users build superseded by another');
          return;
        }
        users += page.length;
        if (page.length < this.pageSize) break;
        after = page[page.length - 1];
      }
      const seconds = (performance.now() - started) / 1000;
      if (await this.known.finish(token)) {
        this.log.info({ users, seconds }, 'known-users filter built');
      } else {
        this.log.info('known-users build superseded by another');
      }
    } catch (error) {
      // Supersede next time: this build's token may still stand, and hold
      // off every other build until its lease ends.
      this.superseded = false;
      this.log.warn({ err: error }, 'known-users filter build failed; will retry');
    }
  }
}
