import { GraphQLDateTimeISO } from 'graphql-scalars';
import { DateTimeISO, quickUtc } from '../../../../src/api/graphql/types/date-time';
import { seededRandom } from '../../support/random';

/** What a scalar's parseValue makes of a value: the instant, or the error message. */
function outcome(parse: (value: unknown) => unknown, value: unknown): number | string {
  try {
    return (parse(value) as Date).getTime();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Date-times of the quick form with fields drawn from just beyond their valid ranges. */
function nearlyValid(random: () => number, count: number): string[] {
  const pick = (values: readonly number[]) => values[Math.floor(random() * values.length)];
  return Array.from({ length: count }, () => {
    const year = pick([1600, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 9999, 0]);
    const month = pick([0, 1, 2, 4, 6, 9, 11, 12, 13]);
    const day = pick([0, 1, 15, 28, 29, 30, 31, 32]);
    const [hour, minute, second] = [pick([0, 12, 23, 24]), pick([0, 59, 60]), pick([0, 59, 60])];
    const fraction = pick([0, 1, 2, 3]) === 0 ? '' : `.${'5'.repeat(pick([1, 3, 9]))}`;
    const time = `${pad(hour)}:${pad(minute)}:${pad(second)}${fraction}`;
    return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${time}Z`;
  });
}

const OTHER_FORMS: unknown[] = [
  '2024-06-01T12:00:00+02:00',
  '2024-06-01T12:00:00.250-05:30',
  '2024-06-01t12:00:00z',
  '2024-06-01T12:00Z',
  '2024-06-01',
  '2024-06-01T12:00:00',
  '2024-06-01T12:00:00.Z',
  ' 2024-06-01T12:00:00Z',
  '2024-06-01T12:00:00Z ',
  '+002024-06-01T12:00:00Z',
  '２０２４-06-01T12:00:00Z',
  '',
  'yesterday',
  1717243200000,
  null,
  true,
  {},
  new Date(Date.UTC(2024, 5, 1)),
  new Date(Number.NaN),
];

describe('DateTimeISO', () => {
  test('parses exactly as graphql-scalars does, quick form or not', () => {
    const values = [...nearlyValid(seededRandom(11), 3000), ...OTHER_FORMS];
    const library = GraphQLDateTimeISO.parseValue.bind(GraphQLDateTimeISO);
    const ours = DateTimeISO.parseValue.bind(DateTimeISO);
    for (const value of values) {
      expect([value, outcome(ours, value)]).toEqual([value, outcome(library, value)]);
    }
  });

  test('takes the quick path for valid UTC date-times, with or without a fraction', () => {
    expect(quickUtc('2024-02-29T23:59:59Z')?.getTime()).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(quickUtc('2024-06-01T12:00:00.250Z')?.getTime()).toBe(
      Date.UTC(2024, 5, 1, 12, 0, 0, 250),
    );
    expect(quickUtc('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(quickUtc('2024-06-01T12:00:00+02:00')).toBeUndefined();
  });

  test('is the same scalar as graphql-scalars in the schema: name, description, output', () => {
    expect(DateTimeISO.name).toBe(GraphQLDateTimeISO.name);
    expect(DateTimeISO.description).toBe(GraphQLDateTimeISO.description);
    const at = new Date(Date.UTC(2024, 5, 1, 12));
    expect(DateTimeISO.serialize(at)).toBe(GraphQLDateTimeISO.serialize(at));
  });
});
