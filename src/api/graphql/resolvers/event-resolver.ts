import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../context';
import { EventInput, EventResult } from '../types/event';

@Resolver()
export class EventResolver {
  @Mutation(() => EventResult, {
    description: 'Records one event. Answers only after JetStream has stored it.',
  })
  async recordEvent(
    @Arg('input', () => EventInput) input: EventInput,
    @Ctx() ctx: RequestContext,
  ): Promise<EventResult> {
    const [published] = await ctx.services.ingest.record([input], 'input');
    return { eventId: published.eventId, status: published.answer, sequence: published.sequence };
  }

  @Mutation(() => [EventResult], {
    description:
      'Records up to 1,000 events (RECFLOW_MAX_EVENT_BATCH). All are validated first: one bad ' +
      'event rejects the call and records nothing. Answers in input order.',
  })
  async recordEvents(
    @Arg('inputs', () => [EventInput]) inputs: EventInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<EventResult[]> {
    const published = await ctx.services.ingest.record(inputs, 'inputs');
    return published.map((p) => ({ eventId: p.eventId, status: p.answer, sequence: p.sequence }));
  }
}
