import 'reflect-metadata';
import { presentList, presentRecommendation } from '../../../../src/api/graphql/presenters';
import { toItem } from '../../../../src/api/graphql/types/item';
import { FEATURE_EPOCH_MS, HALF_LIFE_MS } from '../../../../src/domain/decay';
import type { RecommendedItem } from '../../../../src/recommend/served-items';
import { itemRecord } from '../../../support/features';

const record = itemRecord('m1', {
  version: 3,
  title: 'Heat',
  categories: ['Crime'],
  attributes: { year: 1995 },
  events: 4,
  positives: 3,
  negatives: 1,
  ratingSum: 9,
  ratingCount: 2,
  popAll: 2.5,
  lastAt: Date.UTC(2026, 0, 1),
});

/** A recommended item that counts how often its reasons are worked out. */
function counted(): { item: RecommendedItem; reads: () => number } {
  let reads = 0;
  const item: RecommendedItem = {
    item: record,
    score: 0.5,
    get reasons() {
      reads += 1;
      return ['because you liked Ronin'];
    },
    sources: ['covisitation'],
  };
  return { item, reads: () => reads };
}

test('a recommendation works out its reasons only when they are read', () => {
  const { item, reads } = counted();
  const view = presentRecommendation(item);
  expect(view.score).toBe(0.5);
  expect(view.item.title).toBe('Heat');
  expect(reads()).toBe(0);
  expect(view.reasons).toEqual(['because you liked Ronin']);
  expect(view.sources).toEqual(['covisitation']);
  expect(reads()).toBe(1);
});

test('a list keeps its order, and each item view is made once', () => {
  const { item } = counted();
  const list = presentList({
    userId: 'u1',
    strategy: 'PERSONALIZED',
    computedAt: new Date(0),
    items: [item, { ...counted().item, score: 0.25 }],
    degradedSources: [],
  });
  expect(list.items.map((i) => i.score)).toEqual([0.5, 0.25]);
  expect(list.items[0].item).toBe(list.items[0].item);
});

test('an item gives its fields, and its statistics as of when it was made', () => {
  const made = Date.UTC(2026, 0, 2);
  // Weight 1 exactly at `made`, by the decay's own clock.
  const logDay = (Math.LN2 * (made - FEATURE_EPOCH_MS)) / HALF_LIFE_MS.day;
  const item = toItem({ ...record, logDay }, made);
  expect([item.id, item.title, item.categories, item.available, item.inCatalogue]).toEqual([
    'm1',
    'Heat',
    ['Crime'],
    true,
    true,
  ]);
  expect(item.attributes).toEqual({ year: 1995 });
  const stats = item.stats;
  expect(stats).toBe(item.stats);
  expect(stats).toMatchObject({
    events: 4,
    positives: 3,
    negatives: 1,
    ratingCount: 2,
    averageRating: 4.5,
    popularity: 2.5,
    lastEventAt: new Date(record.lastAt as number),
  });
  expect(stats.trendingScore).toBeCloseTo(1, 12);
});
