/**
 * The three forms of an evaluation's results:
 *
 *   formatTable  a plain-text table per protocol for the terminal
 *   toJson       every figure, size, timing and parameter, for machines
 *   renderHtml   a self-contained page: one bar chart (inline SVG) per
 *                metric, the sources side by side, one group per protocol,
 *                error bars of ±1 standard error; no script, no external
 *                resource, every text escaped
 */
import type { ReplayResult } from './replay';
import type { BlendWeights } from '../domain/ranking';
import type { ModelParams } from '../learning/model';
import { EVALUATED, LIST_SOURCES, type Evaluated, type ProtocolResult } from './evaluate';
import { METRICS, type Figure, type Metric } from './metrics';

/** One `recflow eval` run: the same data, seed and settings for every protocol. */
export interface EvaluationRun {
  dataset: string;
  seed: number;
  validation: boolean;
  weights: BlendWeights;
  params: ModelParams;
  perSource: number;
  /** Wall time of the whole run, data reading included. */
  wallMs: number;
  results: ProtocolResult[];
  /** Replay through the real pipeline, when it was run. */
  replay?: ReplayResult;
}

/** The replay's hit rates, fold-in on against off, as a terminal table. */
export function formatReplay(replay: ReplayResult): string {
  const { results } = replay;
  const pct = (x: number) => x.toFixed(4);
  const rows = [
    ['', 'all users', 'users new since training'],
    ['events', String(replay.heldOutEvents), String(replay.newUserEvents)],
    ['model, fold-in on', pct(results.modelOn.hr10), pct(results.newUsers.modelOn.hr10)],
    ['model, fold-in off', pct(results.modelOff.hr10), pct(results.newUsers.modelOff.hr10)],
    ['served blend, fold-in on', pct(results.blendOn.hr10), pct(results.newUsers.blendOn.hr10)],
    ['served blend, fold-in off', pct(results.blendOff.hr10), pct(results.newUsers.blendOff.hr10)],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
  return [
    `replay of the latest ${replay.heldOutEvents} events through the pipeline: ` +
      'HR@10 of the next interaction',
    ...lines,
    `(${replay.historyEvents} earlier events loaded first; ` +
      `${(replay.durationMs / 1000).toFixed(0)} s)`,
  ].join('\n');
}

const LABELS: Record<Evaluated, string> = {
  blend: 'blend',
  model: 'model (iALS)',
  ease: 'EASE',
  itemKnn: 'item-kNN',
  trending: 'trending',
  popular: 'most popular',
};

/** The figures of one protocol as a text table: rows are sources, columns metrics. */
export function formatTable(result: ProtocolResult): string {
  const { sizes, timings } = result;
  const part = result.validation ? 'validation split of train' : 'test';
  const header = [
    `${result.protocol}, seed ${result.seed} (${part}): ${count(sizes.users)} users, ` +
      `train ${count(sizes.train)}, test ${count(sizes.test)}, ${count(sizes.items)} items`,
    `training ${seconds(timings.trainMs)} (iALS ${seconds(timings.ialsMs)}, ` +
      `item-kNN ${seconds(timings.itemKnnMs)}, EASE ${seconds(timings.easeMs)}), ` +
      `evaluation ${seconds(timings.evaluateMs)}`,
    `blend weights ${formatWeights(result.weights)}`,
  ];
  const rows = [['', ...METRICS]];
  for (const source of evaluatedIn(result)) {
    const figures = result.figures[source];
    if (!figures) continue;
    rows.push([LABELS[source], ...METRICS.map((m) => formatFigure(m, figures[m]))]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
  return [...header, ...lines].join('\n');
}

/** Coverage is one number for the catalogue, so it has no standard error. */
function formatFigure(metric: Metric, figure: Figure): string {
  const mean = figure.mean.toFixed(4);
  return metric === 'coverage@10' ? mean : `${mean} ± ${figure.stderr.toFixed(4)}`;
}

function evaluatedIn(result: ProtocolResult): Evaluated[] {
  return EVALUATED.filter((source) => result.figures[source] !== undefined);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The run as pretty-printed JSON. */
export function toJson(run: EvaluationRun): string {
  return `${JSON.stringify(
    {
      dataset: run.dataset,
      seed: run.seed,
      validation: run.validation,
      weights: run.weights,
      perSource: run.perSource,
      params: run.params,
      wallMs: run.wallMs,
      protocols: run.results.map((r) => ({
        protocol: r.protocol,
        splitSeed: r.splitSeed,
        sizes: r.sizes,
        timings: r.timings,
        figures: r.figures,
      })),
      ...(run.replay ? { replay: run.replay } : {}),
    },
    null,
    2,
  )}\n`;
}

const COLOURS: Record<Evaluated, string> = {
  blend: '#1b6ca8',
  model: '#4aa3df',
  ease: '#2e9e6b',
  itemKnn: '#8fcf9f',
  trending: '#e39b2d',
  popular: '#9a9a9a',
};

/** A self-contained HTML report: one chart per metric and a table per protocol. */
export function renderHtml(run: EvaluationRun): string {
  const part = run.validation ? 'validation split carved from train' : 'test split';
  const sources = EVALUATED.filter((s) => run.results.some((r) => r.figures[s] !== undefined));
  const legend = sources
    .map(
      (s) =>
        `<span class="key"><span class="swatch" style="background:${COLOURS[s]}"></span>` +
        `${escapeHtml(LABELS[s])}</span>`,
    )
    .join(' ');
  const charts = METRICS.map(
    (metric) =>
      `<figure>\n<figcaption>${escapeHtml(metric)}</figcaption>\n` +
      `${barChart(run.results, metric, sources)}\n</figure>`,
  ).join('\n');
  const tables = [
    ...run.results.map((r) => `<pre>${escapeHtml(formatTable(r))}</pre>`),
    ...(run.replay ? [`<pre>${escapeHtml(formatReplay(run.replay))}</pre>`] : []),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recflow offline evaluation</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
figure { display: inline-block; margin: 0 2em 2em 0; vertical-align: top; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
.key { margin-right: 1.2em; white-space: nowrap; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
</style>
</head>
<body>
<h1>recflow offline evaluation</h1>
<p>Data: ${escapeHtml(run.dataset)}. Seed ${run.seed}, evaluated on the ${part}.
Every rating counts as an implicit positive; each list ranks every item the user has not seen in
train. Bars are means over users; error bars are &#177;1 standard error (coverage has none).</p>
<p>Blend weights: ${escapeHtml(formatWeights(run.weights))} (the live sources covisitation and
category have no offline twin and are left out).
Whole run: ${escapeHtml(seconds(run.wallMs))}.</p>
<p>${legend}</p>
${charts}
<h2>Figures</h2>
${tables}
</body>
</html>
`;
}

/** The weights of the sources evaluated; covisitation and category have no offline twin. */
function formatWeights(weights: BlendWeights): string {
  return LIST_SOURCES.map((source) => `${source}=${weights[source]}`).join(', ');
}

const CHART = { width: 520, height: 260, left: 48, right: 12, top: 12, bottom: 36 };

/** One metric's bars: a group per protocol, a bar per source, with error bars. */
function barChart(results: ProtocolResult[], metric: Metric, sources: Evaluated[]): string {
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  let highest = 0;
  for (const r of results) {
    for (const s of sources) {
      const f = r.figures[s]?.[metric];
      if (f) highest = Math.max(highest, f.mean + f.stderr);
    }
  }
  const scaleTop = niceCeiling(highest);
  const y = (value: number) => top + plotHeight * (1 - value / scaleTop);
  const parts: string[] = [];

  // Grid lines and their labels.
  for (let t = 0; t <= 4; t += 1) {
    const value = (scaleTop * t) / 4;
    const at = y(value).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${at}" y2="${at}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${at}" text-anchor="end" dominant-baseline="middle" ` +
        `font-size="11">${Number(value.toFixed(3))}</text>`,
    );
  }

  // Bars, error bars and group labels.
  const groupWidth = plotWidth / Math.max(1, results.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, sources.length);
  results.forEach((r, g) => {
    const groupLeft = left + g * groupWidth + groupWidth * 0.1;
    sources.forEach((s, b) => {
      const f = r.figures[s]?.[metric];
      if (!f) return;
      const x = groupLeft + b * barWidth;
      const centre = (x + (barWidth * 0.9) / 2).toFixed(1);
      const label = `${r.protocol}, ${LABELS[s]}: ${formatFigure(metric, f)}`;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(f.mean).toFixed(1)}" ` +
          `width="${(barWidth * 0.9).toFixed(1)}" ` +
          `height="${(y(0) - y(f.mean)).toFixed(1)}" fill="${COLOURS[s]}">` +
          `<title>${escapeHtml(label)}</title></rect>`,
      );
      if (f.stderr > 0) {
        const low = y(Math.max(0, f.mean - f.stderr)).toFixed(1);
        const high = y(f.mean + f.stderr).toFixed(1);
        const cap = (at: string) =>
          `<line x1="${(Number(centre) - 3).toFixed(1)}" x2="${(Number(centre) + 3).toFixed(1)}" ` +
          `y1="${at}" y2="${at}" stroke="#222"/>`;
        parts.push(
          `<line x1="${centre}" x2="${centre}" y1="${low}" y2="${high}" stroke="#222"/>`,
          cap(low),
          cap(high),
        );
      }
    });
    parts.push(
      `<text x="${(left + (g + 0.5) * groupWidth).toFixed(1)}" y="${height - bottom + 18}" ` +
        `text-anchor="middle" font-size="12">${escapeHtml(r.protocol)}</text>`,
    );
  });
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}" stroke="#444"/>`);
  return (
    `<svg width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(metric)}">\n` +
    `${parts.join('\n')}\n</svg>`
  );
}

/** The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least `value`. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
