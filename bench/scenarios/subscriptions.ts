/**
 * Subscriptions: `--subscriptions` (10,000) live `recommendationsUpdated`
 * subscriptions, one per user, on one gateway in a child process, shared
 * over `--subscription-connections` (100) graphql-ws connections.
 *
 * - Memory: the gateway's resident set before and after, per subscription.
 * - Fan-out: one `recordEvents` call changes `--fanout-users` (1,000) of the
 *   subscribed users; the time from its answer to each user's push.
 *
 * No recflow limit stands in the way: graphql-ws and recflow set no cap on
 * connections or subscriptions per connection, and the one limit that would
 * (RECFLOW_RATE_LIMIT, one token per subscribe) is off here, as in the tests.
 *
 * Baselines: the idle gateway's resident set; and core NATS delivering the
 * same number of messages to as many subjects, one subscription each.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { connectNats } from '../../src/messaging/connection';
import { RECORD_EVENTS, RECOMMENDATIONS_UPDATED, makeData } from '../data';
import { backlogEnv, pipelineCaughtUp } from '../fixtures';
import { GraphQLHttp } from '../http';
import { sleep, until } from '../load';
import { Recorder } from '../percentiles';
import { metricValue } from '../processes';
import { type Row, target } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';

export const subscriptions: Scenario = { name: 'subscriptions', inDefaultRun: true, run };

const MiB = 1024 ** 2;

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { subscriptions: total, subscriptionConnections, fanoutUsers } = ctx.options;
  const data = makeData({ users: total, items: 500, events: total * 2 }, 'subs');
  const env = await backlogEnv(ctx, data);
  await ctx.spawn('worker', env);
  await pipelineCaughtUp(env, 180_000);
  const gateway = await ctx.spawn('gateway', env);
  const http = new GraphQLHttp(gateway.url, 16);
  ctx.defer(() => http.close());

  // Idle resident set, after a few queries have loaded the code paths.
  for (let i = 0; i < 20; i += 1) {
    await http.query('query($u: ID!) { recommendations(userId: $u) { strategy } }', {
      u: `user-${i + 1}`,
    });
  }
  await sleep(1000);
  const idleRss = gateway.rssBytes();

  // Subscribe every user, spread over the connections.
  ctx.log(`opening ${total} subscriptions over ${subscriptionConnections} connections`);
  const wsUrl = gateway.url.replace(/^http/, 'ws');
  const clients: Client[] = Array.from({ length: subscriptionConnections }, () =>
    createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 }),
  );
  ctx.defer(() => Promise.all(clients.map((c) => c.dispose())).then(() => undefined));
  const users = data.users.map((u) => u.id);
  const waiting = new Map<string, (at: number) => void>();
  const firstList = new Recorder();
  let firstLists = 0;
  let failures = 0;
  let firstError: string | undefined;
  const opened = performance.now();
  users.forEach((userId, i) => {
    let first = true;
    clients[i % clients.length].subscribe(
      { query: RECOMMENDATIONS_UPDATED, variables: { userId } },
      {
        next: () => {
          const now = performance.now();
          if (first) {
            first = false;
            firstLists += 1;
            firstList.record(now - opened);
            return;
          }
          waiting.get(userId)?.(now);
          waiting.delete(userId);
        },
        error: (error: unknown) => {
          failures += 1;
          firstError ??= describeError(error);
        },
        complete: () => undefined,
      },
    );
  });
  const allOpen = await until(() => firstLists + failures >= total, 300_000, 200);
  const openSeconds = (performance.now() - opened) / 1000;
  await sleep(2000);
  const liveRss = gateway.rssBytes();
  const heapUsed = await metricValue(gateway.probeUrl, 'recflow_nodejs_heap_size_used_bytes');
  const perSubscription = (liveRss - idleRss) / Math.max(1, firstLists);

  // Fan-out: one call changes `fanoutUsers` subscribed users.
  ctx.log(`fan-out: changing ${fanoutUsers} subscribed users in one call`);
  const changed = users.slice(0, fanoutUsers);
  const pushed = changed.map((u) => new Promise<number>((resolve) => waiting.set(u, resolve)));
  const inputs = changed.map((userId, i) => ({
    eventId: `fanout-${i}`,
    userId,
    itemId: data.items[(i * 31) % data.items.length].id,
    type: 'LIKE',
  }));
  await http.query(RECORD_EVENTS, { inputs });
  const answered = performance.now();
  const fanout = new Recorder();
  let last = answered;
  const arrivals = pushed.map((p) => p.then((at) => (fanout.record(at - answered), (last = at))));
  await Promise.race([Promise.all(arrivals), sleep(60_000)]);
  const missed = changed.length - fanout.count;
  const fanoutSeconds = (last - answered) / 1000;

  const natsFanout = await coreNatsFanout(env.config.nats.url, env.id, fanoutUsers);
  const rows: Row[] = [
    {
      scenario: 'subscriptions',
      case: `${firstLists} live subscriptions`,
      measured: {
        label: 'subscribe -> first list',
        latency: firstList.summary(),
        throughput: { value: firstLists / openSeconds, unit: 'subs/s opened' },
        amount: { value: liveRss / MiB, unit: 'MiB RSS' },
        errors: failures + (total - firstLists - failures) || undefined,
      },
      baseline: { label: 'idle gateway', amount: { value: idleRss / MiB, unit: 'MiB RSS' } },
      targets: [
        target(
          `${total.toLocaleString('en-US')} subscriptions in <= 1 GiB`,
          liveRss / MiB,
          allOpen && firstLists === total && liveRss <= 1024 * MiB,
          'MiB',
        ),
      ],
      notes: [
        // With few subscriptions (--quick) the gateway's RSS can fall below its idle figure.
        (perSubscription > 0
          ? `${(perSubscription / 1024).toFixed(1)} KiB RSS per subscription; `
          : 'RSS per subscription not measurable: RSS fell below the idle figure; ') +
          `heap used ${(heapUsed / MiB).toFixed(0)} MiB`,
        `latency is from the first subscribe sent to each first list (all sent at once)`,
        ...(firstError ? [`first error: ${firstError}`] : []),
      ],
    },
    {
      scenario: 'subscriptions',
      case: `fan-out to ${fanoutUsers} users`,
      measured: {
        label: 'recordEvents answer -> push',
        latency: fanout.summary(),
        throughput: { value: fanout.count / Math.max(fanoutSeconds, 1e-3), unit: 'pushes/s' },
        errors: missed || undefined,
      },
      baseline: {
        label: 'core NATS fan-out',
        latency: natsFanout.latency.summary(),
        throughput: { value: natsFanout.rate, unit: 'msgs/s' },
      },
      targets: [],
      notes: [`all pushes arrived ${fanoutSeconds.toFixed(2)} s after the answer`],
    },
  ];
  return {
    rows,
    details: {
      connections: subscriptionConnections,
      idleRssBytes: idleRss,
      liveRssBytes: liveRss,
      heapUsedBytes: heapUsed,
      bytesPerSubscription: perSubscription,
      fanoutSeconds,
      limits: 'RECFLOW_RATE_LIMIT=0 (one token per subscribe otherwise); no other cap applies',
    },
  };
}

/** What graphql-ws hands an error sink: a close event, an Error, or GraphQL errors. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message).join('; ');
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === 'number') return `socket closed ${close.code} ${close.reason ?? ''}`;
  return String(error);
}

/** `count` subjects with one subscription each; one message to each; time to every arrival. */
async function coreNatsFanout(url: string, id: string, count: number) {
  const nc = await connectNats(url, 'recflow-bench-fanout');
  try {
    const latency = new Recorder();
    let received = 0;
    let sent = 0;
    for (let i = 0; i < count; i += 1) {
      nc.subscribe(`rfb-${id}-fanout.${i}`, {
        callback: () => {
          latency.record(performance.now() - sent);
          received += 1;
        },
      });
    }
    await nc.flush();
    sent = performance.now();
    for (let i = 0; i < count; i += 1) nc.publish(`rfb-${id}-fanout.${i}`, '{}');
    await until(() => received >= count, 10_000, 5);
    const seconds = (performance.now() - sent) / 1000;
    return { latency, rate: received / seconds };
  } finally {
    await nc.close();
  }
}
