import { execute, parse } from 'graphql';
import { recflowSchema } from '../../../../src/api/graphql/schema';
import { EventInput } from '../../../../src/api/graphql/types/event';
import type { EventInput as DomainEventInput } from '../../../../src/domain/events';

const RECORD_EVENTS = parse(`mutation ($inputs: [EventInput!]!) {
  recordEvents(inputs: $inputs) { eventId status sequence }
}`);
const RECORD_EVENT = parse(`mutation ($input: EventInput!) {
  recordEvent(input: $input) { eventId status sequence }
}`);

/** An ingest service that keeps what it was given and answers in order. */
function fakeIngest() {
  const calls: Array<{ inputs: readonly DomainEventInput[]; field: string }> = [];
  const ingest = {
    async record(inputs: readonly DomainEventInput[], field: string) {
      calls.push({ inputs, field });
      return inputs.map((e, i) => ({
        eventId: e.eventId,
        answer: i === 1 ? 'DUPLICATE' : 'ACCEPTED',
        sequence: 100 + i,
      }));
    },
  };
  return { calls, contextValue: { services: { ingest } } };
}

const EVENTS = [
  { eventId: 'e-1', userId: 'u-1', itemId: 'i-1', type: 'VIEW' },
  { eventId: 'e-2', userId: 'u-1', itemId: 'i-2', type: 'RATE', value: 4.5 },
  {
    eventId: 'e-3',
    userId: 'u-2',
    itemId: 'i-1',
    type: 'LIKE',
    occurredAt: '2024-06-01T12:00:00Z',
  },
];

describe('the event mutations', () => {
  test('recordEvents answers every event in input order', async () => {
    const { calls, contextValue } = fakeIngest();
    const schema = await recflowSchema();
    const result = await execute({
      schema,
      document: RECORD_EVENTS,
      variableValues: { inputs: EVENTS },
      contextValue,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.recordEvents).toEqual([
      { eventId: 'e-1', status: 'ACCEPTED', sequence: 100 },
      { eventId: 'e-2', status: 'DUPLICATE', sequence: 101 },
      { eventId: 'e-3', status: 'ACCEPTED', sequence: 102 },
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0].field).toBe('inputs');
  });

  test('pass the coerced inputs to the ingest service as they are, not as classes', async () => {
    const { calls, contextValue } = fakeIngest();
    const schema = await recflowSchema();
    await execute({
      schema,
      document: RECORD_EVENTS,
      variableValues: { inputs: EVENTS },
      contextValue,
    });
    await execute({
      schema,
      document: RECORD_EVENT,
      variableValues: { input: EVENTS[2] },
      contextValue,
    });
    const [many, one] = calls;
    expect(many.inputs.some((e) => e instanceof EventInput)).toBe(false);
    expect(many.inputs[1]).toEqual({ ...EVENTS[1] });
    expect(one.field).toBe('input');
    expect(one.inputs[0].occurredAt).toEqual(new Date('2024-06-01T12:00:00Z'));
  });
});
