#!/usr/bin/env node
/**
 * The `recflow` command.
 *
 *   recflow serve [--role gateway|worker|all]
 *   recflow import movielens <dir> [--wait]
 *   recflow generate [--users N] [--items N] [--events N] [--categories N]
 *                    [--seed N] [--days N] [--wait]
 *   recflow demo [--data <dir>]
 *   recflow train
 *   recflow model list | rollback
 *   recflow migrate
 *   recflow schema [--check]
 *   recflow eval [--data <dir>] [--protocol ...] [--seed N] [--json <file>] [--html <file>] ...
 *
 * Configuration comes from the environment (see README); a bad value stops
 * the command with a message naming the variable, and exit code 2.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RecflowApp, ROLES, type Role, openCore, closeCore, type Core } from '../app/app';
import { CatalogService } from '../catalog/catalog-service';
import { CatalogChanges } from '../messaging/catalog-changes';
import { type Config, loadConfig } from '../config/config';
import { ConfigError } from '../config/env';
import { readMovieLens } from '../importers/movielens';
import {
  type Dataset,
  type ImportSinks,
  type ImportSummary,
  importDataset,
} from '../importers/sinks';
import { DEFAULT_SYNTHETIC, syntheticDataset } from '../importers/synthetic';
import { createLogger } from '../observability/logger';
import { migrate, ensureDatabase } from '../storage/postgres/migrate';
import { evalCommand } from './eval-command';
import { modelCommand, ModelUsageError, trainCommand } from './model-commands';
import { writeSchema } from './print-schema';
import { ProgressBar } from './progress';
import { askForFill, refillCommand } from './refill-command';
import { waitForPipeline } from '../pipeline/wait';

const USAGE = `usage:
  recflow serve [--role gateway|worker|all]
  recflow import movielens <dir> [--wait]
  recflow generate [--users N] [--items N] [--events N] [--categories N]
                   [--seed N] [--days N] [--wait]
  recflow demo [--data <dir>]
  recflow train
  recflow model list | rollback
  recflow migrate
  recflow refill [--users] [--wait]
  recflow schema [--check]
  recflow eval [--data <dir>] [--protocol ...] [--seed N] [--json <file>] [--html <file>] ...`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `recflow <command> --help` prints the usage; eval has a help of its own.
  if (command !== 'eval' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'import':
      return importCommand(rest);
    case 'generate':
      return generate(rest);
    case 'demo':
      return demo(rest);
    case 'train':
      return withCore(trainCommand);
    case 'model':
      return withCore((core) => modelCommand(core, rest));
    case 'migrate':
      return migrateCommand();
    case 'refill': {
      const options = { users: { type: 'boolean' }, wait: { type: 'boolean' } } as const;
      const { values } = parseArgs({ args: rest, options });
      return withCore((core) =>
        refillCommand(core, { users: values.users ?? false, wait: values.wait ?? false }),
      );
    }
    case 'eval':
      return evalCommand(rest);
    case 'schema':
      return writeSchema(
        parseArgs({ args: rest, options: { check: { type: 'boolean' } } }).values.check ?? false,
      );
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: 'string', default: 'all' } } });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const app = await RecflowApp.start({
    config: loadConfig(),
    role,
    failpoint: process.env.RECFLOW_FAILPOINT,
  });
  await untilSignal(app);
  return 0;
}

async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { wait: { type: 'boolean' } },
  });
  const [format, dir] = positionals;
  if (format !== 'movielens' || !dir)
    throw new UsageError('usage: recflow import movielens <dir> [--wait]');
  return withCore(async (core) => {
    const dataset = await readMovieLens(path.resolve(dir), core.config.events.maxBatch);
    await runImport(core, dataset, values.wait ?? false);
  });
}

async function generate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      users: { type: 'string' },
      items: { type: 'string' },
      events: { type: 'string' },
      categories: { type: 'string' },
      seed: { type: 'string' },
      days: { type: 'string' },
      wait: { type: 'boolean' },
    },
  });
  const num = (name: keyof typeof values, min: number) => {
    const raw = values[name];
    if (raw === undefined || typeof raw === 'boolean') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} must be a whole number >= ${min}`);
    return n;
  };
  return withCore(async (core) => {
    const dataset = syntheticDataset({
      users: num('users', 1),
      items: num('items', 1),
      events: num('events', 0),
      categories: num('categories', 1),
      seed: num('seed', 0),
      days: num('days', 1),
      batchSize: core.config.events.maxBatch,
    });
    await runImport(core, dataset, values.wait ?? false);
  });
}

/** The main job: serve everything, load data, and say how to try it. */
async function demo(args: string[]): Promise<number> {
  const defaultData = path.resolve(process.cwd(), '..', 'shared', 'datasets', 'ml-100k');
  const { values } = parseArgs({ args, options: { data: { type: 'string' } } });
  const dir = path.resolve(values.data ?? defaultData);
  const found = existsSync(path.join(dir, 'u.data'));
  // Only the default place may be missing: a path given on purpose that
  // holds no data would otherwise load generated data into the same database.
  if (values.data !== undefined && !found) {
    process.stderr.write(`no MovieLens data at ${dir} (no u.data there); check --data\n`);
    return 2;
  }
  const config = loadConfig();
  const app = await RecflowApp.start({ config, role: 'all' });
  let sample = 'user-1';
  if (found) {
    const dataset = await readMovieLens(dir, config.events.maxBatch);
    await loadOnce(app.core, dataset, 'ml100k-', `MovieLens 100K from ${dir}`);
    sample = '1';
  } else {
    process.stderr.write(`no MovieLens data at ${dir}; using a generated catalogue instead\n`);
    const dataset = syntheticDataset({ batchSize: config.events.maxBatch });
    await loadOnce(app.core, dataset, `gen-${DEFAULT_SYNTHETIC.seed}-`, 'the generated catalogue');
  }
  if (!(await app.core.models.serving())) {
    process.stderr.write('training the first model...\n');
    await trainCommand(app.core);
    await app.models?.refresh();
  }
  const url = app.gateway?.url ?? '';
  // With variables, as apps send it (a document with a string literal is never compiled).
  const curlQuery =
    'query Recs($user: ID!) { recommendations(userId: $user, limit: 5) ' +
    '{ strategy items { score reasons item { title } } } }';
  process.stdout.write(`
recflow is running. Open Apollo Sandbox at ${url}

Try this query:

  query {
    recommendations(userId: "${sample}", limit: 5) {
      strategy
      computedAt
      items { score reasons item { id title categories } }
    }
  }

or from a shell:

  curl -s ${url} -H 'content-type: application/json' \\
    -d '{"query":"${curlQuery}","variables":{"user":"${sample}"}}'

Press Ctrl-C to stop.
`);
  await untilSignal(app);
  return 0;
}

/** Imports a data set unless a previous run already applied all of its events. */
async function loadOnce(core: Core, dataset: Dataset, idPrefix: string, label: string) {
  if ((await core.features.countEvents(idPrefix)) >= dataset.eventCount) {
    process.stderr.write(`${label} is already loaded; skipping the import\n`);
    return;
  }
  process.stderr.write(`loading ${label}\n`);
  await runImport(core, dataset, true);
}

async function migrateCommand(): Promise<number> {
  const config = loadConfig();
  await ensureDatabase(config.postgres.url);
  const result = await migrate(config.postgres.url);
  process.stdout.write(
    `applied ${result.applied.length} migration(s), ${result.alreadyApplied} already applied\n`,
  );
  return 0;
}

async function runImport(core: Core, dataset: Dataset, wait: boolean): Promise<ImportSummary> {
  // Running gateways drop what they cached of the imported items.
  const changes = new CatalogChanges(core.nc, core.config.nats.subjectPrefix, core.log);
  const catalog = new CatalogService(core.catalog, core.hotCopy, {
    onItemsChanged: (ids) => changes.announce(ids),
  });
  const sinks: ImportSinks = {
    upsertItems: (items) => catalog.upsertItems(items),
    upsertUsers: (users) => catalog.upsertUsers(users),
    recordEvents: (events) => core.ingest.record(events),
  };
  const started = Date.now();
  const summary = await importDataset(
    dataset,
    sinks,
    new ProgressBar(),
    core.config.events.maxBatch,
  );
  process.stderr.write(
    `items: ${summary.items.created} created, ${summary.items.updated} updated; ` +
      `users: ${summary.users.created} created, ${summary.users.updated} updated; ` +
      `events: ${summary.events.accepted} accepted, ${summary.events.duplicate} duplicate ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  if (wait) {
    process.stderr.write('waiting for the pipeline to apply every event...\n');
    await waitForPipeline(core.nc, core.config, 30 * 60_000);
    process.stderr.write(
      `pipeline caught up (${((Date.now() - started) / 1000).toFixed(1)} s in all)\n`,
    );
    await askForFill(core);
  }
  return summary;
}

async function withCore(run: (core: Core) => Promise<void | number>): Promise<number> {
  const config: Config = loadConfig();
  const core = await openCore(
    config,
    createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
  );
  try {
    return (await run(core)) ?? 0;
  } finally {
    await closeCore(core);
  }
}

/** Runs until SIGTERM or SIGINT, then shuts down gracefully; a second signal forces exit. */
function untilSignal(app: RecflowApp): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        app.core.log.warn({ signal }, 'second signal; exiting now');
        process.exit(1);
      }
      stopping = true;
      app.core.log.info({ signal }, 'shutting down');
      app.stop().then(resolve, (error) => {
        app.core.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // node:util parseArgs refuses unknown or malformed options with these codes.
    const badOption = String((error as { code?: unknown } | null)?.code).startsWith(
      'ERR_PARSE_ARGS_',
    );
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof ModelUsageError ||
      badOption
    ) {
      process.stderr.write(
        `recflow: ${(error as Error).message}\n` +
          (error instanceof UsageError || badOption ? `${USAGE}\n` : ''),
      );
      process.exit(2);
    }
    const log = createLogger('error');
    log.fatal({ err: error }, 'recflow failed');
    process.stderr.write(`recflow: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
