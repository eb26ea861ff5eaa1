import type { ItemUpsert, UserUpsert } from '../../../src/catalog/validation';
import type { EventInput } from '../../../src/domain/events';
import {
  chunks,
  type Dataset,
  type ImportProgress,
  type ImportSinks,
  importDataset,
} from '../../../src/importers/sinks';
import { syntheticDataset } from '../../../src/importers/synthetic';
import type { PublishedEvent } from '../../../src/ingestion/publisher';

type Call = ['items' | 'users' | 'events', string[]];

/**
 * Sinks that remember what they stored, in order: an id seen before is
 * "updated" or "DUPLICATE", as the real services answer.
 */
class RecordingSinks implements ImportSinks {
  readonly calls: Call[] = [];
  readonly items = new Set<string>();
  readonly users = new Set<string>();
  readonly events = new Set<string>();
  failOn: Call[0] | undefined;

  async upsertItems(items: ItemUpsert[]) {
    return this.upsert('items', items, this.items);
  }

  async upsertUsers(users: UserUpsert[]) {
    return this.upsert('users', users, this.users);
  }

  async recordEvents(events: EventInput[]): Promise<PublishedEvent[]> {
    this.record(
      'events',
      events.map((e) => e.eventId),
    );
    return events.map((e, sequence) => {
      const fresh = !this.events.has(e.eventId);
      this.events.add(e.eventId);
      return { eventId: e.eventId, answer: fresh ? 'ACCEPTED' : 'DUPLICATE', sequence };
    });
  }

  private upsert(kind: Call[0], rows: Array<{ id: string }>, store: Set<string>) {
    this.record(
      kind,
      rows.map((r) => r.id),
    );
    const created = rows.filter((r) => !store.has(r.id)).length;
    for (const r of rows) store.add(r.id);
    return { created, updated: rows.length - created };
  }

  private record(kind: Call[0], ids: string[]): void {
    if (this.failOn === kind) throw new Error(`${kind} store is down`);
    this.calls.push([kind, ids]);
  }
}

class RecordingProgress implements ImportProgress {
  readonly log: Array<string | [string, number]> = [];

  phase(name: string, total: number): void {
    this.log.push([name, total]);
  }

  advance(count: number): void {
    this.log.push(['+', count]);
  }

  done(): void {
    this.log.push('done');
  }
}

const event = (eventId: string, userId: string, itemId: string): EventInput => ({
  eventId,
  userId,
  itemId,
  type: 'VIEW',
});

/** Five items, three users, three events in two chunks (one event sent twice). */
const DATASET: Dataset = {
  items: ['i1', 'i2', 'i3', 'i4', 'i5'].map((id) => ({ id, title: `Item ${id}` })),
  users: ['u1', 'u2', 'u3'].map((id) => ({ id })),
  eventCount: 4,
  events: () => [
    [event('e1', 'u1', 'i1'), event('e2', 'u2', 'i3')],
    [event('e3', 'u3', 'i5'), event('e1', 'u1', 'i1')],
  ],
};

describe('importDataset', () => {
  test('sends items, then users, then events, each in batches of batchSize', async () => {
    const sinks = new RecordingSinks();
    await importDataset(DATASET, sinks, new RecordingProgress(), 2);
    expect(sinks.calls).toEqual([
      ['items', ['i1', 'i2']],
      ['items', ['i3', 'i4']],
      ['items', ['i5']],
      ['users', ['u1', 'u2']],
      ['users', ['u3']],
      ['events', ['e1', 'e2']],
      ['events', ['e3', 'e1']],
    ]);
  });

  test('reports each phase with its total, every batch, and the end', async () => {
    const progress = new RecordingProgress();
    await importDataset(DATASET, new RecordingSinks(), progress, 2);
    expect(progress.log).toEqual([
      ['items', 5],
      ['+', 2],
      ['+', 2],
      ['+', 1],
      ['users', 3],
      ['+', 2],
      ['+', 1],
      ['events', 4],
      ['+', 2],
      ['+', 2],
      'done',
    ]);
  });

  test('adds up what the sinks answered', async () => {
    const summary = await importDataset(DATASET, new RecordingSinks(), new RecordingProgress(), 2);
    expect(summary).toEqual({
      items: { created: 5, updated: 0 },
      users: { created: 3, updated: 0 },
      events: { accepted: 3, duplicate: 1 },
    });
  });

  test('counts everything as updated or duplicate on a second import', async () => {
    const sinks = new RecordingSinks();
    await importDataset(DATASET, sinks, new RecordingProgress(), 2);
    const again = await importDataset(DATASET, sinks, new RecordingProgress(), 3);
    expect(again).toEqual({
      items: { created: 0, updated: 5 },
      users: { created: 0, updated: 3 },
      events: { accepted: 0, duplicate: 4 },
    });
  });

  test('stops at the first failing batch with its error and never reports done', async () => {
    const sinks = new RecordingSinks();
    sinks.failOn = 'users';
    const progress = new RecordingProgress();
    await expect(importDataset(DATASET, sinks, progress, 2)).rejects.toThrow('users store is down');
    expect(sinks.calls.map(([kind]) => kind)).toEqual(['items', 'items', 'items']);
    expect(progress.log).not.toContain('done');
  });

  test('imports an empty data set as three empty phases', async () => {
    const sinks = new RecordingSinks();
    const progress = new RecordingProgress();
    const empty: Dataset = { items: [], users: [], eventCount: 0, events: () => [] };
    const summary = await importDataset(empty, sinks, progress, 2);
    expect(sinks.calls).toEqual([]);
    expect(progress.log).toEqual([['items', 0], ['users', 0], ['events', 0], 'done']);
    expect(summary.events).toEqual({ accepted: 0, duplicate: 0 });
  });

  test('imports a synthetic data set whole, every event after its user and item', async () => {
    const dataset = syntheticDataset({
      users: 25,
      items: 15,
      events: 300,
      categories: 4,
      seed: 9,
      days: 3,
      now: Date.UTC(2024, 0, 1),
      batchSize: 50,
    });
    const sinks = new RecordingSinks();
    const progress = new RecordingProgress();
    const summary = await importDataset(dataset, sinks, progress, 10);

    expect(summary).toEqual({
      items: { created: 15, updated: 0 },
      users: { created: 25, updated: 0 },
      events: { accepted: 300, duplicate: 0 },
    });
    const kinds = sinks.calls.map(([kind]) => kind);
    expect(kinds).toEqual([
      ...new Array<string>(2).fill('items'),
      ...new Array<string>(3).fill('users'),
      ...new Array<string>(6).fill('events'),
    ]);
    for (const e of [...dataset.events()].flat()) {
      expect(sinks.users.has(e.userId)).toBe(true);
      expect(sinks.items.has(e.itemId)).toBe(true);
    }
    const advances = progress.log.filter((entry) => Array.isArray(entry) && entry[0] === '+');
    expect(advances).toHaveLength(2 + 3 + 6);
  });
});

describe('chunks', () => {
  test('splits a list into slices of the given size, the last one shorter', () => {
    expect([...chunks([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...chunks([1, 2, 3, 4], 2)]).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect([...chunks([], 3)]).toEqual([]);
  });
});
