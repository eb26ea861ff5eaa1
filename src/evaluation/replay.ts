/**
 * Replay evaluation: what the real-time path is worth.
 *
 * The ratings are ordered by time. All but the last `events` are loaded
 * through the real pipeline and a model is trained on them. The held-out
 * slice is then fed, in time order, through the real pipeline too (JetStream,
 * the worker, PostgreSQL, the Redis hot copy). Before each event is sent,
 * the user's recommendations are asked for twice:
 *
 *   fold-in on   the learned sources fold the user in from the features as
 *                they are now, including every replayed event so far
 *   fold-in off  the learned sources see the user as the model was trained
 *                (a user who arrived later is unknown to them)
 *
 * and the event's item counts as a hit when it is in the top 10 (HR@10).
 * Both the model source alone and the whole served blend are measured.
 * Everything runs on its own database, stream, subjects and key prefix,
 * which are removed at the end.
 */
import { createTrainer, RecflowApp } from '../app/app';
import { isolatedConfig, removeIsolated } from '../app/isolation';
import { CatalogService } from '../catalog/catalog-service';
import type { Config } from '../config/config';
import type { EventInput } from '../domain/events';
import type { Candidate } from '../domain/ranking';
import { readMovieLens, type Rating, toEvent } from '../importers/movielens';
import { chunks, type ImportProgress, importDataset } from '../importers/sinks';
import { learnedCandidates } from '../learning/candidates';
import type { WeightedItem } from '../learning/model';
import type { Logger } from '../observability/logger';
import { waitForPipeline } from '../pipeline/wait';
import { userInteractions } from '../recommend/learned-sources';
import { Recommender } from '../recommend/recommender';
import { FeatureStore } from '../storage/feature-store';

export interface ReplayOptions {
  dataDir: string;
  /** Size of the held-out slice: the latest events by time. */
  events: number;
  /** Where the services are; names are replaced by fresh, isolated ones. */
  config: Config;
  log: Logger;
  /** Events sent per round; a round holds at most one event per user. */
  roundSize?: number;
  /** Progress of loading the history. */
  progress?: ImportProgress;
  /** Progress of the replay itself. */
  onProgress?: (done: number, total: number) => void;
}

const SILENT_PROGRESS: ImportProgress = {
  phase: () => undefined,
  advance: () => undefined,
  done: () => undefined,
};

export interface HitRate {
  hits: number;
  events: number;
  hr10: number;
}

export interface ReplayResult {
  dataset: string;
  historyEvents: number;
  heldOutEvents: number;
  /** Held-out events of users the model saw in training / users it never saw. */
  knownUserEvents: number;
  newUserEvents: number;
  modelVersion: number;
  durationMs: number;
  results: {
    modelOn: HitRate;
    modelOff: HitRate;
    blendOn: HitRate;
    blendOff: HitRate;
    /** The same four, on the events of users the model never saw. */
    newUsers: { modelOn: HitRate; modelOff: HitRate; blendOn: HitRate; blendOff: HitRate };
  };
}

const LIST = 10;

export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const data = await readMovieLens(options.dataDir, options.config.events.maxBatch);
  const ordered = [...data.ratings].sort(
    (a, b) =>
      a.timestamp - b.timestamp || compare(a.userId, b.userId) || compare(a.itemId, b.itemId),
  );
  const held = ordered.slice(Math.max(0, ordered.length - options.events));
  const history = ordered.slice(0, ordered.length - held.length);
  const config = isolatedConfig(options.config, 'replay');
  const log = options.log;

  log.warn(
    { database: new URL(config.postgres.url).pathname.slice(1), stream: config.nats.stream },
    'replay runs on its own database and stream; both are removed at the end',
  );
  const app = await RecflowApp.start({ config, role: 'all', log });
  // Ctrl-C or SIGTERM mid-replay still removes what the replay created.
  const interrupted = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'replay interrupted; removing its database, stream and keys');
    void app
      .stop()
      .catch(() => undefined)
      .then(() => removeIsolated(config))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { core } = app;
    const catalog = new CatalogService(core.catalog, core.hotCopy);
    const batch = config.events.maxBatch;
    await importDataset(
      {
        items: data.items,
        users: data.users,
        eventCount: history.length,
        events: () => chunks(history.map(toEvent), batch),
      },
      {
        upsertItems: (items) => catalog.upsertItems(items),
        upsertUsers: (users) => catalog.upsertUsers(users),
        recordEvents: (events) => core.ingest.record(events),
      },
      options.progress ?? SILENT_PROGRESS,
      batch,
    );
    await waitForPipeline(core.nc, config, 30 * 60_000);

    const report = await createTrainer(core).train();
    if (!report) throw new Error('no history to train on');
    await app.models?.refresh();
    const snapshot = await core.models.snapshot();
    const frozen = new Map<string, WeightedItem[]>();
    for (const row of snapshot.rows) {
      const list = frozen.get(row.userId) ?? [];
      list.push({ itemId: row.itemId, weight: row.weight });
      frozen.set(row.userId, list);
    }

    const registry = app.models;
    if (!registry) throw new Error('replay needs the gateway role');
    const weights = config.recommend.blendWeights;
    const on = new Recommender(weights, log, undefined, registry);
    const off = new Recommender(
      weights,
      log,
      undefined,
      registry,
      (user) => frozen.get(user.userId) ?? [],
    );
    const store = new FeatureStore(core.hot, core.features, core.metrics, log, {
      neighbourDepth: 50,
    });
    const tally = () => ({ modelOn: hit(), modelOff: hit(), blendOn: hit(), blendOff: hit() });
    const all = tally();
    const newcomers = tally();
    let knownUserEvents = 0;

    let done = 0;
    for (const round of rounds(held, options.roundSize ?? 100)) {
      for (const rating of round) {
        const loaders = store.loaders();
        const user = await loaders.users.load(rating.userId);
        const model = registry.current();
        const exclude = new Set([...(user?.seen ?? []), ...(user?.disliked ?? [])]);
        const modelList = (interactions: WeightedItem[]): Candidate[] =>
          model && interactions.length > 0
            ? learnedCandidates(model, interactions, (id) => exclude.has(id), LIST).model
            : [];
        const lists = {
          modelOn: ids(modelList(user ? userInteractions(user) : [])),
          modelOff: ids(modelList(frozen.get(rating.userId) ?? [])),
          blendOn: (await on.recommend(store.loaders(), rating.userId, LIST)).items.map(
            (r) => r.item.itemId,
          ),
          blendOff: (await off.recommend(store.loaders(), rating.userId, LIST)).items.map(
            (r) => r.item.itemId,
          ),
        };
        const isNew = !frozen.has(rating.userId);
        if (!isNew) knownUserEvents += 1;
        for (const key of Object.keys(lists) as Array<keyof typeof lists>) {
          const found = lists[key].includes(rating.itemId);
          count(all[key], found);
          if (isNew) count(newcomers[key], found);
        }
      }
      await send(app, round.map(toEvent));
      done += round.length;
      options.onProgress?.(done, held.length);
    }

    return {
      dataset: options.dataDir,
      historyEvents: history.length,
      heldOutEvents: held.length,
      knownUserEvents,
      newUserEvents: held.length - knownUserEvents,
      modelVersion: report.model.version,
      durationMs: Date.now() - started,
      results: { ...all, newUsers: newcomers },
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await app.stop();
    await removeIsolated(config);
  }
}

/** Sends events through the gateway's ingestion path and waits until the worker applied them. */
async function send(app: RecflowApp, events: EventInput[]): Promise<void> {
  const { core } = app;
  const size = core.config.events.maxBatch;
  for (let at = 0; at < events.length; at += size) {
    await core.ingest.record(events.slice(at, at + size));
  }
  await waitForPipeline(core.nc, core.config, 30 * 60_000);
}

/** Consecutive groups in time order, each holding at most one event per user. */
function* rounds(ratings: readonly Rating[], size: number): Iterable<Rating[]> {
  let round: Rating[] = [];
  let users = new Set<string>();
  for (const rating of ratings) {
    if (round.length >= size || users.has(rating.userId)) {
      yield round;
      round = [];
      users = new Set();
    }
    round.push(rating);
    users.add(rating.userId);
  }
  if (round.length > 0) yield round;
}

function hit(): HitRate {
  return { hits: 0, events: 0, hr10: 0 };
}

function count(rate: HitRate, found: boolean): void {
  rate.events += 1;
  if (found) rate.hits += 1;
  rate.hr10 = rate.hits / rate.events;
}

function ids(candidates: Candidate[]): string[] {
  return candidates.map((c) => c.itemId);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
