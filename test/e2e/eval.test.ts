/**
 * `recflow eval` as a user runs it: the built CLI on a tiny MovieLens-format
 * directory (written to a temporary folder), its usage errors, and the
 * published-quality targets on MovieLens 100K.
 *
 * The MovieLens test needs ../shared/datasets/ml-100k (or
 * RECFLOW_MOVIELENS_DIR) and skips with a message when it is absent. The
 * data is read in place, never copied.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { METRICS } from '../../src/evaluation/metrics';
import { exited, ROOT, spawnCli } from '../support/recflow';
import { writeTinyMovieLens, type TinyMovieLens } from '../support/tiny-movielens';

jest.setTimeout(5 * 60_000);

let tiny: TinyMovieLens;
let out: string;

beforeAll(async () => {
  tiny = await writeTinyMovieLens();
  out = await mkdtemp(path.join(tmpdir(), 'recflow-eval-out-'));
});

afterAll(async () => {
  await tiny.remove();
  await rm(out, { recursive: true, force: true });
});

async function runEval(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnCli(['eval', ...args], {});
  const end = await exited(child);
  return { code: end.code, output: child.output() };
}

describe('recflow eval on a tiny MovieLens-format directory', () => {
  test('prints a table per protocol and writes the JSON and HTML reports', async () => {
    const json = path.join(out, 'tiny.json');
    const html = path.join(out, 'tiny.html');
    const args = ['--data', tiny.dir, '--protocol', 'random,temporal', '--seed', '3'];
    const { code, output } = await runEval([...args, '--json', json, '--html', html]);
    if (code !== 0) throw new Error(output);

    expect(output).toMatch(/^random, seed 3 \(test\):/m);
    expect(output).toMatch(/^temporal, seed 3 \(test\):/m);
    expect(output).toMatch(/^blend\s+\d\.\d{4} ± \d\.\d{4}/m);
    expect(output).toMatch(/^most popular\s/m);

    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.dataset).toBe(tiny.dir);
    expect(report.seed).toBe(3);
    expect(report.protocols.map((p: { protocol: string }) => p.protocol)).toEqual([
      'random',
      'temporal',
    ]);
    for (const p of report.protocols) {
      expect(p.sizes.train + p.sizes.test).toBe(tiny.ratingCount);
      expect(p.figures.blend['ndcg@10'].mean).toBeGreaterThan(p.figures.popular['ndcg@10'].mean);
    }
    const page = await readFile(html, 'utf8');
    expect(page.match(/<svg\b/g)).toHaveLength(METRICS.length);
  });

  test('--validation evaluates on a split of train and says so', async () => {
    const json = path.join(out, 'validation.json');
    const args = ['--data', tiny.dir, '--protocol', 'loo', '--validation', '--json', json];
    const { code, output } = await runEval(args);
    if (code !== 0) throw new Error(output);
    expect(output).toMatch(/^loo, seed 42 \(validation split of train\):/m);
    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.validation).toBe(true);
    expect(report.protocols[0].splitSeed).toBe(43);
  });

  test('--weights reaches the blend and the report', async () => {
    const json = path.join(out, 'weights.json');
    const weights = 'model=1,ease=0,itemKnn=0,trending=0,popular=0';
    const args = ['--data', tiny.dir, '--protocol', 'random', '--weights', weights];
    const { code, output } = await runEval([...args, '--json', json]);
    if (code !== 0) throw new Error(output);
    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.weights).toMatchObject({ model: 1, ease: 0, popular: 0 });
    expect(report.protocols[0].figures.blend).toEqual(report.protocols[0].figures.model);
  });
});

describe('recflow eval usage errors', () => {
  test.each([
    ['a missing data directory', ['--data', '/nonexistent/ml'], /no data directory at/],
    [
      'a directory without MovieLens files',
      ['--data', ROOT],
      /not a MovieLens directory: no u\.data/,
    ],
    ['an unknown protocol', ['--protocol', 'random,sideways'], /unknown protocol "sideways"/],
    ['a negative seed', ['--seed=-1'], /--seed must be a whole number/],
    ['a fractional seed', ['--seed', '1.5'], /--seed must be a whole number/],
    ['an unknown blend source', ['--weights', 'magic=1'], /--weights names unknown source/],
    ['a negative weight', ['--weights', 'ease=-1'], /weight for ease must be a number >= 0/],
    ['an unknown flag', ['--frobnicate'], /Unknown option '--frobnicate'/],
    ['a report in a missing folder', ['--json', '/nonexistent/x.json'], /--json: no directory/],
  ])('%s exits 2 with a message and the usage', async (_, args, message) => {
    const data = args.includes('--data') ? [] : ['--data', tiny.dir];
    const { code, output } = await runEval([...data, ...args]);
    expect(code).toBe(2);
    expect(output).toMatch(message);
    expect(output).toMatch(/usage: recflow eval/);
  });
});

const DATA =
  process.env.RECFLOW_MOVIELENS_DIR ?? path.resolve(ROOT, '..', 'shared', 'datasets', 'ml-100k');
const present = existsSync(path.join(DATA, 'u.data'));
if (!present) {
  process.stdout.write(
    `skipping the MovieLens eval targets: no MovieLens 100K at ${DATA} ` +
      '(set RECFLOW_MOVIELENS_DIR)\n',
  );
}
const describeData = present ? describe : describe.skip;

describeData('recflow eval on MovieLens 100K, random protocol, seed 42', () => {
  // The default blend weights were chosen on a validation split carved from
  // train (seed 43), never on this test part; see the README's "Quality".
  test('reaches the published targets, and the blend beats every single source', async () => {
    const json = path.join(out, 'ml-100k.json');
    const args = ['--data', DATA, '--protocol', 'random', '--seed', '42', '--json', json];
    const { code, output } = await runEval(args);
    if (code !== 0) throw new Error(output);
    const { figures } = JSON.parse(await readFile(json, 'utf8')).protocols[0];
    const ndcg = (source: string): number => figures[source]['ndcg@10'].mean;

    expect(ndcg('blend')).toBeGreaterThanOrEqual(0.45);
    expect(figures.blend['precision@10'].mean).toBeGreaterThanOrEqual(0.37);
    for (const source of ['model', 'ease', 'itemKnn', 'trending', 'popular']) {
      expect(ndcg('blend')).toBeGreaterThan(ndcg(source));
    }
    // Most-popular is the sanity check: published at about 0.225 on this protocol.
    expect(ndcg('popular')).toBeGreaterThan(0.2);
    expect(ndcg('popular')).toBeLessThan(0.24);
  });
});
