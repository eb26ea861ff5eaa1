import { bloomPositions } from '../../../src/storage/bloom';
import { KNOWN_USERS, bitfieldArgs, notHeld } from '../../../src/storage/redis/known-users';

describe('the known-users filter in BITFIELD commands', () => {
  test('reads go 256 users a command, three arguments per bit, in user order', () => {
    const ids = Array.from({ length: 300 }, (_, n) => `user-${n}`);
    const commands = bitfieldArgs('GET', ids);
    expect(commands.map((c) => c.length)).toEqual([256 * 7 * 3, 44 * 7 * 3]);
    expect(commands[1].slice(0, 3)).toEqual([
      'GET',
      'u1',
      bloomPositions('user-256', KNOWN_USERS)[0],
    ]);
  });

  test('a user is held only when every one of its bits is 1, across commands', () => {
    const held = new Array<number>(KNOWN_USERS.hashes).fill(1);
    const oneMissing = [...held.slice(1), 0];
    // Three users in a first reply, one in a second, as two commands would answer.
    const replies = [[...held, ...oneMissing, ...held], [...oneMissing]];
    expect(notHeld(replies, 4)).toEqual([false, true, false, true]);
  });
});
