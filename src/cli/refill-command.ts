/**
 * `recflow refill [--users] [--wait]`: asks the workers to build parts of
 * the hot copy again from PostgreSQL, by withdrawing their marks (README,
 * Operations, "Hot-copy builds"). Each worker checks every
 * RECFLOW_HOT_COPY_CHECK whether a part lacks its mark, and builds it.
 *
 * After a bulk load through the pipeline, the neighbour and popularity sets
 * are worth filling at once rather than by gateways under traffic (`import
 * --wait` and `generate --wait` ask for it themselves). After users' features
 * were written to PostgreSQL by other means than the pipeline, `--users`
 * also rebuilds the known-users filter, and forgets the absences readers
 * remembered (60 s each): until then those users would look new to readers.
 *
 * It only adds to the hot copy: records already there stay until a newer
 * version replaces them, and neighbour weights only grow. After PostgreSQL
 * was restored to an earlier point, start the hot copy over instead
 * (README, Operations).
 */
import type { Core } from '../app/app';
import type { BuildMark } from '../storage/redis/build-mark';

/** Longest `--wait`: a build over millions of users takes seconds, not this. */
const WAIT_LIMIT_MS = 30 * 60_000;
const POLL_MS = 500;
/** Past one check interval and this, a missing worker is the likely reason. */
const HINT_AFTER_MS = 15_000;
const NO_WORKER =
  'is a worker running (recflow serve --role worker or all)? A build whose worker died ' +
  'holds its lease for 2 minutes; running refill again releases it';

/** Runs the command; a Redis failure is reported as one line, with exit 1. */
export async function refillCommand(
  core: Core,
  options: { users: boolean; wait: boolean },
): Promise<number> {
  try {
    return await refill(core, options);
  } catch (error) {
    process.stderr.write(
      `Redis failed (${(error as Error).message}); run refill again once Redis answers\n`,
    );
    return 1;
  }
}

/**
 * After `import --wait` or `generate --wait`: has the workers fill the
 * neighbour and popularity sets from PostgreSQL (within one check) rather
 * than gateways, one set at a time, under traffic. Best effort: when Redis
 * refuses, gateways fill the sets as they read them.
 */
export async function askForFill(core: Core): Promise<void> {
  try {
    await withdraw(partsOf(core, false));
    process.stderr.write('asked the workers to fill the neighbour and popularity sets\n');
  } catch (error) {
    process.stderr.write(
      `could not ask the workers to fill the neighbour and popularity sets` +
        ` (${(error as Error).message}); gateways fill them as they read them\n`,
    );
  }
}

type Part = [name: string, mark: BuildMark];

/** The parts a refill has built again: the two kinds of sets, and with `users` the filter. */
function partsOf(core: Core, users: boolean): Part[] {
  const { marks } = core.hot;
  return [
    ...(users ? [['the known users', marks.users] as Part] : []),
    ['the neighbour sets', marks.neighbours],
    ['the popularity sets', marks.popular],
  ];
}

/** Withdraws the parts' marks; each worker builds them at its next check. */
async function withdraw(parts: readonly Part[]): Promise<void> {
  await Promise.all(parts.map(([, mark]) => mark.withdraw()));
}

async function refill(core: Core, options: { users: boolean; wait: boolean }): Promise<number> {
  const parts = partsOf(core, options.users);
  const names = parts.map(([name]) => name).join(', ');
  await withdraw(parts);
  process.stderr.write(`asked the workers to build ${names}\n`);
  if (options.users) {
    // After the withdrawal: readers now ask PostgreSQL, and remember only
    // users it does not hold.
    const forgotten = await core.hot.forgetAbsentUsers();
    process.stderr.write(`forgot ${forgotten} remembered absences of users\n`);
  }
  if (!options.wait) return 0;

  const started = Date.now();
  let hinted = false;
  for (const [name, mark] of parts) {
    while (!(await mark.complete())) {
      const waited = Date.now() - started;
      if (waited > WAIT_LIMIT_MS) {
        process.stderr.write(
          `${name} were not built within ${WAIT_LIMIT_MS / 60_000} minutes; ${NO_WORKER}\n`,
        );
        return 1;
      }
      if (!hinted && waited > core.config.pipeline.hotCopyCheckMs + HINT_AFTER_MS) {
        hinted = true;
        process.stderr.write(`still waiting for ${name}; ${NO_WORKER}\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  process.stderr.write(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}
