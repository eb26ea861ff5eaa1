import {
  blend,
  DEFAULT_BLEND_WEIGHTS,
  type BlendWeights,
  type Candidate,
  CANDIDATE_SOURCES,
  type CandidateSource,
  type Contribution,
  explain,
  type ItemFacts,
  mmrRerank,
  rankCandidates,
  RuleFilter,
  type RankingRules,
} from '../../../src/domain/ranking';
import type { EventType } from '../../../src/domain/events';
import { shuffles } from '../support/random';

/** Fixed weights for these tests, apart from the tuned defaults. */
const WEIGHTS: BlendWeights = {
  model: 1,
  ease: 1,
  itemKnn: 0.2,
  covisitation: 0.8,
  category: 0.5,
  trending: 0.3,
  popular: 0.2,
};

const EVEN: BlendWeights = {
  model: 1,
  ease: 1,
  itemKnn: 1,
  covisitation: 1,
  category: 1,
  trending: 1,
  popular: 1,
};

function candidate(
  itemId: string,
  source: CandidateSource,
  score: number,
  because?: Candidate['because'],
): Candidate {
  return because ? { itemId, source, score, because } : { itemId, source, score };
}

/** One source's list, best first, with descending scores. */
function list(source: CandidateSource, itemIds: readonly string[]): Candidate[] {
  return itemIds.map((id, i) => candidate(id, source, itemIds.length - i));
}

const ids = (items: readonly { itemId: string }[]) => items.map((item) => item.itemId);

describe('blend', () => {
  test('gives the item at rank r a share of weight / (10 + r)', () => {
    const ranked = blend([list('model', ['a', 'b', 'c'])], WEIGHTS);
    expect(ranked.map((r) => [r.itemId, r.score])).toEqual([
      ['a', 1 / 11],
      ['b', 1 / 12],
      ['c', 1 / 13],
    ]);
  });

  test("normalises by rank, so a source's score scale does not matter", () => {
    const small = [candidate('a', 'trending', 0.3), candidate('b', 'trending', 0.2)];
    const huge = [candidate('a', 'trending', 1e9), candidate('b', 'trending', -5)];
    expect(blend([small], WEIGHTS)).toEqual(blend([huge], WEIGHTS));
  });

  test('lets a source with huge raw scores weigh no more than its blend weight', () => {
    const model = [candidate('m', 'model', 0.01)];
    const popular = [candidate('p', 'popular', 1e12)];
    expect(ids(blend([popular, model], WEIGHTS))).toEqual(['m', 'p']);
  });

  test('ranks by the sum of shares from every source', () => {
    const ranked = blend(
      [list('model', ['a', 'b']), list('popular', ['b', 'a']), list('trending', ['b'])],
      WEIGHTS,
    );
    expect(ranked[0].itemId).toBe('b');
    expect(ranked[0].score).toBeCloseTo(1 / 12 + 0.2 / 11 + 0.3 / 11, 15);
    expect(ranked[1].score).toBeCloseTo(1 / 11 + 0.2 / 12, 15);
  });

  test('breaks ties between items by item id, whatever the order of the lists', () => {
    const lists = [list('trending', ['b']), list('model', ['c']), list('category', ['a'])];
    for (const order of [lists, [...lists].reverse(), [lists[1], lists[0], lists[2]]]) {
      expect(ids(blend(order, EVEN))).toEqual(['a', 'b', 'c']);
    }
  });

  test('ranks equal scores within one list by item id, whatever their order', () => {
    const tied = ['d', 'b', 'e', 'a', 'c'].map((id) => candidate(id, 'model', 1));
    const reference = blend([tied], WEIGHTS);
    expect(ids(reference)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(reference[0].score).toBeGreaterThan(reference[4].score);
    for (const order of shuffles(tied, [1, 2, 3, 4, 5])) {
      expect(blend([order], WEIGHTS)).toEqual(reference);
    }
  });

  test('counts an item listed twice by one source once, at its better rank', () => {
    const repeated = [
      candidate('a', 'model', 0.9),
      candidate('b', 'model', 0.5),
      candidate('a', 'model', 0.1),
    ];
    const ranked = blend([repeated], WEIGHTS);
    expect(ranked.map((r) => [r.itemId, r.score])).toEqual([
      ['a', 1 / 11],
      ['b', 1 / 12],
    ]);
  });

  test('drops sources whose blend weight is zero', () => {
    const weights = { ...WEIGHTS, popular: 0 };
    const ranked = blend([list('model', ['a']), list('popular', ['a', 'p'])], weights);
    expect(ids(ranked)).toEqual(['a']);
    expect(ranked[0].contributions.map((c) => c.source)).toEqual(['model']);
  });

  test('returns nothing for no lists or empty lists', () => {
    expect(blend([], WEIGHTS)).toEqual([]);
    expect(blend([[], []], WEIGHTS)).toEqual([]);
  });

  test('names each source in the contributions, largest share first', () => {
    const lists = [
      [candidate('x', 'popular', 10)],
      [candidate('x', 'category', 3, { category: 'Drama' })],
      [candidate('y', 'model', 9), candidate('x', 'model', 1)],
    ];
    const x = blend(lists, WEIGHTS).find((r) => r.itemId === 'x');
    expect(x?.contributions).toEqual([
      { source: 'model', share: 1 / 12, because: undefined },
      { source: 'category', share: 0.5 / 11, because: { category: 'Drama' } },
      { source: 'popular', share: 0.2 / 11, because: undefined },
    ]);
    const total = x?.contributions.reduce((sum, c) => sum + c.share, 0);
    expect(total).toBeCloseTo(x?.score as number, 15);
  });

  test('adds up two lists from one source, and the larger share keeps its because', () => {
    const fromAlien = list('covisitation', ['p', 'q', 'x']).map((c) => ({
      ...c,
      because: { itemId: 'alien' },
    }));
    const fromStarWars = [candidate('x', 'covisitation', 0.7, { itemId: 'star-wars' })];
    for (const lists of [
      [fromAlien, fromStarWars],
      [fromStarWars, fromAlien],
    ]) {
      const x = blend(lists, WEIGHTS).find((r) => r.itemId === 'x');
      expect(x?.contributions).toHaveLength(1);
      expect(x?.contributions[0].because).toEqual({ itemId: 'star-wars' });
      expect(x?.contributions[0].share).toBeCloseTo(0.8 / 13 + 0.8 / 11, 15);
    }
  });

  test('gives the because of the single largest share among three lists of one source', () => {
    // x ranks 2nd after "alien", 3rd after "heat" and 1st after "star-wars".
    const anchored = (anchor: string, itemIds: string[]) =>
      list('covisitation', itemIds).map((c) => ({ ...c, because: { itemId: anchor } }));
    const lists = [
      anchored('alien', ['p', 'x']),
      anchored('heat', ['p', 'q', 'x']),
      anchored('star-wars', ['x']),
    ];
    for (const order of [lists, [...lists].reverse(), [lists[1], lists[2], lists[0]]]) {
      const x = blend(order, WEIGHTS).find((r) => r.itemId === 'x');
      expect(x?.contributions[0].because).toEqual({ itemId: 'star-wars' });
      expect(x?.contributions[0].share).toBeCloseTo(0.8 * (1 / 12 + 1 / 13 + 1 / 11), 15);
    }
  });
});

describe('rankCandidates', () => {
  const FACTS: Record<string, ItemFacts> = {
    'star-wars': { categories: ['Action', 'Sci-Fi'], available: true },
    alien: { categories: ['Horror', 'Sci-Fi'], available: true },
    casablanca: { categories: ['Drama', 'Romance'], available: true },
    fargo: { categories: ['Crime', 'Drama'], available: true },
    heat: { categories: ['Action', 'Crime'], available: true },
    se7en: { categories: ['Crime', 'Drama', 'Thriller'], available: true },
    amelie: { categories: ['Comedy', 'Romance'], available: true },
    'toy-story': { categories: ['Animation'], available: true },
    withdrawn: { categories: ['Drama'], available: false },
    untagged: { categories: [], available: true },
  };
  const factsOf = (itemId: string): ItemFacts | undefined => FACTS[itemId];

  /** A model list in this order, with the unknown item "ghost" on top. */
  const ORDER = [
    'ghost',
    'withdrawn',
    'star-wars',
    'fargo',
    'casablanca',
    'alien',
    'heat',
    'se7en',
    'amelie',
    'toy-story',
    'untagged',
  ];

  function rank(rules: Partial<RankingRules>): string[] {
    const all: RankingRules = { limit: 100, exclude: new Set(), ...rules };
    return ids(rankCandidates([list('model', ORDER)], WEIGHTS, all, factsOf));
  }

  const KNOWN_AND_AVAILABLE = ORDER.filter((id) => id !== 'ghost' && id !== 'withdrawn');

  test('returns known, available items in blended order', () => {
    expect(rank({})).toEqual(KNOWN_AND_AVAILABLE);
  });

  test('never returns items the catalogue does not know or that are unavailable', () => {
    const result = rank({ limit: 3 });
    expect(result).not.toContain('ghost');
    expect(result).not.toContain('withdrawn');
    expect(result).toEqual(['star-wars', 'fargo', 'casablanca']);
  });

  test('never returns excluded items, and fills their places from further down', () => {
    const result = rank({ limit: 3, exclude: new Set(['star-wars', 'casablanca']) });
    expect(result).toEqual(['fargo', 'alien', 'heat']);
  });

  test('keeps only items in one of the included categories', () => {
    expect(rank({ includeCategories: ['Romance', 'Animation'] })).toEqual([
      'casablanca',
      'amelie',
      'toy-story',
    ]);
  });

  test('treats an empty include list as no filter', () => {
    expect(rank({ includeCategories: [] })).toEqual(KNOWN_AND_AVAILABLE);
  });

  test('drops items in any excluded category', () => {
    expect(rank({ excludeCategories: ['Drama', 'Sci-Fi'] })).toEqual([
      'heat',
      'amelie',
      'toy-story',
      'untagged',
    ]);
  });

  test('lets an excluded category win over an included one', () => {
    expect(rank({ includeCategories: ['Crime'], excludeCategories: ['Drama'] })).toEqual(['heat']);
  });

  test('caps how many items each category contributes', () => {
    // With one per category, casablanca (Drama), alien (Sci-Fi), heat (Action)
    // and se7en (Crime) each repeat a category already taken.
    expect(rank({ maxPerCategory: 1 })).toEqual([
      'star-wars',
      'fargo',
      'amelie',
      'toy-story',
      'untagged',
    ]);
    // With two, only se7en finds Crime (fargo, heat) full.
    const withoutSe7en = KNOWN_AND_AVAILABLE.filter((id) => id !== 'se7en');
    expect(rank({ maxPerCategory: 2 })).toEqual(withoutSe7en);
  });

  test('counts only returned items against a category cap', () => {
    // withdrawn (Drama) is unavailable and star-wars (Sci-Fi) excluded, so
    // neither takes its category's place: fargo and alien still fit.
    const result = rank({ maxPerCategory: 1, exclude: new Set(['star-wars']) });
    expect(result).toEqual(['fargo', 'alien', 'amelie', 'toy-story', 'untagged']);
  });

  test('applies no cap when maxPerCategory is null', () => {
    expect(rank({ maxPerCategory: null })).toEqual(KNOWN_AND_AVAILABLE);
  });

  test.each([0, 1, 4, 7])('returns at most limit = %p items, the best ones', (limit) => {
    expect(rank({ limit })).toEqual(KNOWN_AND_AVAILABLE.slice(0, limit));
  });

  test('returns every eligible item when the limit is larger than the pool', () => {
    expect(rank({ limit: 1000 })).toHaveLength(KNOWN_AND_AVAILABLE.length);
  });

  test("keeps each result's score and contributions from the blend", () => {
    const [top] = rankCandidates(
      [list('model', ['fargo']), [candidate('fargo', 'popular', 1, { category: 'Drama' })]],
      WEIGHTS,
      { limit: 1, exclude: new Set() },
      factsOf,
    );
    expect(top.score).toBeCloseTo(1.2 / 11, 15);
    expect(top.contributions.map((c) => c.source)).toEqual(['model', 'popular']);
    expect(top.contributions[1].because).toEqual({ category: 'Drama' });
  });
});

describe('explain', () => {
  const TITLES: Record<string, string> = { 'star-wars': 'Star Wars (1977)' };
  const lookup = {
    titleOf: (itemId: string) => TITLES[itemId],
    categoryOf: (itemId: string) => (itemId === 'fargo' ? 'Crime' : undefined),
    actionOf: (itemId: string) => (itemId === 'star-wars' ? ('RATE' as const) : undefined),
  };
  const said = (source: CandidateSource, because?: Contribution['because'], itemId = 'x') =>
    explain({ source, share: 0.1, because }, itemId, lookup);

  test.each<[CandidateSource, Contribution['because'], string]>([
    ['model', undefined, 'matches your taste'],
    ['ease', { itemId: 'star-wars' }, 'because you rated Star Wars (1977)'],
    ['itemKnn', { itemId: 'star-wars' }, 'because you rated Star Wars (1977)'],
    ['itemKnn', { itemId: 'untitled' }, 'similar to items you liked'],
    ['covisitation', { itemId: 'star-wars' }, 'because you rated Star Wars (1977)'],
    ['covisitation', { itemId: 'untitled' }, 'often enjoyed together with items you liked'],
    ['covisitation', undefined, 'often enjoyed together with items you liked'],
    ['category', { category: 'Drama' }, 'popular in Drama, which you enjoy'],
    ['category', undefined, 'popular in genres you enjoy'],
    ['trending', { category: 'Drama' }, 'trending in Drama'],
    ['trending', undefined, 'trending now'],
    ['popular', { category: 'Drama' }, 'popular in Drama'],
    ['popular', undefined, 'popular with everyone'],
  ])('explains %s because %j as "%s"', (source, because, sentence) => {
    expect(said(source, because)).toBe(sentence);
  });

  test('names the action the user took on the anchor item', () => {
    const withAction = (type: EventType | undefined) =>
      explain({ source: 'itemKnn', share: 1, because: { itemId: 'star-wars' } }, 'x', {
        titleOf: lookup.titleOf,
        actionOf: () => type,
      });
    expect(withAction('PURCHASE')).toBe('because you bought Star Wars (1977)');
    expect(withAction('VIEW')).toBe('because you viewed Star Wars (1977)');
    expect(withAction(undefined)).toBe('because you liked Star Wars (1977)');
  });

  test('without a user (similar items) the anchor is what is being viewed', () => {
    const similar = explain(
      { source: 'itemKnn', share: 1, because: { itemId: 'star-wars' } },
      'x',
      {
        titleOf: lookup.titleOf,
      },
    );
    expect(similar).toBe('similar to Star Wars (1977)');
  });

  test("says which category an item is trending in, from the item's main category", () => {
    expect(said('trending', undefined, 'fargo')).toBe('trending in Crime');
  });

  test('has a sentence and a default blend weight for every source', () => {
    for (const source of CANDIDATE_SOURCES) {
      expect(said(source)).toMatch(/^[a-z].+[a-z)]$/);
      expect(DEFAULT_BLEND_WEIGHTS[source]).toBeGreaterThan(0);
    }
  });
});

describe('RuleFilter', () => {
  const facts: Record<string, ItemFacts> = {
    a: { categories: ['Drama'], available: true },
    b: { categories: ['Drama'], available: true },
    c: { categories: ['Comedy'], available: true },
    d: { categories: ['Drama', 'Comedy'], available: true },
  };

  test('fed item by item, it keeps its per-category counts across pages', () => {
    const filter = new RuleFilter({ exclude: new Set(['c']), maxPerCategory: 1 });
    const page1 = ['a', 'b'].filter((id) => filter.accept(id, facts[id]));
    const page2 = ['c', 'd'].filter((id) => filter.accept(id, facts[id]));
    expect(page1).toEqual(['a']);
    expect(page2).toEqual([]);
    expect(filter.allowed('c')).toBe(false);
    expect(filter.allowed('a')).toBe(true);
  });
});

describe('mmrRerank', () => {
  const ranked = [
    { itemId: 'sw1', score: 1 },
    { itemId: 'sw2', score: 0.95 },
    { itemId: 'sw3', score: 0.9 },
    { itemId: 'drama', score: 0.5 },
  ];
  const similarity = (a: string, b: string) => (a.startsWith('sw') === b.startsWith('sw') ? 1 : 0);

  test('lambda 1 keeps the blended order', () => {
    expect(ids(mmrRerank(ranked, 3, 1, similarity))).toEqual(['sw1', 'sw2', 'sw3']);
  });

  test('a lower lambda moves an unlike item up', () => {
    expect(ids(mmrRerank(ranked, 3, 0.5, similarity))).toEqual(['sw1', 'drama', 'sw2']);
  });

  test('returns at most limit items, and nothing for nothing', () => {
    expect(mmrRerank(ranked, 10, 0.3, similarity)).toHaveLength(4);
    expect(mmrRerank([], 3, 0.5, similarity)).toEqual([]);
  });
});
