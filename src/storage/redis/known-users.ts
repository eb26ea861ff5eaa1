/**
 * The known-users filter's shape, and the BITFIELD arguments that read and
 * set a user's bits in it (hot-store.ts; pipeline/hot-copy-parts.ts says
 * how it is built and kept).
 */
import { type BloomShape, bloomPositions, checkShape } from '../bloom';

/**
 * 4 MiB: under 0.001 % false positives with a million users, 0.5 % with
 * three million, 40 % with ten. A false positive costs a PostgreSQL read,
 * as without the filter. Every process must use the same shape: a new one
 * needs new key names.
 */
export const KNOWN_USERS: BloomShape = checkShape({ bits: 2 ** 25, hashes: 7 });

/** Users per BITFIELD command: its arguments are spread, and the stack bounds a spread. */
const USERS_PER_BITFIELD = 256;

/**
 * BITFIELD arguments that GET, or SET to 1, the known-users bits of
 * `userIds`, in order, USERS_PER_BITFIELD users a command.
 */
export function bitfieldArgs(
  op: 'GET' | 'SET',
  userIds: readonly string[],
): Array<Array<string | number>> {
  const commands: Array<Array<string | number>> = [];
  for (let start = 0; start < userIds.length; start += USERS_PER_BITFIELD) {
    const args: Array<string | number> = [];
    for (const id of userIds.slice(start, start + USERS_PER_BITFIELD)) {
      for (const p of bloomPositions(id, KNOWN_USERS)) {
        if (op === 'GET') args.push('GET', 'u1', p);
        else args.push('SET', 'u1', p, 1);
      }
    }
    commands.push(args);
  }
  return commands;
}
