/**
 * How the hot copy's writes are queued: the arguments of the Lua scripts
 * that write users and items (user-script.ts, item-scripts.ts), and the
 * sorted-set commands for co-visitation pairs, on the pipelines of one
 * write (pipelines.ts, Writes). HotStore (hot-store.ts) decides what to
 * write; this module only lays it out, in calls small enough that Redis
 * never runs one script for long.
 */
import type { ItemFeatures, PopularityWindow, UserFeatures } from '../../domain/features';
import { POPULARITY_WINDOWS, popularityScore } from '../../domain/features';
import type { ItemPairWeight } from '../postgres/feature-repository';
import { ItemCalls, type LeftSet, type ScoredSet } from './item-scripts';
import { encodeItem } from './item-codec';
import { bitfieldArgs } from './known-users';
import type { Writes } from './pipelines';
import { encodeUserRecord } from './user-codec';

/** Marks a sorted set as complete; ids can never contain control characters. */
export const FILLED = '\u0000';

const RECORD_TTL_SECONDS = 7 * 86_400;

/** A write that makes no list complete. */
const NO_VERSIONS: VersionRange = [0, 0];

/** Most keys per call of the scripts (scripts.ts): Redis runs nothing else during a script. */
const KEYS_PER_CALL = 256;
/** Most seen items per call of WRITE_USERS, but for a call of one user. */
const ITEMS_PER_CALL = 20_000;

/** Record versions `from` to `to`, both included. */
export type VersionRange = readonly [from: number, to: number];

/** One user for WRITE_USERS (user-script.ts): a record to replace (if newer), seen items to add. */
export interface UserWrite {
  userId: string;
  record?: UserFeatures;
  seen: readonly string[];
  /** Record versions whose items `seen` holds every one of (see WRITE_USERS). */
  covers?: VersionRange;
}

/** The key layout the writes use (HotStore's; see the layout in hot-store.ts). */
export interface HotKeys {
  userKey(userId: string): string;
  itemKey(itemId: string): string;
  popularityKey(window: PopularityWindow, category?: string | null): string;
  neighboursKey(itemId: string): string;
  knownUsersKey(): string;
}

/**
 * Users through WRITE_USERS, up to KEYS_PER_CALL keys and ITEMS_PER_CALL
 * seen items a call (a user with more has a call of its own: its items
 * and the versions they cover must arrive together).
 */
export function queueUsers(to: Writes, layout: HotKeys, writes: readonly UserWrite[]): void {
  let keys: string[] = [];
  let args: Array<string | number> = [RECORD_TTL_SECONDS];
  let items = 0;
  let known: string[] = [];
  const send = () => {
    if (keys.length > 0) {
      to.pipeline(keys.length).recflowWriteUsers(keys.length, ...keys, ...args);
      // Every user written here has features in PostgreSQL.
      for (const bits of bitfieldArgs('SET', known)) {
        to.pipeline(1).call('BITFIELD', layout.knownUsersKey(), ...bits);
      }
    }
    keys = [];
    args = [RECORD_TTL_SECONDS];
    known = [];
    items = 0;
  };
  for (const { userId, record, seen, covers = NO_VERSIONS } of writes) {
    if (keys.length >= KEYS_PER_CALL || items + seen.length > ITEMS_PER_CALL) send();
    items += seen.length;
    keys.push(layout.userKey(userId));
    known.push(userId);
    args.push(
      record?.version ?? 0,
      record ? encodeUserRecord(record) : '',
      covers[0],
      covers[1],
      seen.length > 0 ? `${seen.join('\t')}\t` : '',
    );
  }
  send();
}

/**
 * Item records, and their popularity, through WRITE_ITEMS: up to
 * KEYS_PER_CALL items and KEYS_PER_CALL sets a call, with one ZADD per
 * sorted set for all its items, not one per item and set. A record older
 * than the stored one adds its item to no set, and an item leaves the sets
 * of the categories in `left` that the newest record lacks (see
 * WRITE_ITEMS). Scores only grow, so without that no write would ever
 * take an item out of a category's sets.
 */
export function queueItems(
  to: Writes,
  layout: HotKeys,
  items: readonly ItemFeatures[],
  left: ReadonlyMap<string, Iterable<string>> = new Map(),
): void {
  // Each set's key is made once per batch, not once per item: a new string
  // per item and set cost more than the lookup it was made for.
  const overall = POPULARITY_WINDOWS.map((window) => layout.popularityKey(window));
  // Category-set keys without the category: the script makes the keys of
  // the categories a replaced record named (see WRITE_ITEMS).
  const heads = POPULARITY_WINDOWS.map((window) => layout.popularityKey(window, ''));
  const byCategory = new Map<string, string[]>();
  const categoryKeys = (category: string): string[] => {
    let keys = byCategory.get(category);
    if (!keys) {
      keys = POPULARITY_WINDOWS.map((window) => layout.popularityKey(window, category));
      byCategory.set(category, keys);
    }
    return keys;
  };
  const calls = new ItemCalls(heads, KEYS_PER_CALL, (keyCount, args) =>
    to.pipeline(keyCount).recflowWriteItems(keyCount, ...args),
  );
  // One write per item, the newest, with every category it left: the
  // script applies all additions of a call before any removal, so a second
  // write of the same item could undo the first's.
  const latest = new Map<string, ItemFeatures>();
  for (const item of items) {
    const held = latest.get(item.itemId);
    if (!held || item.version >= held.version) latest.set(item.itemId, item);
  }
  for (const item of latest.values()) {
    // The item's sets and scores, before it is given a call. A withdrawn
    // item leaves every set its record names ("-").
    const named: ScoredSet[] = [];
    POPULARITY_WINDOWS.forEach((window, w) => {
      const score = item.available ? popularityScore(item, window) : '-';
      if (score === null) return;
      named.push([overall[w], score]);
      for (const c of item.categories) named.push([categoryKeys(c)[w], score]);
    });
    // The sets of the categories it left, each with its category: the
    // script checks the category against the newest record.
    const leaving: LeftSet[] = [];
    for (const c of left.get(item.itemId) ?? []) {
      for (const key of categoryKeys(c)) leaving.push([key, c]);
    }
    calls.add(layout.itemKey(item.itemId), item, encodeItem(item), named, leaving);
  }
  calls.finish();
}

/** Pair weights into both items' neighbour sets, one ZADD per set, then the trims. */
export function queueNeighbours(
  to: Writes,
  layout: HotKeys,
  pairs: readonly ItemPairWeight[],
  keep: number,
): void {
  if (pairs.length === 0) return;
  const byItem = new Map<string, Array<string | number>>();
  const add = (itemId: string, weight: number, other: string) => {
    const args = byItem.get(itemId);
    if (args) args.push(weight, other);
    else byItem.set(itemId, [weight, other]);
  };
  for (const pair of pairs) {
    add(pair.itemA, pair.weight, pair.itemB);
    add(pair.itemB, pair.weight, pair.itemA);
  }
  for (const [itemId, args] of byItem) {
    const key = layout.neighboursKey(itemId);
    const pipeline = to.pipeline(2);
    pipeline.zadd(key, 'GT', ...args);
    // Keep the `keep` heaviest neighbours, and the sentinel (+inf) if the set is filled.
    pipeline.recflowTrimToTop(key, keep, FILLED);
  }
}
