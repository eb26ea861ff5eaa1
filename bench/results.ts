/**
 * What a scenario reports: one row per case, each with its measurement, the
 * baseline measured in the same run, and the target it is judged against.
 */
import type { Summary } from './percentiles';

/** A rate (events/s, req/s...) or a size (bytes, MiB...), with its unit. */
export interface Quantity {
  value: number;
  unit: string;
}

export interface Measure {
  /** What was measured, in a few words ("raw JetStream publish"). */
  label: string;
  /** Latencies in milliseconds. */
  latency?: Summary;
  throughput?: Quantity;
  /** A size or count that is neither a latency nor a rate (memory per subscription). */
  amount?: Quantity;
  errors?: number;
}

export interface Target {
  /** The target as written in the issue ("p99 <= 10 ms"). */
  text: string;
  pass: boolean;
  /** The measured figure the target looks at, as printed beside it. */
  actual: string;
}

export interface Row {
  scenario: string;
  case: string;
  measured: Measure;
  baseline?: Measure;
  targets: Target[];
  /** Anything a reader needs to interpret the row (set-up, limits changed, profile). */
  notes?: string[];
}

export interface ScenarioReport {
  scenario: string;
  wallSeconds: number;
  rows: Row[];
  /** Extra figures for the JSON only: profiles, sizes, settings. */
  details?: Record<string, unknown>;
  error?: string;
}

/** Builds a target from a comparison, formatting the actual value for the table. */
export function target(text: string, actual: number, pass: boolean, unit = ''): Target {
  return { text, actual: `${formatNumber(actual)}${unit ? ` ${unit}` : ''}`, pass };
}

/** 3 significant figures below 100, thousands separators above. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}
