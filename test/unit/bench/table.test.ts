import { summarize } from '../../../bench/percentiles';
import { formatNumber, target } from '../../../bench/results';
import { renderTable } from '../../../bench/table';

describe('formatNumber', () => {
  test('keeps three significant figures for small values and groups thousands', () => {
    expect(formatNumber(0.01234)).toBe('0.012');
    expect(formatNumber(3.14159)).toBe('3.14');
    expect(formatNumber(42.42)).toBe('42.4');
    expect(formatNumber(21_456.7)).toBe('21,457');
    expect(formatNumber(Number.NaN)).toBe('-');
  });
});

describe('renderTable', () => {
  test('prints each case beside its baseline, and each target with pass or MISS', () => {
    const text = renderTable([
      {
        scenario: 'ingestion',
        wallSeconds: 12.34,
        rows: [
          {
            scenario: 'ingestion',
            case: 'batch 1000',
            measured: {
              label: 'recordEvents',
              latency: summarize([10, 20, 30]),
              throughput: { value: 15_000, unit: 'events/s' },
            },
            baseline: {
              label: 'raw JetStream',
              throughput: { value: 40_000, unit: 'events/s' },
            },
            targets: [
              target('>= 20,000 events/s', 15_000, false, 'events/s'),
              target('>= 50% of raw JetStream', 37.5, false, '%'),
            ],
            notes: ['4 calls in flight'],
          },
        ],
      },
      { scenario: 'query', wallSeconds: 1, rows: [], error: 'gateway did not start' },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^scenario\s+case\s+p50 ms\s+p95 ms\s+p99 ms/);
    expect(text).toContain('15,000 events/s');
    expect(text).toContain('raw JetStream: 40,000 events/s');
    expect(text).toContain('MISS  ingestion / batch 1000: >= 20,000 events/s (measured 15,000');
    expect(text).toMatch(/^query +FAILED: gateway did not start/m);
    expect(text).toContain('notes:\n  ingestion / batch 1000: 4 calls in flight');
    expect(text).toContain('wall time: ingestion 12.3 s, query 1.0 s');
  });
});
