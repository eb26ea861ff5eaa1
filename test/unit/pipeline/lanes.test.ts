/** Which lane of a worker a user's events go to (src/pipeline/worker.ts). */
import { laneOfUser } from '../../../src/pipeline/worker';

const users = Array.from({ length: 4000 }, (_, n) => `user-${n}`);

test.each([2, 3, 5, 8])('%i lanes share the users about evenly, each in range', (lanes) => {
  const counts = new Array<number>(lanes).fill(0);
  for (const user of users) counts[laneOfUser(user, lanes)] += 1;
  expect(counts.reduce((a, b) => a + b, 0)).toBe(users.length);
  for (const count of counts) expect(count).toBeGreaterThan((0.8 * users.length) / lanes);
});

test('ids of any characters, empty included, get a lane; one lane takes everyone', () => {
  for (const id of ['', 'é', 'ユーザー', '\u{1F600}', 'x'.repeat(128)]) {
    const lane = laneOfUser(id, 8);
    expect(Number.isInteger(lane) && lane >= 0 && lane < 8).toBe(true);
  }
  expect(users.every((u) => laneOfUser(u, 1) === 0)).toBe(true);
});
