import type { BlendWeights } from '../../../src/domain/ranking';
import { EVALUATED, type ProtocolResult } from '../../../src/evaluation/evaluate';
import { METRICS, type Figures } from '../../../src/evaluation/metrics';
import {
  escapeHtml,
  formatTable,
  renderHtml,
  toJson,
  type EvaluationRun,
} from '../../../src/evaluation/report';
import { DEFAULT_MODEL_PARAMS } from '../../../src/learning/train';

const WEIGHTS: BlendWeights = {
  model: 1,
  ease: 1,
  itemKnn: 0.2,
  covisitation: 0.8,
  category: 0.5,
  trending: 0.3,
  popular: 0.2,
};

function figures(level: number): Figures {
  return Object.fromEntries(
    METRICS.map((m) => [m, { mean: level, stderr: m === 'coverage@10' ? 0 : level / 20 }]),
  ) as Figures;
}

function result(protocol: ProtocolResult['protocol'], withEase = true): ProtocolResult {
  const sources = EVALUATED.filter((s) => withEase || s !== 'ease');
  return {
    protocol,
    seed: 42,
    validation: false,
    splitSeed: 42,
    sizes: { ratings: 1000, train: 800, test: 200, users: 90, items: 120 },
    timings: { splitMs: 1, trainMs: 900, ialsMs: 500, itemKnnMs: 100, easeMs: 300, evaluateMs: 40 },
    weights: WEIGHTS,
    figures: Object.fromEntries(sources.map((s, i) => [s, figures(0.5 - i * 0.05)])),
  };
}

function run(overrides: Partial<EvaluationRun> = {}): EvaluationRun {
  return {
    dataset: '/data/ml-100k',
    seed: 42,
    validation: false,
    weights: WEIGHTS,
    params: DEFAULT_MODEL_PARAMS,
    perSource: 100,
    wallMs: 1234,
    results: [result('random'), result('temporal', false)],
    ...overrides,
  };
}

describe('formatTable', () => {
  const table = formatTable(result('random'));
  const lines = table.split('\n');

  test('has a column per metric and a row per source, with mean ± standard error', () => {
    for (const metric of METRICS) expect(lines[3]).toContain(metric);
    expect(lines).toHaveLength(4 + EVALUATED.length);
    expect(lines[4]).toMatch(/^blend\s+0\.5000 ± 0\.0250/);
    expect(table).toMatch(/^most popular\s/m);
  });

  test('heads the table with the split sizes, training time of each part and weights', () => {
    expect(lines[0]).toBe('random, seed 42 (test): 90 users, train 800, test 200, 120 items');
    expect(lines[1]).toMatch(/training 0\.9 s \(iALS 0\.5 s, item-kNN 0\.1 s, EASE 0\.3 s\)/);
    expect(lines[2]).toBe('blend weights model=1, ease=1, itemKnn=0.2, trending=0.3, popular=0.2');
  });

  test('says when the figures come from a validation split', () => {
    expect(formatTable({ ...result('loo'), validation: true })).toMatch(/validation split/);
  });

  test('leaves out a source the run did not have', () => {
    expect(formatTable(result('temporal', false))).not.toMatch(/EASE  /);
  });
});

describe('toJson', () => {
  test('holds the run settings and every protocol with sizes, timings and figures', () => {
    const parsed = JSON.parse(toJson(run()));
    expect(parsed).toMatchObject({
      dataset: '/data/ml-100k',
      seed: 42,
      validation: false,
      weights: WEIGHTS,
      perSource: 100,
      wallMs: 1234,
    });
    expect(parsed.params.ials.factors).toBe(DEFAULT_MODEL_PARAMS.ials.factors);
    expect(parsed.protocols.map((p: { protocol: string }) => p.protocol)).toEqual([
      'random',
      'temporal',
    ]);
    const random = parsed.protocols[0];
    expect(random.sizes.users).toBe(90);
    expect(random.timings.easeMs).toBe(300);
    expect(random.figures.blend['ndcg@10']).toEqual({ mean: 0.5, stderr: 0.025 });
    expect(Object.keys(random.figures)).toEqual([...EVALUATED]);
  });
});

describe('renderHtml', () => {
  const html = renderHtml(run());

  test('draws one inline SVG chart per metric', () => {
    expect(html.match(/<svg\b/g)).toHaveLength(METRICS.length);
    for (const metric of METRICS) expect(html).toContain(`<figcaption>${metric}</figcaption>`);
  });

  test('puts a bar per source and protocol, and error bars where there is a standard error', () => {
    const firstChart = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    const bars = firstChart.match(/<rect\b/g) ?? [];
    expect(bars).toHaveLength(EVALUATED.length + (EVALUATED.length - 1));
    expect(firstChart).toContain('<title>random, blend: 0.5000 ± 0.0250</title>');
    const coverage = html.slice(html.lastIndexOf('<svg'), html.lastIndexOf('</svg>'));
    expect(coverage).not.toMatch(/stroke="#222"/);
  });

  test('is self-contained: no script, stylesheet link, image or other external resource', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|https?:\/\//i);
  });

  test('escapes the text it shows', () => {
    const hostile = renderHtml(run({ dataset: '/tmp/<script>alert("x")</script>&' }));
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('/tmp/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;');
  });
});

describe('escapeHtml', () => {
  test('escapes the five characters that matter in text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
