import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISO } from './date-time';
import type { EventType } from '../../../domain/events';
import { EventAnswerEnum, EventTypeEnum } from './enums';

@InputType({ description: 'One user event. `eventId` makes recording it idempotent.' })
export class EventInput {
  @Field(() => ID, { description: 'Idempotency key, 1-128 characters, unique per event.' })
  eventId!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => ID)
  itemId!: string;

  @Field(() => EventTypeEnum)
  type!: EventType;

  @Field(() => Number, {
    nullable: true,
    description:
      'Rating for RATE (0 to the rating maximum, 5 by default) ' +
      'or quantity for PURCHASE and ADD_TO_CART.',
  })
  value?: number | null;

  @Field(() => DateTimeISO, {
    nullable: true,
    description: 'When it happened; defaults to the server time. At most 5 minutes in the future.',
  })
  occurredAt?: Date | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'A small JSON object, up to 2 KiB.',
  })
  context?: Record<string, unknown> | null;
}

@ObjectType({ description: 'The answer for one recorded event.', simpleResolvers: true })
export class EventResult {
  @Field(() => ID)
  eventId!: string;

  @Field(() => EventAnswerEnum)
  status!: 'ACCEPTED' | 'DUPLICATE';

  @Field(() => Int, { description: 'Position of the event in the stream.' })
  sequence!: number;
}
