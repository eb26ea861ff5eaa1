/**
 * How a user is stored in the hot copy: one string per user,
 *
 *   "<version>|<record>\n<mark>\t<item>\t<item>\t..."
 *
 * The record is a positional JSON array, with no field names and times
 * stored as offsets back from the user's last event:
 *
 *   [events, positives, negatives, lastAt, lastAt − firstAt,
 *    [category, events, logPos, logNeg, ...],
 *    [itemId, type index, value, weight, lastAt − at, ...],   (recent)
 *    [itemId, ...]]                                          (disliked)
 *
 * It decodes to exactly the record it was made from: times are whole
 * milliseconds, so the offsets are exact (a record with any other time is
 * stored as plain JSON, which also reads records written before this
 * encoding). After the line break come a mark and the seen items, each
 * followed by a tab. "F<v>" marks a list that holds every item of every
 * record version up to v, "P" one that may lack some (either may carry
 * ranges of later versions, "+<a>-<b>"); a list is complete, and trusted,
 * only while v has reached the record's version (user-script.ts, WRITE_USERS,
 * says how v moves). Ids never hold control characters, so neither
 * separator can occur in one.
 */
import { EVENT_TYPES, type EventType } from '../../domain/events';
import type { UserFeatures } from '../../domain/features';

type Record = Omit<UserFeatures, 'seen'>;

/** The record part of a user's value, without its version. */
export function encodeUserRecord(user: UserFeatures): string {
  const { lastAt } = user;
  const times = [user.firstAt, lastAt, ...user.recent.map((r) => r.at)];
  if (!times.every(Number.isSafeInteger)) {
    const { seen: _seen, ...record } = user;
    return JSON.stringify(record);
  }
  const categories: unknown[] = [];
  for (const c of user.categories) categories.push(c.category, c.events, c.logPos, c.logNeg);
  const recent: unknown[] = [];
  for (const r of user.recent) {
    recent.push(r.itemId, EVENT_TYPES.indexOf(r.type), r.value, r.weight, lastAt - r.at);
  }
  return JSON.stringify([
    user.events,
    user.positives,
    user.negatives,
    lastAt,
    lastAt - user.firstAt,
    categories,
    recent,
    user.disliked,
  ]);
}

/** A user's value as read: the record, and the seen items with their mark. */
export interface UserValue {
  record: Record;
  seen: string[];
  complete: boolean;
}

/**
 * Reads a user's value: undefined when there is no record (a miss), null
 * for a remembered absence, otherwise the record and the seen list.
 */
export function parseUserValue(userId: string, value: string | null): UserValue | null | undefined {
  if (value === null) return undefined;
  const lineBreak = value.indexOf('\n');
  const head = lineBreak < 0 ? value : value.slice(0, lineBreak);
  const bar = head.indexOf('|');
  if (bar < 0) return undefined;
  const body = head.slice(bar + 1);
  if (body === 'null') return null;
  const version = Number(head.slice(0, bar));
  const tail = lineBreak < 0 ? '' : value.slice(lineBreak + 1);
  return {
    record: decodeRecord(userId, version, body),
    seen: tail.split('\t').slice(1, -1),
    complete: completeUpTo(tail) >= version,
  };
}

/**
 * The version up to which a list holds every item: the v of its "F<v>"
 * mark (ranges after a "+" hold later versions), else 0.
 */
function completeUpTo(tail: string): number {
  // As the script reads it: no tab, no mark.
  const found = /^F(\d+)[+\t]/.exec(tail);
  const upTo = found ? Number(found[1]) : 0;
  return Number.isSafeInteger(upTo) ? upTo : 0;
}

function decodeRecord(userId: string, version: number, body: string): Record {
  const parsed = JSON.parse(body) as unknown;
  if (!Array.isArray(parsed)) return { ...(parsed as Record), userId, version };
  const [events, positives, negatives, lastAt, firstBack, categories, recent, disliked] =
    parsed as [number, number, number, number, number, unknown[], unknown[], string[]];
  const record: Record = {
    userId,
    version,
    events,
    positives,
    negatives,
    firstAt: lastAt - firstBack,
    lastAt,
    categories: [],
    recent: [],
    disliked,
  };
  for (let i = 0; i < categories.length; i += 4) {
    record.categories.push({
      category: categories[i] as string,
      events: categories[i + 1] as number,
      logPos: categories[i + 2] as number | null,
      logNeg: categories[i + 3] as number | null,
    });
  }
  for (let i = 0; i < recent.length; i += 5) {
    record.recent.push({
      itemId: recent[i] as string,
      type: EVENT_TYPES[recent[i + 1] as number] as EventType,
      value: recent[i + 2] as number | null,
      weight: recent[i + 3] as number,
      at: lastAt - (recent[i + 4] as number),
    });
  }
  return record;
}
