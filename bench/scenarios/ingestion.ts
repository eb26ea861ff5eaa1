/**
 * Ingestion: events/s through the `recordEvents` mutation, in batches of
 * 100 and of 1,000, each call answered only once JetStream acknowledged
 * every event. The gateway runs in a child process.
 *
 * Baseline: the same messages (validated and encoded as the gateway does),
 * published straight to a stream with the same settings, with their ids as
 * message ids, the same number per batch and the same batches in flight,
 * each batch done when JetStream acknowledged all its messages. It uses the
 * fastest publishing pattern known here, which is the gateway's own
 * (`EventPublisher`: plain publishes with a reply inbox per batch), so the
 * share measures what HTTP, GraphQL and validation add. `js.publish` per
 * event, all of a batch awaited together, is measured too and noted: it
 * costs about seven times the client CPU per event.
 */
import { EventPublisher } from '../../src/ingestion/publisher';
import { chunks } from '../../src/importers/sinks';
import { connectNats } from '../../src/messaging/connection';
import { GraphQLHttp } from '../http';
import { closedLoop, cpuPerAnswer } from '../load';
import { type Row, target } from '../results';
import type { BenchContext, Scenario, ScenarioOutcome } from '../runner';
import { RECORD_EVENTS, asVariable, encodeAll, makeData, publishRaw } from '../data';

export const ingestion: Scenario = { name: 'ingestion', inDefaultRun: true, run };

async function run(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { ingestEvents, ingestConcurrency } = ctx.options;
  const env = await ctx.env();
  const gateway = await ctx.spawn('gateway', env);
  const http = new GraphQLHttp(gateway.url, ingestConcurrency * 2, 30_000);
  ctx.defer(() => http.close());
  const nc = await connectNats(env.config.nats.url, 'recflow-bench-ingestion');
  ctx.defer(() => nc.close());
  const raw = await env.rawStream('raw');
  const publisher = new EventPublisher(nc, raw.subjectPrefix, { timeoutMs: 10_000 });

  // Warm-up: a few calls, so JIT and connections are ready on both paths.
  const warm = makeData({ events: 2000, users: 500, items: 200 }, 'warm');
  await http.query(RECORD_EVENTS, { inputs: warm.events.slice(0, 1000).map(asVariable) });
  const warmRaw = encodeAll(warm.events, env.config);
  await publishRaw(nc, raw, warmRaw.slice(0, 1000), { batch: 500, inFlight: 2 });
  await publisher.publish(warmRaw.slice(1000));

  const rows: Row[] = [];
  for (const batch of [100, 1000]) {
    const events = Math.max(batch, Math.round(ingestEvents / batch) * batch);
    const data = makeData({ events, users: 20_000, items: 5_000 }, `b${batch}`);

    // recordEvents: bodies serialised before the clock starts.
    const bodies: string[] = [];
    for (let i = 0; i < data.events.length; i += batch) {
      const inputs = data.events.slice(i, i + batch).map(asVariable);
      bodies.push(GraphQLHttp.body(RECORD_EVENTS, { inputs }));
    }
    ctx.log(`recordEvents, batches of ${batch}: ${data.events.length} events`);
    const { result: api, ms: cpuMs } = await cpuPerAnswer(gateway, () =>
      closedLoop({
        concurrency: ingestConcurrency,
        durationMs: 120_000,
        maxRequests: bodies.length,
        send: (i) => http.post(bodies[i]),
      }),
    );

    // The same messages straight to JetStream (fresh ids, so none is a duplicate).
    const again = encodeAll(
      data.events.map((e) => ({ ...e, eventId: `raw-${e.eventId}` })),
      env.config,
    );
    ctx.log(`raw JetStream, batches of ${batch}`);
    const rawBatches = [...chunks(again, batch)];
    const rawApi = await closedLoop({
      concurrency: ingestConcurrency,
      durationMs: 120_000,
      maxRequests: rawBatches.length,
      send: (i) => publisher.publish(rawBatches[i]),
    });
    const rawRate = rawApi.throughput * batch;

    // And with js.publish per event, the pattern the gateway used before.
    const perEvent = encodeAll(
      data.events.map((e) => ({ ...e, eventId: `js-${e.eventId}` })),
      env.config,
    );
    ctx.log(`js.publish per event, batches of ${batch}`);
    const jsStart = performance.now();
    await publishRaw(nc, raw, perEvent, { batch, inFlight: ingestConcurrency });
    const jsRate = (perEvent.length * 1000) / (performance.now() - jsStart);

    // Whole batches only (sizes are rounded), so answered calls x batch is the event count.
    const rate = api.throughput * batch;
    const share = (100 * rate) / rawRate;
    rows.push({
      scenario: 'ingestion',
      case: `recordEvents x${batch}`,
      measured: {
        label: 'recordEvents',
        latency: api.latency,
        throughput: { value: rate, unit: 'events/s' },
        errors: api.errors || undefined,
      },
      baseline: {
        label: 'raw JetStream',
        latency: rawApi.latency,
        throughput: { value: rawRate, unit: 'events/s' },
      },
      targets:
        batch === 1000
          ? [
              target('>= 20,000 events/s', rate, rate >= 20_000, 'events/s'),
              target('>= 50% of raw JetStream', share, share >= 50, '%'),
            ]
          : [],
      notes: [
        `latency is per call of ${batch} events; ${ingestConcurrency} calls in flight`,
        `gateway CPU per event: ${((1000 * cpuMs) / batch).toFixed(1)} µs`,
        `raw JetStream with js.publish per event: ${Math.round(jsRate)} events/s`,
        ...(rawApi.firstError ? [`first raw error: ${rawApi.firstError}`] : []),
        ...(api.firstError ? [`first error: ${api.firstError}`] : []),
      ],
    });
  }
  return {
    rows,
    details: { concurrency: ingestConcurrency, gateway: 'child process', events: ingestEvents },
  };
}
