/**
 * The known-users filter's shape, the BITFIELD arguments that read and set
 * a user's bits in it, and what the reads' replies say (hot-store.ts sends
 * them; pipeline/hot-copy-parts.ts says how the filter is built and kept).
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

/**
 * Per user, in order, from the replies to bitfieldArgs('GET', ...) for
 * `users` users: true when one of the user's bits is 0, so the filter does
 * not hold them. A Bloom filter never misses a member; a false positive
 * only costs a read.
 */
export function notHeld(replies: ReadonlyArray<readonly number[]>, users: number): boolean[] {
  const absent = new Array<boolean>(users).fill(false);
  let user = 0;
  for (const bits of replies) {
    for (let at = 0; at < bits.length; at += KNOWN_USERS.hashes, user += 1) {
      for (let h = at; h < at + KNOWN_USERS.hashes; h += 1) {
        if (bits[h] !== 1) {
          absent[user] = true;
          break;
        }
      }
    }
  }
  return absent;
}
