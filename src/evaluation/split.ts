/**
 * Train/test splits for offline evaluation. Every rating counts as an
 * implicit positive; the split decides only which part the model may see.
 *
 *   random    80/20 over all ratings, shuffled with a seed
 *   temporal  per user, the last 20% of that user's ratings by time
 *   loo       per user, the last rating by time (leave one out)
 *
 * Ties in time are broken in a seeded order, so a split is repeatable.
 */
import { mulberry32, shuffleInPlace } from '../domain/random';

export const PROTOCOLS = ['random', 'temporal', 'loo'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface Rating {
  userId: string;
  itemId: string;
  rating: number;
  /** Seconds or milliseconds: only the order matters. */
  timestamp: number;
}

export interface Split {
  protocol: Protocol;
  train: Rating[];
  test: Rating[];
}

export const TEST_FRACTION = 0.2;

export function split(ratings: readonly Rating[], protocol: Protocol, seed: number): Split {
  const random = mulberry32(seed);
  if (protocol === 'random') {
    const shuffled = shuffleInPlace([...ratings], random);
    const cut = Math.round(shuffled.length * (1 - TEST_FRACTION));
    return { protocol, train: shuffled.slice(0, cut), test: shuffled.slice(cut) };
  }
  const byUser = new Map<string, Rating[]>();
  for (const r of shuffleInPlace([...ratings], random)) {
    const list = byUser.get(r.userId);
    if (list) list.push(r);
    else byUser.set(r.userId, [r]);
  }
  const train: Rating[] = [];
  const test: Rating[] = [];
  for (const list of byUser.values()) {
    // Stable sort: equal timestamps keep the seeded shuffle's order.
    list.sort((a, b) => a.timestamp - b.timestamp);
    const held =
      protocol === 'loo'
        ? Math.min(1, list.length - 1)
        : Math.min(list.length - 1, Math.max(1, Math.round(list.length * TEST_FRACTION)));
    train.push(...list.slice(0, list.length - held));
    test.push(...list.slice(list.length - held));
  }
  return { protocol, train, test };
}
