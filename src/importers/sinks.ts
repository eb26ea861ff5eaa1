/**
 * Where importers send data: the same services live traffic goes through.
 */
import type { ItemUpsert, UserUpsert } from '../catalog/validation';
import type { EventInput } from '../domain/events';
import type { PublishedEvent } from '../ingestion/publisher';
import type { UpsertCounts } from '../storage/postgres/catalog-repository';

export interface ImportSinks {
  upsertItems(items: ItemUpsert[]): Promise<UpsertCounts>;
  upsertUsers(users: UserUpsert[]): Promise<UpsertCounts>;
  recordEvents(events: EventInput[]): Promise<PublishedEvent[]>;
}

export interface ImportProgress {
  phase(name: string, total: number): void;
  advance(count: number): void;
  done(): void;
}

export interface ImportSummary {
  items: UpsertCounts;
  users: UpsertCounts;
  events: { accepted: number; duplicate: number };
}

/** A data set in recflow's terms. Events are produced lazily, in chunks. */
export interface Dataset {
  items: ItemUpsert[];
  users: UserUpsert[];
  eventCount: number;
  events(): Iterable<EventInput[]>;
}

/** Sends a data set through the sinks in batches, reporting progress. */
export async function importDataset(
  dataset: Dataset,
  sinks: ImportSinks,
  progress: ImportProgress,
  batchSize = 1000,
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    items: { created: 0, updated: 0 },
    users: { created: 0, updated: 0 },
    events: { accepted: 0, duplicate: 0 },
  };

  progress.phase('items', dataset.items.length);
  for (const chunk of chunks(dataset.items, batchSize)) {
    add(summary.items, await sinks.upsertItems(chunk));
    progress.advance(chunk.length);
  }
  progress.phase('users', dataset.users.length);
  for (const chunk of chunks(dataset.users, batchSize)) {
    add(summary.users, await sinks.upsertUsers(chunk));
    progress.advance(chunk.length);
  }
  progress.phase('events', dataset.eventCount);
  for (const chunk of dataset.events()) {
    const answers = await sinks.recordEvents(chunk);
    for (const a of answers)
      summary.events[a.answer === 'ACCEPTED' ? 'accepted' : 'duplicate'] += 1;
    progress.advance(chunk.length);
  }
  progress.done();
  return summary;
}

export function* chunks<T>(values: readonly T[], size: number): Iterable<T[]> {
  for (let i = 0; i < values.length; i += size) yield values.slice(i, i + size);
}

function add(into: UpsertCounts, counts: UpsertCounts): void {
  into.created += counts.created;
  into.updated += counts.updated;
}
