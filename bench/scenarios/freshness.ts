/**
 * Freshness: the time from a `recordEvent` answer to the graphql-ws push
 * of `recommendationsUpdated` for that user, idle and under a background
 * load of `--background-rate` events/s (1,000 by default) for other users.
 * Gateway and worker run in child processes, as deployed.
 *
 * Baseline: the message-bus floor on the same machine at the same moment:
 * from a raw JetStream publish to its arrival at a pull consumer, with
 * nothing applied.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { connectNats, type NatsConnection, streamNames } from '../../src/messaging/connection';
import { Subjects } from '../../src/messaging/subjects';
import { RECORD_EVENT, RECORD_EVENTS, RECOMMENDATIONS_UPDATED, makeData } from '../data';
import type { Config } from '../../src/config/config';
import { backlogEnv, pipelineCaughtUp } from '../fixtures';
import { GraphQLHttp } from '../http';
import { type LoadResult, openLoop, sleep, until } from '../load';
import { Recorder } from '../percentiles';
import { type Measure, type Row, target } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';

export const freshness: Scenario = { name: 'freshness', inDefaultRun: true, run };

const WATCHED_USERS = 20;
const PUSH_TIMEOUT_MS = 5000;
const BACKGROUND_BATCH = 20;

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { freshnessSamples, backgroundRate, quick } = ctx.options;
  const data = makeData({ users: 2000, items: 500, events: quick ? 3000 : 20_000 }, 'fresh');
  const env = await backlogEnv(ctx, data);
  await ctx.spawn('worker', env);
  await pipelineCaughtUp(env, 120_000);
  const gateway = await ctx.spawn('gateway', env);
  const http = new GraphQLHttp(gateway.url, 64);
  ctx.defer(() => http.close());

  // Subscribed users spread over the activity ranks, from heavy to light histories.
  const watched = Array.from({ length: WATCHED_USERS }, (_, k) => `user-${1 + k * 97}`);
  const pushes = await subscribeAll(ctx, gateway.url.replace(/^http/, 'ws'), watched);
  const bus = await busProbe(ctx, await env.rawStream('probe'));
  const items = data.items.map((i) => i.id);

  ctx.log(`idle: ${freshnessSamples} samples`);
  const idle = await sample(http, pushes, watched, items, freshnessSamples, 'idle');
  const idleBus = await bus.sample(freshnessSamples);

  ctx.log(`under ${backgroundRate} events/s of background load`);
  let stop = false;
  const background = backgroundLoad(http, items, backgroundRate, () => stop);
  await sleep(2000);
  const loaded = await sample(http, pushes, watched, items, freshnessSamples, 'load');
  const loadedBus = await bus.sample(freshnessSamples);
  stop = true;
  const load = await background;
  const achieved = load.throughput * BACKGROUND_BATCH;

  const row = (name: string, measured: Measure, baseline: Measure, limit: number): Row => ({
    scenario: 'freshness',
    case: name,
    measured,
    baseline,
    targets: [
      target(
        `p99 <= ${limit} ms`,
        measured.latency!.p99,
        measured.latency!.p99 <= limit && !measured.errors,
        'ms',
      ),
    ],
  });
  const rows = [
    row('answer -> push, idle', idle, idleBus, 50),
    row(`answer -> push, ${backgroundRate} ev/s load`, loaded, loadedBus, 150),
  ];
  rows[1].notes = [
    `background load achieved ${Math.round(achieved)} events/s in calls of ${BACKGROUND_BATCH}` +
      `, call p99 ${load.latency.p99.toFixed(1)} ms, ${load.errors} failed calls`,
  ];
  return {
    rows,
    details: {
      watchedUsers: WATCHED_USERS,
      backgroundEventsPerSecond: achieved,
      backgroundCallLatency: load.latency,
      processes: 'gateway and worker in child processes',
    },
  };
}

type Pushes = Map<string, (at: number) => void>;

/** One graphql-ws connection, one subscription per watched user; resolves after the first lists. */
async function subscribeAll(ctx: BenchContext, wsUrl: string, users: string[]): Promise<Pushes> {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  ctx.defer(() => client.dispose());
  const waiting: Pushes = new Map();
  let initial = 0;
  for (const userId of users) {
    client.subscribe(
      { query: RECOMMENDATIONS_UPDATED, variables: { userId } },
      {
        next: () => {
          const resolve = waiting.get(userId);
          if (resolve) {
            waiting.delete(userId);
            resolve(performance.now());
          } else initial += 1;
        },
        error: (error) => ctx.log(`subscription error: ${JSON.stringify(error)}`),
        complete: () => undefined,
      },
    );
  }
  if (!(await until(() => initial >= users.length, 15_000))) {
    throw new Error(`only ${initial} of ${users.length} subscriptions delivered their first list`);
  }
  return waiting;
}

/** One event at a time: record it, then wait for that user's push. */
async function sample(
  http: GraphQLHttp,
  pushes: Pushes,
  users: string[],
  items: string[],
  count: number,
  phase: string,
): Promise<Measure> {
  const latency = new Recorder();
  let missed = 0;
  for (let i = 0; i < count; i += 1) {
    const userId = users[i % users.length];
    const pushed = new Promise<number>((resolve) => pushes.set(userId, resolve));
    const input = {
      eventId: `fresh-${phase}-${i}`,
      userId,
      itemId: items[(i * 31) % items.length],
      type: 'LIKE',
    };
    await http.query(RECORD_EVENT, { input });
    const answered = performance.now();
    const at = await Promise.race([pushed, sleep(PUSH_TIMEOUT_MS).then(() => Number.NaN)]);
    pushes.delete(userId);
    if (Number.isNaN(at)) missed += 1;
    else latency.record(at - answered);
    await sleep(20);
  }
  return {
    label: 'recordEvent answer -> push',
    latency: latency.summary(),
    errors: missed || undefined,
  };
}

/** Background events for users nobody watches, on an open-loop schedule. */
function backgroundLoad(
  http: GraphQLHttp,
  items: string[],
  eventsPerSecond: number,
  stop: () => boolean,
): Promise<LoadResult> {
  const types = ['VIEW', 'VIEW', 'VIEW', 'CLICK', 'ADD_TO_CART', 'LIKE'];
  return openLoop({
    rate: eventsPerSecond / BACKGROUND_BATCH,
    durationMs: 10 * 60_000,
    stopWhen: stop,
    send: (call) => {
      const inputs = Array.from({ length: BACKGROUND_BATCH }, (_, j) => {
        const n = call * BACKGROUND_BATCH + j;
        return {
          eventId: `bg-${n}`,
          userId: `bg-user-${(n * 7919) % 5000}`,
          itemId: items[(n * 104_729) % items.length],
          type: types[n % types.length],
        };
      });
      return http.query(RECORD_EVENTS, { inputs });
    },
  });
}

/** The bus floor: publish to a raw stream, time from the send to a pull consumer's receipt. */
async function busProbe(ctx: BenchContext, nats: Config['nats']) {
  const nc: NatsConnection = await connectNats(nats.url, 'recflow-bench-bus-probe');
  ctx.defer(() => nc.close());
  const stream = streamNames(nats).events;
  const subject = new Subjects(nats.subjectPrefix).events;
  await (
    await jetstreamManager(nc)
  ).consumers.add(stream, {
    durable_name: nats.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    filter_subject: subject,
  });
  const js = jetstream(nc);
  const messages = await (await js.consumers.get(stream, nats.consumer)).consume();
  ctx.defer(() => messages.close().then(() => undefined));
  const arrivals = new Map<string, (at: number) => void>();
  void (async () => {
    for await (const m of messages) {
      m.ack();
      arrivals.get(m.headers?.get('Nats-Msg-Id') ?? '')?.(performance.now());
    }
  })();
  let n = 0;
  return {
    async sample(count: number): Promise<Measure> {
      const latency = new Recorder();
      for (let i = 0; i < count; i += 1) {
        const id = `probe-${n++}`;
        const arrived = new Promise<number>((resolve) => arrivals.set(id, resolve));
        // From the send: the message often arrives before the publish ack does.
        const sent = performance.now();
        await js.publish(subject, new TextEncoder().encode('{}'), { msgID: id });
        const at = await Promise.race([arrived, sleep(PUSH_TIMEOUT_MS).then(() => Number.NaN)]);
        arrivals.delete(id);
        if (!Number.isNaN(at)) latency.record(at - sent);
        await sleep(20);
      }
      return { label: 'JetStream publish -> pull consumer', latency: latency.summary() };
    },
  };
}
