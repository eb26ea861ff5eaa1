import {
  DEFAULT_EVENT_WEIGHTS,
  type EventWeights,
  eventWeight,
  MAX_WEIGHED_QUANTITY,
  parseEventWeights,
} from '../../../src/domain/weights';

describe('eventWeight', () => {
  test('ranks purchase over add-to-cart over like over click over view, all positive', () => {
    const weight = (type: keyof EventWeights) => eventWeight({ type, value: null });
    expect(weight('PURCHASE')).toBeGreaterThan(weight('ADD_TO_CART'));
    expect(weight('ADD_TO_CART')).toBeGreaterThan(weight('CLICK'));
    expect(weight('LIKE')).toBeGreaterThan(weight('CLICK'));
    expect(weight('CLICK')).toBeGreaterThan(weight('VIEW'));
    expect(weight('VIEW')).toBeGreaterThan(0);
  });

  test('counts dislikes and skips as aversion, a dislike more than a skip', () => {
    const dislike = eventWeight({ type: 'DISLIKE', value: null });
    const skip = eventWeight({ type: 'SKIP', value: null });
    expect(skip).toBeLessThan(0);
    expect(dislike).toBeLessThan(skip);
  });

  test.each([
    [5, 5],
    [4, 3],
    [3, 1],
    [2.5, 0],
    [2, -1],
    [1, -3],
    [0, -5],
  ])('maps a rating of %p out of 5 to the weight %p', (rating, weight) => {
    expect(eventWeight({ type: 'RATE', value: rating })).toBeCloseTo(weight, 12);
  });

  test.each([
    [10, 5],
    [8, 3],
    [6, 1],
    [2, -3],
  ])('rescales a rating of %p out of 10 to the weight %p', (rating, weight) => {
    expect(eventWeight({ type: 'RATE', value: rating }, DEFAULT_EVENT_WEIGHTS, 10)).toBeCloseTo(
      weight,
      12,
    );
  });

  test('scales a purchase of quantity q by 1 + ln q', () => {
    expect(eventWeight({ type: 'PURCHASE', value: Math.E })).toBeCloseTo(16, 12);
    expect(eventWeight({ type: 'PURCHASE', value: 3 })).toBeCloseTo(8 * (1 + Math.log(3)), 12);
    expect(eventWeight({ type: 'ADD_TO_CART', value: 3 })).toBeCloseTo(4 * (1 + Math.log(3)), 12);
  });

  test('lets bulk orders count more, but far less than proportionally', () => {
    const one = eventWeight({ type: 'PURCHASE', value: 1 });
    const hundred = eventWeight({ type: 'PURCHASE', value: 100 });
    expect(hundred).toBeGreaterThan(one);
    expect(hundred).toBeLessThan(10 * one);
  });

  test('weighs a quantity above 10,000 as 10,000', () => {
    const cap = eventWeight({ type: 'PURCHASE', value: MAX_WEIGHED_QUANTITY });
    expect(cap).toBeCloseTo(8 * (1 + Math.log(10_000)), 12);
    expect(eventWeight({ type: 'PURCHASE', value: 1e300 })).toBe(cap);
    expect(eventWeight({ type: 'ADD_TO_CART', value: 1e6 })).toBe(
      eventWeight({ type: 'ADD_TO_CART', value: 10_000 }),
    );
    expect(eventWeight({ type: 'PURCHASE', value: 9_999 })).toBeLessThan(cap);
  });

  test('treats a missing or fractional quantity as a single unit', () => {
    const single = DEFAULT_EVENT_WEIGHTS.PURCHASE;
    expect(eventWeight({ type: 'PURCHASE', value: null })).toBe(single);
    expect(eventWeight({ type: 'PURCHASE', value: 1 })).toBe(single);
    expect(eventWeight({ type: 'PURCHASE', value: 0.5 })).toBe(single);
  });

  test('ignores the value of types that carry no quantity', () => {
    expect(eventWeight({ type: 'CLICK', value: 50 })).toBe(DEFAULT_EVENT_WEIGHTS.CLICK);
  });

  test('uses the weights it is given instead of the defaults', () => {
    const weights = { ...DEFAULT_EVENT_WEIGHTS, VIEW: 0.25, PURCHASE: 2 };
    expect(eventWeight({ type: 'VIEW', value: null }, weights)).toBe(0.25);
    expect(eventWeight({ type: 'PURCHASE', value: Math.E }, weights)).toBeCloseTo(4, 12);
  });
});

describe('parseEventWeights', () => {
  test('returns the defaults for an empty text', () => {
    expect(parseEventWeights('')).toEqual(DEFAULT_EVENT_WEIGHTS);
    expect(parseEventWeights(' , ')).toEqual(DEFAULT_EVENT_WEIGHTS);
  });

  test('overrides only the named types and keeps the defaults for the rest', () => {
    expect(parseEventWeights('CLICK=3,SKIP=-2')).toEqual({
      ...DEFAULT_EVENT_WEIGHTS,
      CLICK: 3,
      SKIP: -2,
    });
  });

  test('tolerates spaces around names, values and commas', () => {
    const weights = parseEventWeights(' VIEW = 0.5 ,  LIKE=10 ,');
    expect(weights.VIEW).toBe(0.5);
    expect(weights.LIKE).toBe(10);
  });

  test('accepts a weight of zero, which switches a type off', () => {
    expect(parseEventWeights('VIEW=0').VIEW).toBe(0);
  });

  test('never changes the shared defaults', () => {
    const before = { ...DEFAULT_EVENT_WEIGHTS };
    parseEventWeights('VIEW=99');
    expect(DEFAULT_EVENT_WEIGHTS).toEqual(before);
  });

  test('rejects an unknown type, naming it', () => {
    expect(() => parseEventWeights('VIEW=1,FOO=1')).toThrow('unknown event type "FOO"');
  });

  test('rejects lower-case type names', () => {
    expect(() => parseEventWeights('view=1')).toThrow('unknown event type "view"');
  });

  test('rejects RATE, whose weight comes from the rating', () => {
    expect(() => parseEventWeights('RATE=2')).toThrow(/unknown event type "RATE".*rating/);
  });

  test.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    'rejects %s, a name every object inherits but no event type',
    (name) => {
      expect(() => parseEventWeights(`${name}=1`)).toThrow(`unknown event type "${name}"`);
    },
  );

  test.each(['VIEW', 'VIEW=', 'VIEW= ', 'VIEW=abc', 'VIEW=Infinity', 'VIEW=NaN', 'VIEW=1x'])(
    'rejects %j, which has no finite weight',
    (text) => {
      expect(() => parseEventWeights(text)).toThrow('weight for VIEW must be a finite number');
    },
  );
});
