/**
 * A user's record as the durable store keeps it, and how a batch of new
 * events folds into it. The pipeline reads the record of each user a batch
 * touches (under that user's lock), folds the batch in here, and writes the
 * result both to PostgreSQL and to the hot copy, so it never reads the
 * user's history back.
 *
 * Every part folds in without depending on arrival order: counters are
 * sums, first and last times are min and max, `recent` is the top of a
 * total order (event time, then event id), and `disliked` follows the
 * item's net weight, which is itself a sum.
 */
import type { EventType } from './events';
import { RECENT_INTERACTIONS, type RecentInteraction } from './features';
import type { UserDelta, WeightedInteraction } from './aggregate';

/** One of the latest events, with the id that breaks ties in time. */
export interface RecentEvent extends RecentInteraction {
  eventId: string;
}

/** The stored part of a user's record (categories live in their own table). */
export interface UserRecordState {
  userId: string;
  version: number;
  events: number;
  positives: number;
  negatives: number;
  firstAt: number;
  lastAt: number;
  /** Latest events, newest first (event time, then event id, descending). */
  recent: RecentEvent[];
  /** Items with a net negative weight, in id order. */
  disliked: string[];
}

/**
 * Folds a batch into a user's record. `current` is null for a user the store
 * has never seen; `events` are the batch's newly applied events of this
 * user; `negative` says, for every item the batch touched for this user,
 * whether the item's net weight (a sum over all its events) is now negative.
 */
export function foldUserRecord(
  current: UserRecordState | null,
  delta: UserDelta,
  events: readonly WeightedInteraction[],
  negative: ReadonlyMap<string, boolean>,
): UserRecordState {
  const base = current ?? {
    userId: delta.userId,
    version: 0,
    events: 0,
    positives: 0,
    negatives: 0,
    firstAt: delta.firstAt,
    lastAt: delta.lastAt,
    recent: [],
    disliked: [],
  };
  return {
    userId: delta.userId,
    version: base.version + 1,
    events: base.events + delta.events,
    positives: base.positives + delta.positives,
    negatives: base.negatives + delta.negatives,
    firstAt: Math.min(base.firstAt, delta.firstAt),
    lastAt: Math.max(base.lastAt, delta.lastAt),
    recent: mergeRecent(base.recent, events),
    disliked: updateDisliked(base.disliked, negative),
  };
}

/** The latest RECENT_INTERACTIONS of `recent` and `events` together, newest first. */
export function mergeRecent(
  recent: readonly RecentEvent[],
  events: readonly WeightedInteraction[],
): RecentEvent[] {
  const added = events.map((e) => ({
    eventId: e.eventId,
    itemId: e.itemId,
    type: e.type as EventType,
    value: e.value,
    weight: e.weight,
    at: e.occurredAt,
  }));
  return [...recent, ...added].sort(newestFirst).slice(0, RECENT_INTERACTIONS);
}

/** Newest first: later event time, then the larger event id. */
export function newestFirst(a: RecentEvent, b: RecentEvent): number {
  if (a.at !== b.at) return b.at - a.at;
  return a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0;
}

/**
 * `disliked` after the net weights of some items changed: those now negative
 * in, the others out.
 */
export function updateDisliked(
  disliked: readonly string[],
  negative: ReadonlyMap<string, boolean>,
): string[] {
  const items = new Set(disliked);
  for (const [itemId, isNegative] of negative) {
    if (isNegative) items.add(itemId);
    else items.delete(itemId);
  }
  return [...items].sort();
}
