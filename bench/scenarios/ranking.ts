/**
 * Ranking (`--scenario ranking` only): the recommender's own CPU per
 * `recommend()` call, in this process, on the query scenario's data, with
 * the gateway's caches warm. No HTTP and no GraphQL: what is left is the
 * user's Redis read and decode, the candidate sources, the blend, the rules
 * and the presented list. A profiling aid for the query path, whose
 * end-to-end numbers are too noisy to show a change of a few per cent.
 *
 * Calls run one at a time, so the CPU time per call is the process's CPU
 * time over the calls made (ioredis included; Redis itself not).
 */
import { closeCore, openCore } from '../../src/app/app';
import { Recommender } from '../../src/recommend/recommender';
import DataLoader from 'dataloader';
import type { UserFeatures } from '../../src/domain/features';
import { type FeatureLoaders, FeatureStore } from '../../src/storage/feature-store';
import { silentLogger } from '../../src/observability/logger';
import { queryData } from '../fixtures';
import type { Row } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';

export const ranking: Scenario = { name: 'ranking', inDefaultRun: false, run };

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { quick } = ctx.options;
  const { data, env } = await queryData(ctx);

  const core = await openCore(env.config, silentLogger(), 'recflow-bench-ranking');
  ctx.defer(() => closeCore(core));
  const { config } = env;
  // Caches that never expire during the run: the calls measure ranking, not refills.
  const store = new FeatureStore(core.hot, core.features, core.metrics, core.log, {
    neighbourDepth: config.pipeline.neighbours,
    popularCacheMs: 600_000,
    itemCacheMs: 600_000,
    neighbourCacheMs: 600_000,
  });
  const recommender = new Recommender(config.recommend.blendWeights, core.log);
  const users = data.users.map((u) => u.id);
  const call = (i: number) => recommender.recommend(store.loaders(), users[i % users.length], 10);

  ctx.log(`warming up: ${users.length} users`);
  for (let i = 0; i < users.length; i += 1) await call(i);

  const rounds = quick ? 3 : 10;
  const measure = async (what: string, one: (i: number) => Promise<unknown>) => {
    const perCall: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const cpu = process.cpuUsage();
      for (let i = 0; i < users.length; i += 1) await one(i);
      const used = process.cpuUsage(cpu);
      perCall.push((used.user + used.system) / users.length);
    }
    ctx.log(`${what}: ${perCall.map((v) => v.toFixed(1)).join(', ')} µs CPU per call`);
    perCall.sort((a, b) => a - b);
    return { median: perCall[Math.floor(perCall.length / 2)], all: perCall };
  };
  const recommend = await measure('recommend()', call);
  // The same calls with each user's record already in memory: ranking alone.
  const records = new Map<string, UserFeatures | null>();
  for (const id of users) records.set(id, await store.loaders().users.load(id));
  const inMemory = (): FeatureLoaders => ({
    ...store.loaders(),
    users: new DataLoader(async (ids) => ids.map((id) => records.get(id) ?? null)),
  });
  const ranked = await measure('ranking alone', (i) =>
    recommender.recommend(inMemory(), users[i % users.length], 10),
  );
  const read = await measure('user read', (i) =>
    store.loaders().users.load(users[i % users.length]),
  );
  const row: Row = {
    scenario: 'ranking',
    case: `recommend(), ${users.length} users, warm caches`,
    measured: {
      label: 'median CPU per call',
      amount: { value: recommend.median, unit: 'µs' },
      throughput: { value: 1e6 / recommend.median, unit: 'calls/s of CPU' },
    },
    baseline: {
      label: "the user's read alone",
      amount: { value: read.median, unit: 'µs' },
    },
    targets: [],
    notes: [
      `CPU µs per call over ${rounds} rounds: ${recommend.all.map((v) => v.toFixed(1)).join(', ')}`,
      `with every user record in memory: ${ranked.median.toFixed(1)} µs ` +
        `(${ranked.all.map((v) => v.toFixed(1)).join(', ')})`,
    ],
  };
  return { rows: [row] };
}
