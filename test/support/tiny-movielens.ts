/**
 * A tiny MovieLens-format data set, written to a fresh temporary directory,
 * whose right answer is known. Two groups of users have disjoint tastes:
 * Action fans rate only the Action films (items 1-20), Comedy fans only the
 * comedies (items 21-40). The Comedy group is the larger one, so the most
 * popular items are comedies and most-popular serves the Action fans badly,
 * while any personalised source should serve each group its own genre.
 *
 * Hand-made, seeded and small; nothing in it comes from MovieLens itself.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mulberry32, shuffleInPlace } from '../../src/domain/random';

export const TINY = {
  actionFans: 15,
  comedyFans: 35,
  itemsPerGenre: 20,
  ratingsPerUser: 12,
} as const;

export interface TinyMovieLens {
  dir: string;
  /** Every rating written, in u.data order. */
  ratingCount: number;
  remove(): Promise<void>;
}

export async function writeTinyMovieLens(seed = 1): Promise<TinyMovieLens> {
  const dir = await mkdtemp(path.join(tmpdir(), 'recflow-tiny-ml-'));
  const random = mulberry32(seed);
  const items: string[] = [];
  for (let i = 1; i <= 2 * TINY.itemsPerGenre; i += 1) {
    const action = i <= TINY.itemsPerGenre;
    const title = `${action ? 'Chase' : 'Laugh'} ${i} (1995)`;
    items.push(
      `${i}|${title}|01-Jan-1995||http://example.test/${i}|0|${action ? 1 : 0}|${action ? 0 : 1}`,
    );
  }
  const users: string[] = [];
  const ratings: string[] = [];
  const userCount = TINY.actionFans + TINY.comedyFans;
  for (let u = 1; u <= userCount; u += 1) {
    users.push(`${u}|30|F|writer|00000`);
    const first = u <= TINY.actionFans ? 1 : TINY.itemsPerGenre + 1;
    const genre = Array.from({ length: TINY.itemsPerGenre }, (_, k) => first + k);
    const chosen = shuffleInPlace(genre, random).slice(0, TINY.ratingsPerUser);
    chosen.forEach((item, k) => {
      const timestamp = 880_000_000 + u * 10_000 + k * 60;
      ratings.push(`${u}\t${item}\t${1 + Math.floor(random() * 5)}\t${timestamp}`);
    });
  }
  await writeFile(path.join(dir, 'u.genre'), 'unknown|0\nAction|1\nComedy|2\n\n');
  await writeFile(path.join(dir, 'u.item'), `${items.join('\n')}\n`, 'latin1');
  await writeFile(path.join(dir, 'u.user'), `${users.join('\n')}\n`);
  await writeFile(path.join(dir, 'u.data'), `${ratings.join('\n')}\n`);
  return {
    dir,
    ratingCount: ratings.length,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
