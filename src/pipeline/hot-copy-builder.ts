/**
 * Builds the parts of the hot copy from PostgreSQL (hot-copy-parts.ts):
 * the known-users filter, the co-visitation neighbour sets and the
 * popularity sets, each under a mark (storage/redis/build-mark.ts). Runs
 * in the worker role, one builder per part.
 *
 * A part that must supersede on start (the known-users filter) is rebuilt
 * whenever a worker starts: an earlier worker that crashed could have held
 * writes Redis never got. After that, and for the other parts from the
 * first check, the builder checks every `everyMs` and builds when the mark
 * is missing (a restarted Redis, dropped writes, the mark's expiry) and no
 * other build is in progress.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import type { HotCopyPart } from './hot-copy-parts';

export interface HotCopyBuilderOptions {
  /** Ids read from PostgreSQL per page. */
  pageSize?: number;
  /** How often the mark is checked. */
  everyMs?: number;
}

export class HotCopyBuilder {
  /** Whether the next build must supersede the mark and any build in progress. */
  private supersede: boolean;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private current: Promise<void> = Promise.resolve();
  private readonly pageSize: number;
  private readonly everyMs: number;

  constructor(
    private readonly part: HotCopyPart,
    private readonly log: Logger,
    options: HotCopyBuilderOptions = {},
  ) {
    this.supersede = part.supersedeOnStart;
    this.pageSize = options.pageSize ?? part.pageSize;
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

  /** One check (one at a time): builds the part if it is due; never rejects. */
  check(): Promise<void> {
    const next = () => (this.stopping ? undefined : this.build());
    this.current = this.current.then(next, next);
    return this.current;
  }

  private async build(): Promise<void> {
    const { mark, name } = this.part;
    let begun = false;
    try {
      if (!this.supersede && (await mark.complete())) return;
      const token = randomUUID();
      if (!(await mark.begin(token, this.supersede))) return; // another build is in progress
      begun = true;
      this.supersede = false;
      const started = performance.now();
      let count = 0;
      for (let after: string | null = null; ;) {
        if (this.stopping) return;
        // Renewed before a page's reads and after its writes, so that the
        // lease outlasts any one step.
        if (!(await mark.renew(token))) {
          this.log.info({ part: name }, 'hot-copy build superseded by another');
          return;
        }
        const page = await this.part.ids(after, this.pageSize);
        if (page.length > 0 && !(await this.part.write(token, page))) {
          this.log.info({ part: name }, 'hot-copy build superseded by another');
          return;
        }
        count += page.length;
        if (page.length < this.pageSize) break;
        after = page[page.length - 1];
      }
      const seconds = (performance.now() - started) / 1000;
      if (await mark.finish(token)) {
        this.log.info({ part: name, count, seconds }, 'hot-copy part built and marked whole');
      } else {
        this.log.info({ part: name }, 'hot-copy build superseded by another');
      }
    } catch (error) {
      // Once begun, supersede next time: this build's token may still
      // stand, and hold off every other build until its lease ends.
      if (begun) this.supersede = true;
      this.log.warn({ err: error, part: name }, 'hot-copy build failed; will retry');
    }
  }
}
