/**
 * Query: `recommendations(limit: 10)` with item titles, for users with real
 * histories, against a gateway in a child process (the load generator runs
 * here; both share the machine's cores).
 *
 * - Latency at fixed request rates, open loop: requests leave on schedule
 *   whatever the answers do, and latency counts from the scheduled time.
 * - Maximum throughput, closed loop with N requests in flight.
 *
 * Baselines: `{ __typename }` on the same gateway, at the same rate and in
 * the same closed loop (the GraphQL-over-HTTP floor); and a bare Redis MGET
 * of the same keys a recommendation reads (the user and its ten items).
 *
 * The gateway runs as deployed, with its response cache. Each phase notes
 * how many calls the cache answered, and the closed loop runs a second time
 * with `Cache-Control: no-cache`, so that every list is computed: the cost
 * of the recommendation path itself, in the same run.
 */
import Redis from 'ioredis';
import { RECOMMENDATIONS } from '../data';
import { SERVICES } from '../env';
import { queryData } from '../fixtures';
import { GraphQLHttp } from '../http';
import {
  type LoadResult,
  closedLoop,
  cpuPerAnswer,
  measureRequests as measure,
  openLoop,
} from '../load';
import { metricValues } from '../processes';
import { type Row, target } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';

export const query: Scenario = { name: 'query', inDefaultRun: true, run };

const TRIVIAL = GraphQLHttp.body('{ __typename }');
const NO_CACHE = { 'cache-control': 'no-cache' };

/** The gateway's response cache lookups so far, by result. */
async function cacheLookups(probeUrl: string) {
  const name = 'recflow_response_cache_lookups_total';
  const [hit, miss, bypass] = (
    await metricValues(probeUrl, [
      `${name}{result="hit"}`,
      `${name}{result="miss"}`,
      `${name}{result="bypass"}`,
    ])
  ).map((n) => (Number.isNaN(n) ? 0 : n));
  return { hit, miss, bypass };
}

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { queryRates, querySeconds, queryConcurrency } = ctx.options;
  const durationMs = querySeconds * 1000;
  const { data, env } = await queryData(ctx);
  const gateway = await ctx.spawn('gateway', env);
  const http = new GraphQLHttp(gateway.url, 256);
  ctx.defer(() => http.close());

  // Warm-up: every user once; keep what each list holds for the MGET baseline.
  const users = data.users.map((u) => u.id);
  const bodies = users.map((userId) => GraphQLHttp.body(RECOMMENDATIONS, { userId }));
  const listed: string[][] = [];
  // Each recommendations phase starts warm, like a gateway kept warm by its
  // own traffic: the trivial phase before it leaves every cached item, list
  // and neighbour set expired (they live two cache periods, 2 s), and the
  // first requests of a cold phase read everything from Redis. Cold phases
  // gave a p99 of 13.2-27.5 ms at 1,000 req/s; warm ones mostly passed, so
  // cold caches are one cause of the tail, not the only one (README,
  // "Performance").
  const warmUp = () =>
    closedLoop({
      concurrency: 8,
      durationMs: 60_000,
      maxRequests: users.length,
      send: async (i) => {
        const answer = await http.post(bodies[i]);
        listed[i] = answer.data?.recommendations.items.map((x: any) => x.item.id) ?? [];
      },
    });
  /** A warm-up's failures, for the notes of the row measured after it. */
  const failuresOf = (warm: LoadResult): string[] =>
    warm.errors > 0
      ? [`warm-up before it: ${warm.errors} of ${warm.sent} requests failed (${warm.firstError})`]
      : [];
  ctx.log(`warming up: ${users.length} users`);
  const firstWarmUp = await warmUp();
  const recommend = (i: number) => http.post(bodies[i % bodies.length]);
  const computed = (i: number) => http.post(bodies[i % bodies.length], NO_CACHE);
  /** The response cache's share of the calls `run` made, as a note. */
  const cached = async <T>(run: () => Promise<T>): Promise<{ result: T; note: string }> => {
    const before = await cacheLookups(gateway.probeUrl);
    const result = await run();
    const after = await cacheLookups(gateway.probeUrl);
    const hits = after.hit - before.hit;
    const all = hits + after.miss - before.miss + after.bypass - before.bypass;
    const share = all > 0 ? (100 * hits) / all : 0;
    return { result, note: `response cache: ${share.toFixed(1)} % of calls answered from it` };
  };
  const trivial = () => http.post(TRIVIAL);

  const rows: Row[] = [];
  for (const [index, rate] of queryRates.entries()) {
    ctx.log(`open loop at ${rate} req/s for ${querySeconds} s, then the trivial query`);
    const warm = index > 0 ? await warmUp() : firstWarmUp;
    const { result: recs, note } = await cached(() =>
      openLoop({ rate, durationMs, send: recommend }),
    );
    const floor = await openLoop({ rate, durationMs, send: trivial });
    const p99 = recs.latency.p99;
    rows.push({
      scenario: 'query',
      case: `open loop ${rate} req/s`,
      measured: measure('recommendations', recs),
      baseline: measure('{ __typename }', floor),
      targets:
        rate === 1000
          ? [target('p99 <= 10 ms at 1,000 req/s', p99, p99 <= 10 && recs.errors === 0, 'ms')]
          : [],
      notes: [
        ...failuresOf(warm),
        note,
        ...(recs.firstError ? [`first error: ${recs.firstError}`] : []),
      ],
    });
  }

  ctx.log(`closed loop, ${queryConcurrency} in flight`);
  const closedWarm = await warmUp();
  const { result: max, note } = await cached(() =>
    cpuPerAnswer(gateway, () =>
      closedLoop({ concurrency: queryConcurrency, durationMs, send: recommend }),
    ),
  );
  // The trivial query right after, as before the cache; the computed loop last.
  const maxFloor = await cpuPerAnswer(gateway, () =>
    closedLoop({ concurrency: queryConcurrency, durationMs, send: trivial }),
  );
  const uncached = await cpuPerAnswer(gateway, () =>
    closedLoop({ concurrency: queryConcurrency, durationMs, send: computed }),
  );
  const shareOf = (result: LoadResult) => (100 * result.throughput) / maxFloor.result.throughput;
  const share = shareOf(max.result);
  rows.push({
    scenario: 'query',
    case: `max throughput, ${queryConcurrency} in flight`,
    measured: measure('recommendations', max.result),
    baseline: measure('{ __typename }', maxFloor.result),
    targets: [target(">= 50% of the trivial query's throughput", share, share >= 50, '%')],
    notes: [
      ...failuresOf(closedWarm),
      note,
      `gateway CPU per request: ${max.ms.toFixed(3)} ms ` +
        `(trivial query ${maxFloor.ms.toFixed(3)} ms)`,
    ],
  });
  rows.push({
    scenario: 'query',
    case: `max throughput, ${queryConcurrency} in flight, every list computed`,
    measured: measure('recommendations, Cache-Control: no-cache', uncached.result),
    baseline: measure('{ __typename }', maxFloor.result),
    targets: [],
    notes: [
      `${shareOf(uncached.result).toFixed(1)} % of the trivial query's throughput ` +
        '(the response cache not read)',
      `gateway CPU per request: ${uncached.ms.toFixed(3)} ms`,
    ],
  });

  // The same keys straight from Redis: the user record and its ten items.
  const redis = new Redis(SERVICES.redis);
  ctx.defer(() => redis.disconnect());
  const prefix = env.config.redis.prefix;
  const keys = users.map((u, i) => [
    `${prefix}u:${u}`,
    ...listed[i].map((id) => `${prefix}i:${id}`),
  ]);
  const mget = (i: number) => redis.mget(...keys[i % keys.length]);
  const bare = await closedLoop({ concurrency: queryConcurrency, durationMs, send: mget });
  const bareAt = await openLoop({ rate: 1000, durationMs, send: mget });
  rows.push({
    scenario: 'query',
    case: `baseline: Redis MGET, ${queryConcurrency} in flight`,
    measured: measure('MGET user + items', bare),
    baseline: measure('MGET at 1,000 req/s', bareAt),
    targets: [],
  });

  return {
    rows,
    details: {
      users: users.length,
      items: data.items.length,
      events: data.events.length,
      gateway: 'child process; load generator in the bench process, same 2 cores',
      keepAlive: 'node:http Agent keepAlive, up to 256 sockets',
    },
  };
}
