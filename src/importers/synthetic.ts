/**
 * A seeded synthetic catalogue and event stream, for demos and load tests.
 *
 * Item popularity and user activity follow Zipf laws; each user prefers two
 * categories and picks most items from them, so personalisation has a
 * signal to find. The same options and seed always yield the same data.
 */
import type { ItemUpsert, UserUpsert } from '../catalog/validation';
import type { EventInput, EventType } from '../domain/events';
import type { Dataset } from './sinks';
import { mulberry32 } from '../domain/random';

export interface SyntheticOptions {
  users: number;
  items: number;
  events: number;
  categories: number;
  seed: number;
  /** Events are spread over this many days before `now`. */
  days: number;
  now: number;
  batchSize: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  users: 1000,
  items: 500,
  events: 20_000,
  categories: 12,
  seed: 42,
  days: 30,
  now: Date.now(),
  batchSize: 1000,
};

const TYPE_MIX: Array<[EventType, number]> = [
  ['VIEW', 0.6],
  ['CLICK', 0.2],
  ['ADD_TO_CART', 0.08],
  ['PURCHASE', 0.04],
  ['LIKE', 0.04],
  ['RATE', 0.02],
  ['SKIP', 0.015],
  ['DISLIKE', 0.005],
];

const WORDS = [
  'Amber',
  'Blue',
  'Copper',
  'Delta',
  'Echo',
  'Frost',
  'Golden',
  'Harbor',
  'Iris',
  'Juniper',
];

export function syntheticDataset(options: Partial<SyntheticOptions> = {}): Dataset {
  // Options given as undefined keep their defaults.
  const given = Object.entries(options).filter(([, value]) => value !== undefined);
  const o: SyntheticOptions = { ...DEFAULT_SYNTHETIC, ...Object.fromEntries(given) };
  const random = mulberry32(o.seed);
  const categories = Array.from({ length: o.categories }, (_, i) => `category-${i + 1}`);

  // Catalogue: each item has one main category and sometimes a second.
  const itemCategories: number[][] = [];
  const items: ItemUpsert[] = Array.from({ length: o.items }, (_, i) => {
    const main = Math.floor(random() * o.categories);
    const cats =
      random() < 0.3
        ? [main, (main + 1 + Math.floor(random() * (o.categories - 1))) % o.categories]
        : [main];
    itemCategories.push(cats);
    return {
      id: `item-${i + 1}`,
      title: `${WORDS[i % WORDS.length]} ${categories[main]} #${i + 1}`,
      categories: [...new Set(cats.map((c) => categories[c]))],
      attributes: { price: Math.round(5 + random() * 95) },
      available: true,
    };
  });
  const users: UserUpsert[] = Array.from({ length: o.users }, (_, u) => ({
    id: `user-${u + 1}`,
    attributes: { segment: u % 3 === 0 ? 'new' : 'returning' },
  }));

  // Items of each category in popularity order (item index order is the Zipf rank).
  const byCategory = categories.map((_, c) =>
    itemCategories.flatMap((cats, i) => (cats.includes(c) ? [i] : [])),
  );
  const itemZipf = zipfSampler(o.items, 1.05);
  const userZipf = zipfSampler(o.users, 0.9);
  const catZipf = byCategory.map((list) => zipfSampler(Math.max(1, list.length), 1.05));
  const preferences = Array.from({ length: o.users }, () => [
    Math.floor(random() * o.categories),
    Math.floor(random() * o.categories),
  ]);

  function* events(): Iterable<EventInput[]> {
    const eventRandom = mulberry32(o.seed ^ 0x9e3779b9);
    for (let start = 0; start < o.events; start += o.batchSize) {
      const chunk: EventInput[] = [];
      for (let n = start; n < Math.min(o.events, start + o.batchSize); n += 1) {
        const u = userZipf(eventRandom);
        const pref = preferences[u][eventRandom() < 0.6 ? 0 : 1];
        const list = byCategory[pref];
        const i =
          eventRandom() < 0.75 && list.length > 0
            ? list[catZipf[pref](eventRandom)]
            : itemZipf(eventRandom);
        const type = pickType(eventRandom());
        chunk.push({
          eventId: `gen-${o.seed}-${n}`,
          userId: `user-${u + 1}`,
          itemId: `item-${i + 1}`,
          type,
          value:
            type === 'RATE'
              ? 1 + Math.floor(eventRandom() * 5)
              : type === 'PURCHASE'
                ? 1 + Math.floor(eventRandom() * 3)
                : null,
          occurredAt: new Date(o.now - Math.floor(eventRandom() * o.days * 86_400_000)),
        });
      }
      yield chunk;
    }
  }

  return { items, users, eventCount: o.events, events };
}

function pickType(x: number): EventType {
  let acc = 0;
  for (const [type, share] of TYPE_MIX) {
    acc += share;
    if (x < acc) return type;
  }
  return 'VIEW';
}

/** Samples ranks 0..n-1 with P(k) proportional to 1/(k+1)^s. */
export function zipfSampler(n: number, s: number): (random: () => number) => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k += 1) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  return (random) => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export { mulberry32 };
