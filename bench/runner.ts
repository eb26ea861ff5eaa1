/**
 * The shared runner: options, the context each scenario gets, and the loop
 * that runs scenarios one after another, times them, and always cleans up
 * what they created, even when one fails or the run is interrupted.
 */
import type { Role } from '../src/app/app';
import { type BenchEnv, benchEnv } from './env';
import { type RecflowProcess, spawnRecflow } from './processes';
import type { Row, ScenarioReport } from './results';

/** Sizes and durations; every one has a flag (see main.ts) and a quick value. */
export interface BenchOptions {
  quick: boolean;
  ingestEvents: number;
  ingestConcurrency: number;
  pipelineEvents: number;
  pipelineUsers: number;
  pipelineItems: number;
  /** RECFLOW_WORKER_BATCH for the pipeline's workers; 0 keeps recflow's default. */
  pipelineBatch: number;
  /** RECFLOW_WORKER_LANES for the pipeline's workers; 0 keeps recflow's default. */
  pipelineLanes: number;
  freshnessSamples: number;
  backgroundRate: number;
  queryRates: number[];
  querySeconds: number;
  queryConcurrency: number;
  subscriptions: number;
  subscriptionConnections: number;
  fanoutUsers: number;
  scaleUsers: number;
  scaleItems: number;
  scaleEvents: number;
}

export const FULL: BenchOptions = {
  quick: false,
  ingestEvents: 100_000,
  ingestConcurrency: 4,
  pipelineEvents: 50_000,
  pipelineUsers: 20_000,
  pipelineItems: 5_000,
  pipelineBatch: 0,
  pipelineLanes: 0,
  freshnessSamples: 200,
  backgroundRate: 1000,
  queryRates: [500, 1000, 2000],
  querySeconds: 10,
  queryConcurrency: 16,
  subscriptions: 10_000,
  subscriptionConnections: 100,
  fanoutUsers: 1000,
  scaleUsers: 1_000_000,
  scaleItems: 100_000,
  scaleEvents: 1_000_000,
};

export const QUICK: BenchOptions = {
  ...FULL,
  quick: true,
  ingestEvents: 5_000,
  pipelineEvents: 2_000,
  pipelineUsers: 2_000,
  pipelineItems: 500,
  freshnessSamples: 10,
  backgroundRate: 200,
  queryRates: [500, 1000],
  querySeconds: 1,
  subscriptions: 200,
  subscriptionConnections: 10,
  fanoutUsers: 50,
  scaleUsers: 10_000,
  scaleItems: 1_000,
  scaleEvents: 10_000,
};

/** What a scenario returns; the runner adds its name and wall time. */
export interface ScenarioOutcome {
  rows: Row[];
  details?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  /** Part of a run without --scenario. */
  inDefaultRun: boolean;
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}

/** Everything a scenario creates goes through here, so that the runner can remove it. */
export class BenchContext {
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(readonly options: BenchOptions) {}

  log(message: string): void {
    process.stderr.write(`  ${message}\n`);
  }

  /** A fresh isolated environment, deleted when the scenario ends. */
  async env(overrides: Record<string, string> = {}): Promise<BenchEnv> {
    const env = await benchEnv(overrides);
    this.cleanups.push(() => env.cleanUp());
    return env;
  }

  /**
   * recflow in a child process, stopped when the scenario ends (or earlier
   * by the caller). `onLine` hears every line it prints, from its start, with
   * its process id.
   */
  async spawn(
    role: Role,
    env: BenchEnv,
    extra: Record<string, string> = {},
    options: {
      logLevel?: 'info' | 'debug';
      onLine?: (line: string, pid: number) => void;
    } = {},
  ) {
    const child: RecflowProcess = await spawnRecflow(
      role,
      { ...env.env, ...extra },
      30_000,
      options.logLevel,
      options.onLine,
    );
    this.cleanups.push(() => child.stop());
    return child;
  }

  /** Registers any other clean-up (clients, connections). */
  defer(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(async () => cleanup());
  }

  /** Runs the clean-ups, newest first; one failing does not stop the others. */
  async cleanUp(): Promise<void> {
    while (this.cleanups.length > 0) {
      const cleanup = this.cleanups.pop() as () => Promise<void>;
      await cleanup().catch((error: Error) =>
        process.stderr.write(`  clean-up failed: ${error.message}\n`),
      );
    }
  }
}

/** Runs scenarios in order; a failed scenario is reported and the run goes on. */
export async function runScenarios(
  scenarios: readonly Scenario[],
  options: BenchOptions,
  onContext: (ctx: BenchContext | undefined) => void,
): Promise<ScenarioReport[]> {
  const reports: ScenarioReport[] = [];
  for (const scenario of scenarios) {
    process.stderr.write(`scenario ${scenario.name}\n`);
    const ctx = new BenchContext(options);
    onContext(ctx);
    const started = performance.now();
    let report: ScenarioReport;
    try {
      const outcome = await scenario.run(ctx);
      report = { scenario: scenario.name, wallSeconds: 0, ...outcome };
    } catch (error) {
      process.stderr.write(`  failed: ${(error as Error).stack}\n`);
      report = { scenario: scenario.name, wallSeconds: 0, rows: [], error: String(error) };
    } finally {
      await ctx.cleanUp();
      onContext(undefined);
    }
    report.wallSeconds = (performance.now() - started) / 1000;
    reports.push(report);
  }
  return reports;
}
