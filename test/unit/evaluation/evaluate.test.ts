/**
 * The offline evaluation on a tiny MovieLens-format data set with a known
 * right answer (see test/support/tiny-movielens.ts): personalised sources
 * must beat most-popular there.
 */
import { readEvaluationData } from '../../../src/cli/eval-command';
import { DEFAULT_BLEND_WEIGHTS } from '../../../src/domain/ranking';
import {
  evaluateProtocol,
  prepareEvaluation,
  scoreBlend,
  type EvaluationData,
} from '../../../src/evaluation/evaluate';
import { split } from '../../../src/evaluation/split';
import { TINY, writeTinyMovieLens, type TinyMovieLens } from '../../support/tiny-movielens';

let tiny: TinyMovieLens;
let data: EvaluationData;

beforeAll(async () => {
  tiny = await writeTinyMovieLens();
  data = await readEvaluationData(tiny.dir);
});

afterAll(() => tiny.remove());

describe.each(['random', 'temporal'] as const)('the %s protocol on two disjoint tastes', (p) => {
  test('blend and model beat most-popular on NDCG@10 and precision@10', () => {
    const { figures } = evaluateProtocol(data, p, 42);
    const ndcg = (s: keyof typeof figures) => figures[s]?.['ndcg@10'].mean ?? NaN;
    const precision = (s: keyof typeof figures) => figures[s]?.['precision@10'].mean ?? NaN;
    for (const source of ['blend', 'model'] as const) {
      expect(ndcg(source)).toBeGreaterThan(ndcg('popular') + 0.1);
      expect(precision(source)).toBeGreaterThan(precision('popular'));
    }
  });
});

describe('evaluateProtocol', () => {
  test('reports sizes, timings and the weights used, and repeats exactly for a seed', () => {
    const first = evaluateProtocol(data, 'random', 7);
    expect(first.sizes.train + first.sizes.test).toBe(tiny.ratingCount);
    expect(first.sizes.items).toBe(2 * TINY.itemsPerGenre);
    expect(first.sizes.users).toBeGreaterThan(0);
    expect(first.sizes.users).toBeLessThanOrEqual(TINY.actionFans + TINY.comedyFans);
    expect(first.timings.trainMs).toBeGreaterThanOrEqual(0);
    expect(first.weights).toEqual(DEFAULT_BLEND_WEIGHTS);
    expect(Object.keys(first.figures)).toEqual([
      'blend',
      'model',
      'ease',
      'itemKnn',
      'trending',
      'popular',
    ]);
    expect(evaluateProtocol(data, 'random', 7).figures).toEqual(first.figures);
  });

  test('validation sees only train: it equals a run on train, seed + 1', () => {
    const validation = evaluateProtocol(data, 'temporal', 42, { validation: true });
    const trainOnly = { ratings: split(data.ratings, 'temporal', 42).train, items: data.items };
    const direct = evaluateProtocol(trainOnly, 'temporal', 43);
    expect(validation.validation).toBe(true);
    expect(validation.splitSeed).toBe(43);
    expect(validation.sizes).toEqual(direct.sizes);
    expect(validation.figures).toEqual(direct.figures);
    expect(validation.sizes.ratings).toBe(trainOnly.ratings.length);
  });

  test('blend weights apply: with only the model weighted, the blend is the model', () => {
    // The model's scores do not tie. (Popularity counts do, and the blend orders a
    // source's ties by item id where the single-source list uses the seeded order.)
    const weights = { ...DEFAULT_BLEND_WEIGHTS, ease: 0, itemKnn: 0, trending: 0, popular: 0 };
    const { figures } = evaluateProtocol(data, 'random', 42, { weights });
    expect(figures.blend).toEqual(figures.model);
    expect(figures.blend).not.toEqual(figures.popular);
  });

  test('a prepared evaluation scores any weights without retraining', () => {
    const prepared = prepareEvaluation(data, 'random', 42);
    const weights = { ...DEFAULT_BLEND_WEIGHTS, ease: 2 };
    expect(scoreBlend(prepared, weights)).toEqual(
      evaluateProtocol(data, 'random', 42, { weights }).figures.blend,
    );
  });
});
