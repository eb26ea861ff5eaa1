import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { EventInput as DomainEventInput } from '../../../domain/events';
import type { RequestContext } from '../context';
import { EventInput, EventResult } from '../types/event';

/**
 * The event mutations. The class declares them for the schema; at run time
 * graphql-js calls EVENT_MUTATIONS below instead (schema.ts installs them).
 * Through type-graphql, every event of a call would first be copied into an
 * EventInput instance, field by field: about 1 µs of CPU per event, some 6 %
 * of the gateway's, for nothing, since IngestService reads plain fields and
 * validates them itself.
 */
@Resolver()
export class EventResolver {
  @Mutation(() => EventResult, {
    description: 'Records one event. Answers only after JetStream has stored it.',
  })
  recordEvent(
    @Arg('input', () => EventInput) input: EventInput,
    @Ctx() ctx: RequestContext,
  ): Promise<EventResult> {
    return recordEvent(input, ctx);
  }

  @Mutation(() => [EventResult], {
    description:
      'Records up to 1,000 events (RECFLOW_MAX_EVENT_BATCH). All are validated first: one bad ' +
      'event rejects the call and records nothing. Answers in input order.',
  })
  recordEvents(
    @Arg('inputs', () => [EventInput]) inputs: EventInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<EventResult[]> {
    return recordEvents(inputs, ctx);
  }
}

/** Resolvers for the Mutation fields above, taking graphql-js's coerced arguments as they are. */
export const EVENT_MUTATIONS = {
  recordEvent: (_root: unknown, args: { input: DomainEventInput }, ctx: RequestContext) =>
    recordEvent(args.input, ctx),
  recordEvents: (_root: unknown, args: { inputs: DomainEventInput[] }, ctx: RequestContext) =>
    recordEvents(args.inputs, ctx),
};

async function recordEvent(input: DomainEventInput, ctx: RequestContext): Promise<EventResult> {
  const [published] = await ctx.services.ingest.record([input], 'input', ctx.requestId);
  return { eventId: published.eventId, status: published.answer, sequence: published.sequence };
}

async function recordEvents(
  inputs: readonly DomainEventInput[],
  ctx: RequestContext,
): Promise<EventResult[]> {
  const published = await ctx.services.ingest.record(inputs, 'inputs', ctx.requestId);
  return published.map((p) => ({ eventId: p.eventId, status: p.answer, sequence: p.sequence }));
}
