/**
 * `recflow eval`: offline evaluation of recflow's recommendations on a
 * MovieLens-format directory (u.data, u.item, u.genre), as
 * src/evaluation/evaluate.ts describes. It needs no running service.
 *
 * Prints a table per protocol on stdout (progress on stderr) and writes the
 * JSON and HTML reports when asked. A bad flag or an unusable data
 * directory stops it with a message and exit code 2.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { parseBlendWeights } from '../config/config';
import { DEFAULT_BLEND_WEIGHTS, type BlendWeights } from '../domain/ranking';
import {
  DEFAULT_PER_SOURCE,
  evaluateProtocol,
  type EvaluationData,
  type ProtocolResult,
} from '../evaluation/evaluate';
import {
  formatReplay,
  formatTable,
  renderHtml,
  toJson,
  type EvaluationRun,
} from '../evaluation/report';
import { runReplay, type ReplayResult } from '../evaluation/replay';
import { loadConfig } from '../config/config';
import { createLogger } from '../observability/logger';
import { PROTOCOLS, type Protocol } from '../evaluation/split';
import { parseGenres, parseItems, parseRatings } from '../importers/movielens';
import { DEFAULT_MODEL_PARAMS } from '../learning/train';

export const EVAL_USAGE = `usage: recflow eval [--data <dir>]
                    [--protocol random|temporal|loo|all[,...]]
                    [--seed N] [--json <file>] [--html <file>] [--validation]
                    [--weights model=1,ease=0.75,itemKnn=0.35,...]
                    [--replay [--replay-events N]]

  --data        MovieLens-format directory (default: ../shared/datasets/ml-100k from here)
  --protocol    one protocol, a comma list, all, or none (default: all)
  --seed        split seed, a whole number >= 0 (default: 42)
  --json        write every figure, timing and parameter to this file
  --html        write a self-contained HTML report with one chart per metric to this file
  --validation  evaluate on a validation split carved from train (never reads test)
  --weights     blend weights; sources not named keep their defaults
  --replay      also replay the latest events, in time order, through the real pipeline on
                the local services (own database, stream and key prefix), measuring HR@10 of
                each next interaction with real-time fold-in on and off
  --replay-events  how many of the latest events to replay (default: 2000)`;

/** A caller mistake: a bad flag or an unusable data directory. */
class EvalInputError extends Error {}

interface EvalOptions {
  dir: string;
  protocols: Protocol[];
  seed: number;
  json?: string;
  html?: string;
  validation: boolean;
  weights: BlendWeights;
  /** Events to replay through the real pipeline; 0 for no replay. */
  replayEvents: number;
}

export async function evalCommand(args: string[]): Promise<number> {
  try {
    const options = parseEvalArgs(args);
    if (!options) {
      process.stdout.write(`${EVAL_USAGE}\n`);
      return 0;
    }
    return await runEval(options);
  } catch (error) {
    if (!(error instanceof EvalInputError)) throw error;
    process.stderr.write(`recflow eval: ${error.message}\n${EVAL_USAGE}\n`);
    return 2;
  }
}

/** The options, or null when help was asked for. */
function parseEvalArgs(args: string[]): EvalOptions | null {
  const defaultData = path.resolve(process.cwd(), '..', 'shared', 'datasets', 'ml-100k');
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        data: { type: 'string', default: defaultData },
        protocol: { type: 'string', default: 'all' },
        seed: { type: 'string', default: '42' },
        json: { type: 'string' },
        html: { type: 'string' },
        validation: { type: 'boolean', default: false },
        weights: { type: 'string' },
        replay: { type: 'boolean', default: false },
        'replay-events': { type: 'string', default: '2000' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new EvalInputError((error as Error).message);
  }
  if (values.help) return null;

  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed))
    throw new EvalInputError(`--seed must be a whole number >= 0, got "${values.seed}"`);
  let weights = DEFAULT_BLEND_WEIGHTS;
  if (values.weights !== undefined) {
    try {
      weights = parseBlendWeights(values.weights);
    } catch (error) {
      throw new EvalInputError(`--weights ${(error as Error).message}`);
    }
  }
  const replayEvents = Number(values['replay-events']);
  if (!/^\d+$/.test(values['replay-events']) || replayEvents < 1 || replayEvents > 1_000_000)
    throw new EvalInputError(
      `--replay-events must be a whole number from 1 to 1000000, got "${values['replay-events']}"`,
    );
  const output = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    const resolved = path.resolve(file);
    if (!isDirectory(path.dirname(resolved)))
      throw new EvalInputError(`--${flag}: no directory ${path.dirname(resolved)} to write into`);
    if (isDirectory(resolved)) throw new EvalInputError(`--${flag}: ${resolved} is a directory`);
    try {
      accessSync(path.dirname(resolved), constants.W_OK);
    } catch {
      throw new EvalInputError(`--${flag}: cannot write into ${path.dirname(resolved)}`);
    }
    return resolved;
  };
  return {
    dir: path.resolve(values.data),
    protocols: parseProtocols(values.protocol),
    seed,
    json: output('json', values.json),
    html: output('html', values.html),
    validation: values.validation,
    weights,
    replayEvents: values.replay ? replayEvents : 0,
  };
}

function parseProtocols(raw: string): Protocol[] {
  const chosen = new Set<Protocol>();
  for (const name of raw.split(',').map((p) => p.trim())) {
    if (name === 'none') continue;
    if (name === 'all') PROTOCOLS.forEach((p) => chosen.add(p));
    else if ((PROTOCOLS as readonly string[]).includes(name)) chosen.add(name as Protocol);
    else
      throw new EvalInputError(
        `--protocol names unknown protocol "${name}" (known: ${PROTOCOLS.join(', ')}, all)`,
      );
  }
  return PROTOCOLS.filter((p) => chosen.has(p));
}

function isDirectory(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}

async function runEval(options: EvalOptions): Promise<number> {
  const started = performance.now();
  const data = await readEvaluationData(options.dir);
  if (options.replayEvents > 0 && !existsSync(path.join(options.dir, 'u.user')))
    throw new EvalInputError(`--replay needs u.user in ${options.dir}`);
  const part = options.validation ? 'a validation split of train' : 'test';
  process.stderr.write(
    `read ${data.ratings.length} ratings of ${data.items.length} items from ${options.dir}\n`,
  );

  // One protocol at a time: train, evaluate, print its table.
  const results: ProtocolResult[] = [];
  for (const protocol of options.protocols) {
    process.stderr.write(`${protocol}: training and evaluating on ${part}...\n`);
    const result = evaluateProtocol(data, protocol, options.seed, {
      weights: options.weights,
      validation: options.validation,
    });
    results.push(result);
    process.stdout.write(`\n${formatTable(result)}\n`);
  }

  // Replay through the real pipeline, when asked.
  let replay: ReplayResult | undefined;
  if (options.replayEvents > 0) {
    process.stderr.write(
      `replay: loading all but the latest ${options.replayEvents} events through the pipeline...\n`,
    );
    const config = loadConfig();
    replay = await runReplay({
      dataDir: options.dir,
      events: options.replayEvents,
      config: { ...config, recommend: { ...config.recommend, blendWeights: options.weights } },
      log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
      onProgress: (done, total) => process.stderr.write(`\rreplayed ${done}/${total}`),
    });
    process.stderr.write('\n');
    process.stdout.write(`\n${formatReplay(replay)}\n`);
  }

  // The reports.
  const run: EvaluationRun = {
    dataset: options.dir,
    seed: options.seed,
    validation: options.validation,
    weights: options.weights,
    params: DEFAULT_MODEL_PARAMS,
    perSource: DEFAULT_PER_SOURCE,
    wallMs: Math.round(performance.now() - started),
    results,
    replay,
  };
  if (options.json) {
    await writeFile(options.json, toJson(run));
    process.stderr.write(`wrote ${options.json}\n`);
  }
  if (options.html) {
    await writeFile(options.html, renderHtml(run));
    process.stderr.write(`wrote ${options.html}\n`);
  }
  process.stdout.write(`\nwall time ${(run.wallMs / 1000).toFixed(1)} s\n`);
  return 0;
}

/** Ratings and catalogue from a MovieLens-format directory, checked. */
export async function readEvaluationData(dir: string): Promise<EvaluationData> {
  if (!isDirectory(dir)) throw new EvalInputError(`no data directory at ${dir}`);
  const missing = ['u.data', 'u.item', 'u.genre'].filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0)
    throw new EvalInputError(`${dir} is not a MovieLens directory: no ${missing.join(', ')}`);

  const genres = parseGenres(await readFile(path.join(dir, 'u.genre'), 'utf8'));
  const items = parseItems(await readFile(path.join(dir, 'u.item'), 'latin1'), genres);
  const ratings = parseRatings(await readFile(path.join(dir, 'u.data'), 'utf8'));
  const bad = ratings.findIndex(
    (r) => !r.userId || !r.itemId || !Number.isFinite(r.timestamp) || !Number.isFinite(r.rating),
  );
  if (bad >= 0)
    throw new EvalInputError(
      `u.data rating ${bad + 1} is not "user<TAB>item<TAB>rating<TAB>timestamp"`,
    );
  if (ratings.length === 0) throw new EvalInputError(`u.data in ${dir} holds no ratings`);
  return { ratings, items: items.map((i) => ({ id: i.id, categories: i.categories ?? [] })) };
}
