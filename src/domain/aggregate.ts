/**
 * Folds a batch of new interactions into per-key feature deltas.
 *
 * Every delta is a commutative sum (counts, weights, log-add-exp of decayed
 * contributions) or an order-free pick (latest by event time, then event
 * id), so the store can add deltas in any order and reach the same features.
 */
import { HALF_LIFE_MS, logAddExp, logContribution } from './decay';
import type { EventType, Interaction } from './events';

export interface WeightedInteraction extends Interaction {
  weight: number;
}

export interface UserItemDelta {
  userId: string;
  itemId: string;
  events: number;
  weightSum: number;
  logPos: number | null;
  logNeg: number | null;
  rating: number | null;
  ratingAt: number | null;
  lastAt: number;
  lastType: EventType;
  /** Sort key of the latest event: event time, then event id. */
  lastKey: string;
}

export interface UserCategoryDelta {
  userId: string;
  category: string;
  events: number;
  logPos: number | null;
  logNeg: number | null;
}

export interface UserDelta {
  userId: string;
  events: number;
  positives: number;
  negatives: number;
  firstAt: number;
  lastAt: number;
}

export interface ItemDelta {
  itemId: string;
  events: number;
  positives: number;
  negatives: number;
  ratingSum: number;
  ratingCount: number;
  popAll: number;
  logDay: number | null;
  logWeek: number | null;
  logMonth: number | null;
  lastAt: number;
}

export interface BatchDeltas {
  users: UserDelta[];
  items: ItemDelta[];
  userItems: UserItemDelta[];
  userCategories: UserCategoryDelta[];
}

/** A sort key that orders events by time, then by id. */
export function latestKey(atMs: number, eventId: string): string {
  return `${String(atMs).padStart(15, '0')}|${eventId}`;
}

/**
 * Aggregates a batch. `categoriesOf` gives each item's categories as the
 * catalogue knows them now; unknown items have none.
 */
export function aggregateBatch(
  interactions: readonly WeightedInteraction[],
  categoriesOf: (itemId: string) => readonly string[],
): BatchDeltas {
  const users = new Map<string, UserDelta>();
  const items = new Map<string, ItemDelta>();
  const userItems = new Map<string, UserItemDelta>();
  const userCategories = new Map<string, UserCategoryDelta>();

  for (const event of interactions) {
    addToUser(users, event);
    addToItem(items, event);
    addToUserItem(userItems, event);
    for (const category of categoriesOf(event.itemId)) {
      addToUserCategory(userCategories, event, category);
    }
  }
  return {
    users: sortedValues(users),
    items: sortedValues(items),
    userItems: sortedValues(userItems),
    userCategories: sortedValues(userCategories),
  };
}

/** Positive and negative affinity contributions of one event, as logs. */
function affinityLogs(event: WeightedInteraction): { pos: number | null; neg: number | null } {
  const { weight, occurredAt } = event;
  if (weight > 0)
    return { pos: logContribution(weight, occurredAt, HALF_LIFE_MS.affinity), neg: null };
  if (weight < 0)
    return { pos: null, neg: logContribution(-weight, occurredAt, HALF_LIFE_MS.affinity) };
  return { pos: null, neg: null };
}

function addToUser(users: Map<string, UserDelta>, event: WeightedInteraction): void {
  const delta = getOrCreate(users, event.userId, () => ({
    userId: event.userId,
    events: 0,
    positives: 0,
    negatives: 0,
    firstAt: event.occurredAt,
    lastAt: event.occurredAt,
  }));
  delta.events += 1;
  if (event.weight > 0) delta.positives += 1;
  if (event.weight < 0) delta.negatives += 1;
  delta.firstAt = Math.min(delta.firstAt, event.occurredAt);
  delta.lastAt = Math.max(delta.lastAt, event.occurredAt);
}

function addToItem(items: Map<string, ItemDelta>, event: WeightedInteraction): void {
  const delta = getOrCreate(items, event.itemId, () => ({
    itemId: event.itemId,
    events: 0,
    positives: 0,
    negatives: 0,
    ratingSum: 0,
    ratingCount: 0,
    popAll: 0,
    logDay: null,
    logWeek: null,
    logMonth: null,
    lastAt: event.occurredAt,
  }));
  delta.events += 1;
  delta.lastAt = Math.max(delta.lastAt, event.occurredAt);
  if (event.type === 'RATE' && event.value !== null) {
    delta.ratingSum += event.value;
    delta.ratingCount += 1;
  }
  if (event.weight < 0) delta.negatives += 1;
  if (event.weight <= 0) return;

  // Only interest makes an item popular.
  const { weight, occurredAt } = event;
  delta.positives += 1;
  delta.popAll += weight;
  delta.logDay = logAddExp(delta.logDay, logContribution(weight, occurredAt, HALF_LIFE_MS.day));
  delta.logWeek = logAddExp(delta.logWeek, logContribution(weight, occurredAt, HALF_LIFE_MS.week));
  delta.logMonth = logAddExp(
    delta.logMonth,
    logContribution(weight, occurredAt, HALF_LIFE_MS.month),
  );
}

function addToUserItem(userItems: Map<string, UserItemDelta>, event: WeightedInteraction): void {
  const key = latestKey(event.occurredAt, event.eventId);
  const delta = getOrCreate(userItems, `${event.userId}\u0000${event.itemId}`, () => ({
    userId: event.userId,
    itemId: event.itemId,
    events: 0,
    weightSum: 0,
    logPos: null,
    logNeg: null,
    rating: null,
    ratingAt: null,
    lastAt: event.occurredAt,
    lastType: event.type,
    lastKey: key,
  }));
  const logs = affinityLogs(event);
  delta.events += 1;
  delta.weightSum += event.weight;
  delta.logPos = logAddExp(delta.logPos, logs.pos);
  delta.logNeg = logAddExp(delta.logNeg, logs.neg);
  if (key > delta.lastKey) {
    delta.lastKey = key;
    delta.lastType = event.type;
  }
  delta.lastAt = Math.max(delta.lastAt, event.occurredAt);
  if (event.type === 'RATE' && event.value !== null && isLaterRating(event, delta)) {
    delta.rating = event.value;
    delta.ratingAt = event.occurredAt;
  }
}

/** The latest rating wins; on a tie in time, the higher one (order-free). */
export function isLaterRating(
  event: { occurredAt: number; value: number | null },
  current: { rating: number | null; ratingAt: number | null },
): boolean {
  if (current.ratingAt === null || current.rating === null) return true;
  if (event.occurredAt !== current.ratingAt) return event.occurredAt > current.ratingAt;
  return (event.value ?? -Infinity) > current.rating;
}

function addToUserCategory(
  userCategories: Map<string, UserCategoryDelta>,
  event: WeightedInteraction,
  category: string,
): void {
  const delta = getOrCreate(userCategories, `${event.userId}\u0000${category}`, () => ({
    userId: event.userId,
    category,
    events: 0,
    logPos: null,
    logNeg: null,
  }));
  const logs = affinityLogs(event);
  delta.events += 1;
  delta.logPos = logAddExp(delta.logPos, logs.pos);
  delta.logNeg = logAddExp(delta.logNeg, logs.neg);
}

function getOrCreate<V>(map: Map<string, V>, key: string, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/** Values in key order, so that concurrent writers lock rows in one order. */
function sortedValues<V>(map: Map<string, V>): V[] {
  return [...map.keys()].sort().map((key) => map.get(key) as V);
}
