/**
 * `npm run bench -- [--quick] [--scenario <name>] [--json <file>] [sizes]`
 *
 * Starts recflow on the local services (each scenario in its own database,
 * stream, subjects, consumer and Redis prefix, deleted afterwards), runs the
 * scenarios, prints a table with each result beside its baseline and target,
 * and writes the same results as JSON. Traffic goes to 127.0.0.1 only.
 *
 * A script, not a test: it exits 0 when every scenario ran, whether or not
 * the targets were met, and 1 when a scenario failed to run.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type BenchContext, type BenchOptions, FULL, QUICK, runScenarios } from './runner';
import { renderTable } from './table';
import { freshness } from './scenarios/freshness';
import { ingestion } from './scenarios/ingestion';
import { pipeline } from './scenarios/pipeline';
import { query } from './scenarios/query';
import { ranking } from './scenarios/ranking';
import { scale } from './scenarios/scale';
import { subscriptions } from './scenarios/subscriptions';

const SCENARIOS = [ingestion, pipeline, freshness, query, subscriptions, scale, ranking];

/** Flags that set a size, with the option each one sets. */
const SIZE_FLAGS: Record<string, keyof BenchOptions> = {
  'ingest-events': 'ingestEvents',
  'ingest-concurrency': 'ingestConcurrency',
  'pipeline-events': 'pipelineEvents',
  'pipeline-users': 'pipelineUsers',
  'pipeline-items': 'pipelineItems',
  'pipeline-batch': 'pipelineBatch',
  'pipeline-lanes': 'pipelineLanes',
  'freshness-samples': 'freshnessSamples',
  'background-rate': 'backgroundRate',
  'query-seconds': 'querySeconds',
  'query-concurrency': 'queryConcurrency',
  subscriptions: 'subscriptions',
  'subscription-connections': 'subscriptionConnections',
  'fanout-users': 'fanoutUsers',
  'scale-users': 'scaleUsers',
  'scale-items': 'scaleItems',
  'scale-events': 'scaleEvents',
};

const USAGE = `usage: npm run bench -- [--quick] [--scenario <name>] [--json <file>]
  scenarios: ${SCENARIOS.map((s) => s.name).join(', ')} (scale and ranking only when named)
  sizes: ${Object.keys(SIZE_FLAGS)
    .map((f) => `--${f} N`)
    .join(' ')} --query-rates 500,1000,2000`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      scenario: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
      'query-rates': { type: 'string' },
      ...Object.fromEntries(Object.keys(SIZE_FLAGS).map((f) => [f, { type: 'string' as const }])),
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = readOptions(values as Record<string, string | boolean | undefined>);
  const chosen = values.scenario
    ? SCENARIOS.filter((s) => s.name === values.scenario)
    : SCENARIOS.filter((s) => s.inDefaultRun);
  if (chosen.length === 0) throw new Error(`unknown scenario "${values.scenario}"\n${USAGE}`);

  let current: BenchContext | undefined;
  onSignal(() => current);
  const started = performance.now();
  const reports = await runScenarios(chosen, options, (ctx) => (current = ctx));
  const wallSeconds = (performance.now() - started) / 1000;

  process.stdout.write(`\n${renderTable(reports)}`);
  process.stdout.write(`total wall time: ${wallSeconds.toFixed(1)} s\n`);
  if (typeof values.json === 'string') {
    const result = { machine: machine(), options, wallSeconds, reports };
    mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`results written to ${values.json}\n`);
  }
  return reports.some((r) => r.error) ? 1 : 0;
}

function readOptions(values: Record<string, string | boolean | undefined>): BenchOptions {
  const options: BenchOptions = { ...(values.quick ? QUICK : FULL) };
  for (const [flag, key] of Object.entries(SIZE_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number >= 1`);
    (options as unknown as Record<string, number>)[key] = n;
  }
  if (typeof values['query-rates'] === 'string') {
    const rates = values['query-rates'].split(',').map(Number);
    if (rates.some((r) => !Number.isFinite(r) || r <= 0 || r > 50_000))
      throw new Error('--query-rates takes request rates between 1 and 50,000, e.g. 500,1000');
    options.queryRates = rates;
  }
  return options;
}

function machine(): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Ctrl-C: clean up what the running scenario created, then exit; a second one exits at once. */
function onSignal(current: () => BenchContext | undefined): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`${signal}: cleaning up\n`);
    void (current()?.cleanUp() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(2);
  },
);
