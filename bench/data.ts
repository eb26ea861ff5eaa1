/**
 * Bench data: seeded synthetic catalogues and events (src/importers/synthetic.ts,
 * Zipf-distributed users and items, mixed event types), loaded the way the
 * CLI importer loads them, and published raw to JetStream when a scenario
 * needs a backlog rather than a measurement of ingestion.
 */
import { jetstream } from '@nats-io/jetstream';
import { CatalogService } from '../src/catalog/catalog-service';
import type { Config } from '../src/config/config';
import { type EventInput, type Interaction, validateEvent } from '../src/domain/events';
import { chunks } from '../src/importers/sinks';
import { syntheticDataset, type SyntheticOptions } from '../src/importers/synthetic';
import { encodeEvent } from '../src/ingestion/codec';
import type { NatsConnection } from '../src/messaging/connection';
import { Subjects } from '../src/messaging/subjects';
import type { Core } from '../src/app/app';

export interface BenchData {
  items: ReturnType<typeof syntheticDataset>['items'];
  users: ReturnType<typeof syntheticDataset>['users'];
  events: EventInput[];
}

/** A seeded data set; event ids start with `idPrefix` so that runs and cases never collide. */
export function makeData(options: Partial<SyntheticOptions>, idPrefix: string): BenchData {
  const dataset = syntheticDataset({ seed: 7, days: 30, ...options });
  const events: EventInput[] = [];
  for (const chunk of dataset.events()) {
    for (const e of chunk) events.push({ ...e, eventId: `${idPrefix}-${e.eventId}` });
  }
  return { items: dataset.items, users: dataset.users, events };
}

/** Items and users through the catalogue service, 1,000 per call, as `recflow generate` does. */
export async function loadCatalogue(core: Core, data: BenchData): Promise<void> {
  const catalog = new CatalogService(core.catalog, core.hotCopy);
  for (const chunk of chunks(data.items, 1000)) await catalog.upsertItems(chunk);
  for (const chunk of chunks(data.users, 1000)) await catalog.upsertUsers(chunk);
}

/** Validates events exactly as the gateway does, and encodes them as it would. */
export function encodeAll(events: readonly EventInput[], config: Config): Interaction[] {
  const now = Date.now();
  return events.map((e) => validateEvent(e, now, config.events.limits));
}

/**
 * Publishes events to a stream with their ids as message ids, as the
 * gateway's publisher does: `batch` at a time, all of a batch concurrently,
 * and `inFlight` batches at once. Resolves when JetStream acked them all.
 * `onBatch` is told how long each batch took to be acknowledged.
 */
export async function publishRaw(
  nc: NatsConnection,
  nats: Config['nats'],
  events: readonly Interaction[],
  options: { batch: number; inFlight: number; onBatch?: (ms: number) => void },
): Promise<void> {
  const js = jetstream(nc, { timeout: 10_000 });
  const subject = new Subjects(nats.subjectPrefix).events;
  const batches = [...chunks(events, options.batch)];
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next];
      next += 1;
      const sent = performance.now();
      await Promise.all(
        batch.map((e) => js.publish(subject, encodeEvent(e), { msgID: e.eventId })),
      );
      options.onBatch?.(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, lane));
}

/** An event as a GraphQL `EventInput` variable (dates as ISO strings). */
export function asVariable(e: EventInput): Record<string, unknown> {
  const occurredAt = e.occurredAt instanceof Date ? e.occurredAt.toISOString() : e.occurredAt;
  return {
    eventId: e.eventId,
    userId: e.userId,
    itemId: e.itemId,
    type: e.type,
    value: e.value ?? null,
    occurredAt: occurredAt ?? null,
  };
}

export const RECORD_EVENTS = `mutation Record($inputs: [EventInput!]!) {
  recordEvents(inputs: $inputs) { status sequence }
}`;

export const RECORD_EVENT = `mutation RecordOne($input: EventInput!) {
  recordEvent(input: $input) { status sequence }
}`;

export const RECOMMENDATIONS = `query Recs($userId: ID!) {
  recommendations(userId: $userId, limit: 10) { strategy items { score item { id title } } }
}`;

export const RECOMMENDATIONS_UPDATED = `subscription Live($userId: ID!) {
  recommendationsUpdated(userId: $userId, limit: 10) {
    computedAt items { score item { id title } }
  }
}`;
