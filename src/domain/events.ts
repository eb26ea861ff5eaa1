/**
 * User events: what a client may send, and the validated interaction the
 * rest of recflow works with.
 */
import { InvalidInputError } from './errors';

export const EVENT_TYPES = [
  'VIEW',
  'CLICK',
  'ADD_TO_CART',
  'PURCHASE',
  'RATE',
  'LIKE',
  'DISLIKE',
  'SKIP',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** An event as a client sends it, before validation. */
export interface EventInput {
  eventId: string;
  userId: string;
  itemId: string;
  type: string;
  value?: number | null;
  occurredAt?: Date | string | number | null;
  context?: unknown;
}

/** A validated event. Times are epoch milliseconds. */
export interface Interaction {
  eventId: string;
  userId: string;
  itemId: string;
  type: EventType;
  value: number | null;
  occurredAt: number;
  context: Record<string, unknown> | null;
}

export interface EventLimits {
  /** Longest accepted id, in characters. */
  maxIdLength: number;
  /** How far past the server clock `occurredAt` may be, in milliseconds. */
  maxFutureSkewMs: number;
  /** Largest accepted `context`, in bytes of JSON. */
  maxContextBytes: number;
  /** Top of the rating scale; RATE values must lie in [0, ratingMax]. */
  ratingMax: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxIdLength: 128,
  maxFutureSkewMs: 5 * 60_000,
  maxContextBytes: 2048,
  ratingMax: 5,
};

const EARLIEST_EVENT_MS = Date.UTC(1970, 0, 1);
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);
const UTF8 = new TextEncoder();
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** What validateId's last three checks might reject (any surrogate, even paired), in one scan. */
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]|^\s|\s$/;

/**
 * Checks one event and returns it normalised, or throws InvalidInputError
 * naming the field. `field` prefixes the names (for example `inputs[3]`).
 */
export function validateEvent(
  input: EventInput,
  now: number,
  limits: EventLimits = DEFAULT_EVENT_LIMITS,
  field = 'input',
): Interaction {
  const eventId = validateId(input.eventId, `${field}.eventId`, limits);
  const userId = validateId(input.userId, `${field}.userId`, limits);
  const itemId = validateId(input.itemId, `${field}.itemId`, limits);
  const type = validateType(input.type, `${field}.type`);
  const value = validateValue(type, input.value, `${field}.value`, limits);
  const occurredAt = validateTime(input.occurredAt, now, `${field}.occurredAt`, limits);
  const context = validateContext(input.context, `${field}.context`, limits);
  return { eventId, userId, itemId, type, value, occurredAt, context };
}

/** Ids are 1 to maxIdLength characters with no control characters. */
export function validateId(raw: unknown, field: string, limits: EventLimits): string {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new InvalidInputError(field, `${field} must be a non-empty string`);
  }
  if (raw.length > limits.maxIdLength) {
    throw new InvalidInputError(
      field,
      `${field} is ${raw.length} characters long; the limit is ${limits.maxIdLength}`,
    );
  }
  if (!SUSPECT.test(raw)) return raw;
  if (CONTROL_CHARS.test(raw)) {
    throw new InvalidInputError(field, `${field} must not contain control characters`);
  }
  if (/^\s|\s$/u.test(raw)) {
    // JetStream trims message ids, so "a" and "a " would collide as duplicates.
    throw new InvalidInputError(field, `${field} must not begin or end with whitespace`);
  }
  if (LONE_SURROGATE.test(raw)) {
    // Such an id cannot be stored or sent as UTF-8 without changing.
    throw new InvalidInputError(field, `${field} must be well-formed Unicode`);
  }
  return raw;
}

function validateType(raw: unknown, field: string): EventType {
  if (typeof raw !== 'string' || !TYPE_SET.has(raw)) {
    throw new InvalidInputError(field, `${field} must be one of ${EVENT_TYPES.join(', ')}`);
  }
  return raw as EventType;
}

function validateValue(
  type: EventType,
  raw: unknown,
  field: string,
  limits: EventLimits,
): number | null {
  if (raw === undefined || raw === null) {
    if (type === 'RATE') throw new InvalidInputError(field, `${field} is required for RATE`);
    return null;
  }
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    throw new InvalidInputError(field, `${field} must be a finite number`);
  }
  if (type === 'RATE' && (raw < 0 || raw > limits.ratingMax)) {
    throw new InvalidInputError(field, `${field} must lie between 0 and ${limits.ratingMax}`);
  }
  if ((type === 'PURCHASE' || type === 'ADD_TO_CART') && raw <= 0) {
    throw new InvalidInputError(field, `${field} is a quantity and must be positive`);
  }
  return raw;
}

function validateTime(raw: unknown, now: number, field: string, limits: EventLimits): number {
  if (raw === undefined || raw === null) return now;
  const ms =
    raw instanceof Date ? raw.getTime() : typeof raw === 'number' ? raw : Date.parse(String(raw));
  if (!Number.isFinite(ms)) {
    throw new InvalidInputError(field, `${field} must be an ISO 8601 date-time`);
  }
  if (ms > now + limits.maxFutureSkewMs) {
    throw new InvalidInputError(
      field,
      `${field} lies more than ${Math.round(limits.maxFutureSkewMs / 1000)} s in the future`,
    );
  }
  if (ms < EARLIEST_EVENT_MS) {
    throw new InvalidInputError(field, `${field} lies before 1970`);
  }
  return Math.floor(ms);
}

function validateContext(
  raw: unknown,
  field: string,
  limits: EventLimits,
): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInputError(field, `${field} must be a JSON object`);
  }
  const json = jsonText(raw, field);
  const bytes = UTF8.encode(json).length;
  if (bytes > limits.maxContextBytes) {
    throw new InvalidInputError(
      field,
      `${field} is ${bytes} bytes of JSON; the limit is ${limits.maxContextBytes}`,
    );
  }
  // PostgreSQL's jsonb could not store it: the event, accepted, could never be applied.
  const problem = unstorableJson(raw);
  if (problem) throw new InvalidInputError(field, `${field} ${problem}`);
  return raw as Record<string, unknown>;
}

/**
 * Deepest nesting of objects and arrays allowed in a free-form JSON field
 * (an event's context, an item's attributes): far past any real use, and
 * shallow enough that every reader, recursive or not, stays clear of its
 * stack.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * JSON text of a value, or a caller error when it nests deeper than
 * MAX_JSON_DEPTH. The depth is measured without recursion, before the
 * value is serialised.
 */
export function jsonText(value: unknown, field: string): string {
  if (jsonDepth(value) > MAX_JSON_DEPTH) {
    throw new InvalidInputError(field, `${field} nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return JSON.stringify(value);
}

/** How deeply objects and arrays nest in a value: 0 for a scalar, 1 for `{}`. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_JSON_DEPTH) return deepest; // no need to walk the rest
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** What PostgreSQL cannot store in text or jsonb: NUL, and half of a surrogate pair. */
const UNSTORABLE = new RegExp(`\u0000|${LONE_SURROGATE.source}`);

/**
 * Why PostgreSQL could not store this string (to follow a field name), or
 * undefined when it can. A lone surrogate has no UTF-8 form: jsonb refuses
 * it, and text would keep U+FFFD in its place.
 */
export function unstorable(text: string): string | undefined {
  const found = UNSTORABLE.exec(text);
  if (!found) return undefined;
  return found[0] === '\u0000'
    ? 'must not contain the NUL character'
    : 'must be well-formed Unicode';
}

/** Why PostgreSQL could not store some string or key inside a JSON value, or undefined. */
export function unstorableJson(value: unknown): string | undefined {
  if (typeof value === 'string') return unstorable(value);
  if (Array.isArray(value)) {
    for (const v of value) {
      const problem = unstorableJson(v);
      if (problem) return problem;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const problem = unstorable(k) ?? unstorableJson(v);
      if (problem) return problem;
    }
  }
  return undefined;
}
