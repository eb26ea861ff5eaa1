import { ErrorCode, InvalidInputError } from '../../../src/domain/errors';
import {
  DEFAULT_EVENT_LIMITS,
  type EventInput,
  type EventLimits,
  jsonDepth,
  MAX_JSON_DEPTH,
  validateEvent,
} from '../../../src/domain/events';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const FIVE_MINUTES = 5 * 60_000;

const VALID: EventInput = {
  eventId: 'evt-1',
  userId: 'user-1',
  itemId: 'item-1',
  type: 'VIEW',
};

/** Runs validateEvent on VALID with `changes` and returns the error it must throw. */
function rejectionOf(
  changes: Partial<EventInput>,
  limits: EventLimits = DEFAULT_EVENT_LIMITS,
  field?: string,
): InvalidInputError {
  try {
    validateEvent({ ...VALID, ...changes }, NOW, limits, field);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error(`validateEvent accepted ${JSON.stringify(changes)}`);
}

function expectRejected(changes: Partial<EventInput>, field: string): InvalidInputError {
  const error = rejectionOf(changes);
  expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
  expect(error.details).toEqual({ field });
  expect(error.message).toContain(field);
  return error;
}

describe('validateEvent rejects', () => {
  test.each(['BOGUS', 'view', '', 'RATE ', 'rate'])('the unknown type %j', (type) => {
    const error = expectRejected({ type }, 'input.type');
    expect(error.message).toContain('VIEW, CLICK');
  });

  test('a type that is not a string', () => {
    expectRejected({ type: 3 as unknown as string }, 'input.type');
  });

  test.each(['eventId', 'userId', 'itemId'] as const)('an empty %s', (key) => {
    expectRejected({ [key]: '' }, `input.${key}`);
  });

  test.each(['eventId', 'userId', 'itemId'] as const)('a missing or non-string %s', (key) => {
    expectRejected({ [key]: undefined }, `input.${key}`);
    expectRejected({ [key]: 42 as unknown as string }, `input.${key}`);
  });

  test.each(['eventId', 'userId', 'itemId'] as const)(
    'a %s one character over the 128-character limit',
    (key) => {
      const error = expectRejected({ [key]: 'x'.repeat(129) }, `input.${key}`);
      expect(error.message).toContain('129');
      expect(error.message).toContain('128');
    },
  );

  test.each([
    ['a NUL byte', 'evt\u0000'],
    ['a newline', 'evt\n1'],
    ['a tab', '\tevt'],
    ['a unit separator', 'evt\u001f'],
    ['DEL', 'evt\u007f'],
    ['a C1 next-line character', 'evt\u0085'],
    ['a C1 control character', 'evt\u009f'],
  ])('ids holding %s', (_what, id) => {
    expectRejected({ eventId: id }, 'input.eventId');
    expectRejected({ userId: id }, 'input.userId');
    expectRejected({ itemId: id }, 'input.itemId');
  });

  test.each([NaN, Infinity, -Infinity])('the non-finite value %p', (value) => {
    expectRejected({ type: 'VIEW', value }, 'input.value');
    expectRejected({ type: 'RATE', value }, 'input.value');
  });

  test('a value that is not a number', () => {
    expectRejected({ type: 'RATE', value: '4' as unknown as number }, 'input.value');
  });

  test.each([undefined, null])('a RATE whose value is %p', (value) => {
    const error = expectRejected({ type: 'RATE', value }, 'input.value');
    expect(error.message).toContain('RATE');
  });

  test.each([-0.01, -1, 5.01, 6, 100])('a rating of %p, outside 0 to 5', (value) => {
    expectRejected({ type: 'RATE', value }, 'input.value');
  });

  test('a rating above a custom top of the scale', () => {
    const limits = { ...DEFAULT_EVENT_LIMITS, ratingMax: 10 };
    expect(rejectionOf({ type: 'RATE', value: 10.5 }, limits).details).toEqual({
      field: 'input.value',
    });
  });

  test.each([
    ['PURCHASE', 0],
    ['PURCHASE', -1],
    ['PURCHASE', -0.5],
    ['ADD_TO_CART', 0],
    ['ADD_TO_CART', -3],
  ])('a %s with the non-positive quantity %p', (type, value) => {
    expectRejected({ type, value }, 'input.value');
  });

  test('a timestamp one millisecond more than 5 minutes in the future', () => {
    expectRejected({ occurredAt: NOW + FIVE_MINUTES + 1 }, 'input.occurredAt');
  });

  test('an ISO timestamp an hour in the future', () => {
    const inAnHour = new Date(NOW + 3_600_000).toISOString();
    expectRejected({ occurredAt: inAnHour }, 'input.occurredAt');
  });

  test('a future timestamp beyond a custom clock-skew allowance', () => {
    const limits = { ...DEFAULT_EVENT_LIMITS, maxFutureSkewMs: 0 };
    expect(rejectionOf({ occurredAt: NOW + 1 }, limits).details).toEqual({
      field: 'input.occurredAt',
    });
  });

  test.each<[string, EventInput['occurredAt']]>([
    ['a word', 'yesterday'],
    ['garbage', 'not-a-date'],
    ['an impossible date', '2024-13-45T99:00:00Z'],
    ['an invalid Date', new Date(NaN)],
    ['NaN', NaN],
    ['Infinity', Infinity],
  ])('an unparseable timestamp (%s)', (_what, occurredAt) => {
    expectRejected({ occurredAt }, 'input.occurredAt');
  });

  test('a timestamp before 1970', () => {
    expectRejected({ occurredAt: '1969-12-31T23:59:59Z' }, 'input.occurredAt');
  });

  test.each<[string, unknown]>([
    ['an array', [{ page: 'home' }]],
    ['an empty array', []],
    ['a string', 'home'],
    ['a number', 7],
    ['a boolean', true],
  ])('a context that is %s', (_what, context) => {
    expectRejected({ context }, 'input.context');
  });

  test('a context one byte over 2048 bytes of JSON', () => {
    // {"note":"…"} is 11 bytes of JSON around the note.
    const error = expectRejected({ context: { note: 'x'.repeat(2038) } }, 'input.context');
    expect(error.message).toContain('2049');
  });

  test('a context nested deeper than 32 levels, whatever its size', () => {
    const nest = (levels: number): unknown => (levels === 1 ? {} : { a: nest(levels - 1) });
    expect(jsonDepth(nest(32))).toBe(32);
    expect(() =>
      validateEvent({ ...VALID, context: nest(32) as Record<string, unknown> }, NOW),
    ).not.toThrow();
    const error = expectRejected({ context: nest(33) as Record<string, unknown> }, 'input.context');
    expect(error.message).toBe('input.context nests deeper than 32 levels');
    // Arrays count as levels too, and a deep value far down one branch is found.
    expect(jsonDepth({ wide: [1, 2, 3], deep: [[[[]]]] })).toBe(5);
    expect(jsonDepth(7)).toBe(0);
    // Measured without recursion: 100,000 levels do not overflow the stack.
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
  });

  test('a context measured in UTF-8 bytes, not characters', () => {
    // 1100 characters, but 2200 bytes: "é" takes two bytes in UTF-8.
    expectRejected({ context: { note: 'é'.repeat(1100) } }, 'input.context');
  });
});

describe('validateEvent names fields', () => {
  test('with the prefix it is given, such as a batch position', () => {
    const error = rejectionOf({ type: 'NOPE' }, DEFAULT_EVENT_LIMITS, 'inputs[3]');
    expect(error.details).toEqual({ field: 'inputs[3].type' });
    expect(error.message).toMatch(/^inputs\[3\]\.type /);
  });

  test('by checking ids first, so the first bad field is the one reported', () => {
    const error = rejectionOf({ eventId: '', type: 'NOPE', value: NaN });
    expect(error.details).toEqual({ field: 'input.eventId' });
  });
});

describe('validateEvent accepts and normalises', () => {
  test('a minimal event, defaulting the time to now and the rest to null', () => {
    expect(validateEvent(VALID, NOW)).toEqual({
      eventId: 'evt-1',
      userId: 'user-1',
      itemId: 'item-1',
      type: 'VIEW',
      value: null,
      occurredAt: NOW,
      context: null,
    });
  });

  test('a null time as now', () => {
    expect(validateEvent({ ...VALID, occurredAt: null }, NOW).occurredAt).toBe(NOW);
  });

  test('an ISO 8601 string to epoch milliseconds', () => {
    const event = validateEvent({ ...VALID, occurredAt: '2024-05-31T10:15:30.250Z' }, NOW);
    expect(event.occurredAt).toBe(Date.UTC(2024, 4, 31, 10, 15, 30, 250));
  });

  test('an ISO 8601 string with an offset to the same instant in UTC', () => {
    const event = validateEvent({ ...VALID, occurredAt: '2024-06-01T14:00:00+02:00' }, NOW);
    expect(event.occurredAt).toBe(NOW);
  });

  test('a Date to epoch milliseconds', () => {
    const at = new Date(NOW - 60_000);
    expect(validateEvent({ ...VALID, occurredAt: at }, NOW).occurredAt).toBe(NOW - 60_000);
  });

  test('a fractional millisecond time by rounding down', () => {
    expect(validateEvent({ ...VALID, occurredAt: NOW - 0.25 }, NOW).occurredAt).toBe(NOW - 1);
  });

  test('a timestamp exactly 5 minutes ahead, the edge of the allowance', () => {
    const event = validateEvent({ ...VALID, occurredAt: NOW + FIVE_MINUTES }, NOW);
    expect(event.occurredAt).toBe(NOW + FIVE_MINUTES);
  });

  test('the epoch itself, the earliest accepted time', () => {
    expect(validateEvent({ ...VALID, occurredAt: 0 }, NOW).occurredAt).toBe(0);
  });

  test('ids of exactly 128 characters, including non-ASCII ones', () => {
    const id = 'é'.repeat(128);
    const event = validateEvent({ ...VALID, eventId: id, userId: id, itemId: id }, NOW);
    expect([event.eventId, event.userId, event.itemId]).toEqual([id, id, id]);
  });

  test.each([0, 2.5, 5])('a rating of %p, inside 0 to 5', (value) => {
    expect(validateEvent({ ...VALID, type: 'RATE', value }, NOW).value).toBe(value);
  });

  test('a rating up to a custom top of the scale', () => {
    const limits = { ...DEFAULT_EVENT_LIMITS, ratingMax: 10 };
    expect(validateEvent({ ...VALID, type: 'RATE', value: 8 }, NOW, limits).value).toBe(8);
  });

  test('a positive PURCHASE quantity, fractional ones included', () => {
    expect(validateEvent({ ...VALID, type: 'PURCHASE', value: 3 }, NOW).value).toBe(3);
    expect(validateEvent({ ...VALID, type: 'PURCHASE', value: 0.5 }, NOW).value).toBe(0.5);
  });

  test('a PURCHASE without a quantity', () => {
    expect(validateEvent({ ...VALID, type: 'PURCHASE' }, NOW).value).toBeNull();
  });

  test.each(['VIEW', 'CLICK', 'LIKE', 'DISLIKE', 'SKIP'])(
    'a %s carrying any finite value, negative included',
    (type) => {
      expect(validateEvent({ ...VALID, type, value: -2 }, NOW).value).toBe(-2);
    },
  );

  test('a context object of exactly 2048 bytes of JSON, kept as given', () => {
    const context = { note: 'x'.repeat(2037) };
    expect(new TextEncoder().encode(JSON.stringify(context)).length).toBe(2048);
    expect(validateEvent({ ...VALID, context }, NOW).context).toBe(context);
  });

  test('an empty context object', () => {
    expect(validateEvent({ ...VALID, context: {} }, NOW).context).toEqual({});
  });
});

describe('ids and contexts that could not be stored faithfully', () => {
  const base = { eventId: 'e', userId: 'u', itemId: 'i', type: 'VIEW' };

  test.each(['a ', ' a', '\u00a0a', 'a\u2003', '   '])(
    'an event id with whitespace at an edge (%j) is refused: JetStream trims message ids',
    (eventId) => {
      expect(() => validateEvent({ ...base, eventId }, Date.now())).toThrow(/whitespace/);
    },
  );

  test('whitespace inside an id is fine', () => {
    expect(validateEvent({ ...base, eventId: 'a b' }, Date.now()).eventId).toBe('a b');
  });

  test.each(['\ud83c', 'a\udf89', '\udf89\ud83c', 'x\ud83cy'])(
    'an id with a lone surrogate (%j) is refused: it has no UTF-8 form',
    (userId) => {
      expect(() => validateEvent({ ...base, userId }, Date.now())).toThrow(/well-formed Unicode/);
    },
  );

  test.each(['\ud83c\udf89', 'party-\ud83c\udf89', '\ud83c\udf89 \ud83c\udf89', 'é-ü'])(
    'an id with characters beyond ASCII (%j) is fine',
    (itemId) => {
      expect(validateEvent({ ...base, itemId }, Date.now()).itemId).toBe(itemId);
    },
  );

  test('an id with several faults is refused for the first checked: control characters', () => {
    expect(() => validateEvent({ ...base, eventId: ' \u0000\ud83c' }, Date.now())).toThrow(
      /control characters/,
    );
  });

  test('a context holding U+0000 anywhere is refused; the text "\\u0000" is not', () => {
    const now = Date.now();
    expect(() => validateEvent({ ...base, context: { a: ['x\u0000'] } }, now)).toThrow(/NUL/);
    expect(() => validateEvent({ ...base, context: { 'k\u0000': 1 } }, now)).toThrow(/NUL/);
    expect(validateEvent({ ...base, context: { a: 'x\\u0000' } }, now).context).toEqual({
      a: 'x\\u0000',
    });
  });

  test('a context holding half a surrogate pair anywhere is refused; whole pairs are kept', () => {
    const now = Date.now();
    for (const context of [{ a: 'x\ud800' }, { a: [{ b: '\udc00y' }] }, { 'k\ud83c': 1 }]) {
      expect(() => validateEvent({ ...base, context }, now)).toThrow(
        /input\.context must be well-formed Unicode/,
      );
    }
    expect(validateEvent({ ...base, context: { a: 'ok \ud83c\udfac' } }, now).context).toEqual({
      a: 'ok \ud83c\udfac',
    });
  });
});
