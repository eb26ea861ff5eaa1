import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISO } from './date-time';
import type { EventType } from '../../../domain/events';
import { EventTypeEnum } from './enums';
import { Item } from './item';

@ObjectType({ description: 'How much the user leans towards a category.', simpleResolvers: true })
export class CategoryAffinity {
  @Field(() => String)
  category!: string;

  @Field(() => Float, {
    description:
      "Recency-weighted net interest (30-day half-life) as of the user's last event; " +
      'negative means aversion. Comparable within one user.',
  })
  affinity!: number;

  @Field(() => Int)
  events!: number;
}

@ObjectType({ description: "One of the user's latest interactions.", simpleResolvers: true })
export class RecentInteraction {
  @Field(() => ID)
  itemId!: string;

  @Field(() => Item, { nullable: true, description: 'Resolved in one batch for all interactions.' })
  item?: Item | null;

  @Field(() => EventTypeEnum)
  type!: EventType;

  @Field(() => Number, { nullable: true })
  value!: number | null;

  @Field(() => Float, { description: 'Implicit-feedback weight; positive means interest.' })
  weight!: number;

  @Field(() => DateTimeISO)
  occurredAt!: Date;
}

@ObjectType({ description: 'Features the pipeline keeps for a user.', simpleResolvers: true })
export class UserFeatureSet {
  @Field(() => Int)
  events!: number;

  @Field(() => Int)
  positives!: number;

  @Field(() => Int)
  negatives!: number;

  @Field(() => DateTimeISO)
  firstEventAt!: Date;

  @Field(() => DateTimeISO)
  lastEventAt!: Date;

  @Field(() => [CategoryAffinity], { description: 'Strongest first.' })
  categoryAffinities!: CategoryAffinity[];

  @Field(() => [RecentInteraction], { description: 'Newest first, up to 20.' })
  recentInteractions!: RecentInteraction[];

  @Field(() => Int, {
    description: 'Items the user interacted with; left out of recommendations by default.',
  })
  seenItemCount!: number;
}

@ObjectType({ description: 'A user: profile and features.', simpleResolvers: true })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLJSONObject, { description: 'From upsertUsers; empty when none was given.' })
  attributes!: Record<string, unknown>;

  @Field(() => UserFeatureSet, {
    nullable: true,
    description: "Null until the user's first event is processed.",
  })
  features!: UserFeatureSet | null;
}
