import { MetricsAccumulator, scoreList } from '../../../src/evaluation/metrics';

const log2 = Math.log2;

describe('scoreList', () => {
  // Relevant items 1, 2 and 3; the list finds 1 at rank 1 and 2 at rank 3.
  const scores = scoreList([1, 90, 2, 91, 92, 93, 94, 95, 96, 97], new Set([1, 2, 3]));

  test('precision divides hits by 10 and recall by the number of test items', () => {
    expect(scores.precision10).toBeCloseTo(2 / 10, 12);
    expect(scores.recall10).toBeCloseTo(2 / 3, 12);
    expect(scores.hit10).toBe(1);
  });

  test('NDCG divides by the ideal DCG of min(test items, 10) hits', () => {
    const dcg = 1 / log2(2) + 1 / log2(4);
    const ideal = 1 / log2(2) + 1 / log2(3) + 1 / log2(4);
    expect(scores.ndcg10).toBeCloseTo(dcg / ideal, 12);
    expect(scores.ndcg10).toBeCloseTo(0.703918, 6);
  });

  test('MAP averages precision at each hit over min(test items, 10)', () => {
    expect(scores.map10).toBeCloseTo((1 / 1 + 2 / 3) / 3, 12);
  });

  test('with more than 10 test items, a perfect top 10 scores NDCG and MAP 1', () => {
    const relevant = new Set(Array.from({ length: 12 }, (_, i) => i));
    const perfect = scoreList([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 10, 51, 11], relevant);
    expect(perfect.ndcg10).toBeCloseTo(1, 12);
    expect(perfect.map10).toBeCloseTo(1, 12);
    expect(perfect.precision10).toBe(1);
    expect(perfect.recall10).toBeCloseTo(10 / 12, 12);
    expect(perfect.recall20).toBeCloseTo(12 / 12, 12);
  });

  test('recall@20 counts hits at ranks 11 to 20 that recall@10 does not', () => {
    const late = scoreList([...Array.from({ length: 10 }, (_, i) => 100 + i), 7], new Set([7, 8]));
    expect(late.recall10).toBe(0);
    expect(late.recall20).toBe(0.5);
    expect(late.ndcg10).toBe(0);
    expect(late.hit10).toBe(0);
  });

  test('an empty or short list scores what it holds, over 10 places', () => {
    expect(scoreList([], new Set([1]))).toEqual({
      precision10: 0,
      recall10: 0,
      recall20: 0,
      ndcg10: 0,
      map10: 0,
      hit10: 0,
    });
    expect(scoreList([1], new Set([1])).precision10).toBe(0.1);
  });
});

describe('MetricsAccumulator', () => {
  test('reports the mean over users and its standard error', () => {
    const metrics = new MetricsAccumulator(100);
    metrics.add([1], new Set([1])); // NDCG 1
    metrics.add([2], new Set([1])); // NDCG 0
    metrics.add([1, 3], new Set([3])); // NDCG 1 / log2(3)
    const values = [1, 0, 1 / log2(3)];
    const mean = values.reduce((a, b) => a + b) / 3;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2;
    const { mean: got, stderr } = metrics.figures()['ndcg@10'];
    expect(got).toBeCloseTo(mean, 12);
    expect(stderr).toBeCloseTo(Math.sqrt(variance / 3), 12);
    expect(metrics.userCount).toBe(3);
  });

  test('skips users without test items, and one user has no standard error', () => {
    const metrics = new MetricsAccumulator(10);
    metrics.add([1], new Set());
    metrics.add([1], new Set([1]));
    expect(metrics.userCount).toBe(1);
    expect(metrics.figures()['hr@10']).toEqual({ mean: 1, stderr: 0 });
  });

  test('coverage@10 is the share of the catalogue in anybody’s top 10', () => {
    const metrics = new MetricsAccumulator(40);
    metrics.add([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], new Set([1]));
    metrics.add([1, 2, 30], new Set([2]));
    expect(metrics.figures()['coverage@10']).toEqual({ mean: 11 / 40, stderr: 0 });
  });
});
