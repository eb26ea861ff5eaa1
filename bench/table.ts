/**
 * The results table, as plain text: one line per case with its latency
 * percentiles and rate, then the baseline, then each target with pass or miss.
 */
import {
  type Measure,
  type Quantity,
  type Row,
  type ScenarioReport,
  formatNumber,
} from './results';

const HEADERS = ['scenario', 'case', 'p50 ms', 'p95 ms', 'p99 ms', 'rate / amount', 'baseline'];

/** Renders every report's rows as an aligned table, followed by targets and notes. */
export function renderTable(reports: readonly ScenarioReport[]): string {
  const lines: string[][] = [];
  const targets: string[] = [];
  const notes: string[] = [];
  for (const report of reports) {
    if (report.error) {
      lines.push([report.scenario, `FAILED: ${report.error}`, '', '', '', '', '']);
      continue;
    }
    for (const row of report.rows) {
      lines.push(rowCells(row));
      for (const note of row.notes ?? []) notes.push(`  ${row.scenario} / ${row.case}: ${note}`);
      for (const t of row.targets) {
        targets.push(
          `  ${t.pass ? 'pass' : 'MISS'}  ${row.scenario} / ${row.case}: ` +
            `${t.text} (measured ${t.actual})`,
        );
      }
    }
  }
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [format(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)];
  if (targets.length > 0) out.push('', 'targets:', ...targets);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  const walls = reports.map((r) => `${r.scenario} ${r.wallSeconds.toFixed(1)} s`);
  out.push('', `wall time: ${walls.join(', ')}`);
  return `${out.join('\n')}\n`;
}

function rowCells(row: Row): string[] {
  const m = row.measured;
  return [
    row.scenario,
    row.case,
    ms(m.latency?.p50),
    ms(m.latency?.p95),
    ms(m.latency?.p99),
    rateOrAmount(m),
    row.baseline ? baselineCell(row.baseline) : '',
  ];
}

/** "label: 12,000 events/s, p99 3.1 ms" */
function baselineCell(b: Measure): string {
  const parts = [rateOrAmount(b)];
  if (b.latency) parts.push(`p50 ${ms(b.latency.p50)} / p99 ${ms(b.latency.p99)} ms`);
  return `${b.label}: ${parts.filter(Boolean).join(', ')}`;
}

function rateOrAmount(m: Measure): string {
  const parts = [m.throughput, m.amount].filter((q): q is Quantity => q !== undefined);
  const text = parts.map((q) => `${formatNumber(q.value)} ${q.unit}`).join(', ');
  return m.errors ? `${text} (${m.errors} errors)` : text;
}

function ms(value: number | undefined): string {
  return value === undefined ? '' : formatNumber(value);
}
