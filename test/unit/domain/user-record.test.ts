import { aggregateBatch, type WeightedInteraction } from '../../../src/domain/aggregate';
import type { EventType } from '../../../src/domain/events';
import { RECENT_INTERACTIONS } from '../../../src/domain/features';
import {
  foldUserRecord,
  mergeRecent,
  updateDisliked,
  type UserRecordState,
} from '../../../src/domain/user-record';
import { eventWeight } from '../../../src/domain/weights';
import { seededRandom, shuffled } from '../support/random';

const T = Date.UTC(2024, 5, 1);

function event(id: number, itemId: string, at: number, type: EventType = 'VIEW') {
  const base = { eventId: `e${String(id).padStart(3, '0')}`, userId: 'u', itemId, type };
  const interaction = { ...base, value: null, occurredAt: at, context: null };
  return { ...interaction, weight: eventWeight(interaction) } as WeightedInteraction;
}

/** Folds batches one after another, as the pipeline does batch by batch. */
function foldAll(batches: WeightedInteraction[][]): UserRecordState | null {
  let state: UserRecordState | null = null;
  const net = new Map<string, number>();
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const [delta] = aggregateBatch(batch, () => []).users;
    const touched = new Map<string, boolean>();
    for (const e of batch) {
      net.set(e.itemId, (net.get(e.itemId) ?? 0) + e.weight);
      touched.set(e.itemId, (net.get(e.itemId) as number) < 0);
    }
    state = foldUserRecord(state, delta, batch, touched);
  }
  return state;
}

describe('folding batches into a user record', () => {
  // 40 events, several sharing a time, so the event id must break ties.
  const events = Array.from({ length: 40 }, (_, i) =>
    event(i, `i${i % 7}`, T + Math.floor(i / 3) * 1000, i % 5 === 0 ? 'DISLIKE' : 'CLICK'),
  );

  test('gives the same record, version aside, in any order and batching', () => {
    const reference = foldAll([events]);
    const random = seededRandom(3);
    for (let round = 0; round < 20; round += 1) {
      const order = shuffled(events, random);
      const batches: WeightedInteraction[][] = [[]];
      for (const e of order) {
        if (random() < 0.3) batches.push([]);
        batches[batches.length - 1].push(e);
      }
      const folded = foldAll(batches);
      expect({ ...folded, version: 0 }).toEqual({ ...reference, version: 0 });
    }
  });

  test('keeps the latest events, newest first, ties broken by the larger event id', () => {
    const state = foldAll([events]) as UserRecordState;
    expect(state.recent).toHaveLength(RECENT_INTERACTIONS);
    const expected = [...events]
      .sort((a, b) => b.occurredAt - a.occurredAt || (a.eventId < b.eventId ? 1 : -1))
      .slice(0, RECENT_INTERACTIONS)
      .map((e) => e.eventId);
    expect(state.recent.map((r) => r.eventId)).toEqual(expected);
    expect(state).toMatchObject({ events: 40, firstAt: T, lastAt: T + 13_000, version: 1 });
  });

  test('counts a new version per batch', () => {
    expect(foldAll([events.slice(0, 10), events.slice(10)])?.version).toBe(2);
  });
});

describe('disliked items', () => {
  test('follow the sign of the net weight: negative in, zero or positive out', () => {
    const after = updateDisliked(
      ['a', 'c', 'd'],
      new Map([
        ['b', true],
        ['c', false],
        ['d', true],
      ]),
    );
    expect(after).toEqual(['a', 'b', 'd']);
  });
});

test('mergeRecent never keeps more than the recent limit', () => {
  const many = Array.from({ length: 50 }, (_, i) => event(i, 'x', T + i));
  expect(mergeRecent([], many)).toHaveLength(RECENT_INTERACTIONS);
});
