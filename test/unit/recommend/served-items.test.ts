import DataLoader from 'dataloader';
import { DEFAULT_BLEND_WEIGHTS } from '../../../src/domain/ranking';
import type { ItemFeatures } from '../../../src/domain/features';
import { silentLogger } from '../../../src/observability/logger';
import { Recommender } from '../../../src/recommend/recommender';
import { plainItem } from '../../../src/recommend/served-items';
import type { FeatureLoaders } from '../../../src/storage/feature-store';
import type { ScoredId } from '../../../src/storage/redis/hot-store';
import { itemRecord } from '../../support/features';

function record(itemId: string, title: string): ItemFeatures {
  return itemRecord(itemId, { title, categories: ['Drama'] });
}

/** In-memory loaders: no user, one popular list of two items. */
function loaders(): FeatureLoaders {
  const items = new Map([
    ['a', record('a', 'Alpha')],
    ['b', record('b', 'Beta')],
  ]);
  const popular: ScoredId[] = [
    { itemId: 'a', score: 2 },
    { itemId: 'b', score: 1 },
  ];
  return {
    users: new DataLoader(async (ids) => ids.map(() => null)),
    items: new DataLoader(async (ids) => ids.map((id) => items.get(id) ?? null)),
    itemsOf: async (ids) => ids.map((id) => items.get(id) ?? null),
    neighboursOf: async (ids) => ids.map(() => []),
    popularOf: async (keys) => keys.map(() => popular),
  };
}

test('a served item reads, serialises and copies as its four fields', async () => {
  const recommender = new Recommender(DEFAULT_BLEND_WEIGHTS, silentLogger());
  const list = await recommender.recommend(loaders(), 'nobody', 2);
  expect(list.strategy).toBe('COLD_START');
  const [first] = list.items;
  expect(first.item.itemId).toBe('a');
  expect(first.reasons).toEqual(['trending in Drama', 'popular with everyone']);
  expect(first.sources).toEqual(['trending', 'popular']);
  const fields = ['item', 'score', 'reasons', 'sources'];
  expect(Object.keys(JSON.parse(JSON.stringify(first))).sort()).toEqual([...fields].sort());
  expect(JSON.parse(JSON.stringify(first)).reasons).toEqual(first.reasons);
  const plain = plainItem(first);
  expect(plain).toEqual({
    item: first.item,
    score: first.score,
    reasons: first.reasons,
    sources: first.sources,
  });
  expect(structuredClone(plain)).toEqual(plain);
  // The copy's arrays are its own.
  plain.reasons.push('changed');
  expect(first.reasons).toEqual(['trending in Drama', 'popular with everyone']);
  // Any object with the four fields, served here or not, copies whole.
  expect(plainItem(JSON.parse(JSON.stringify(first)))).toEqual(JSON.parse(JSON.stringify(first)));
  // Nothing of the item's own state shows.
  expect(Object.keys(first).sort()).toEqual(['item', 'score']);
});
