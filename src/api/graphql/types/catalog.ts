import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';

@InputType({ description: 'A catalogue item. Fields left out keep their stored values.' })
export class ItemInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true, description: 'Up to 500 characters.' })
  title?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Up to 50 categories of up to 100 characters.',
  })
  categories?: string[] | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Free-form JSON, up to 16 KiB.' })
  attributes?: Record<string, unknown> | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Unavailable items are never recommended. Default true.',
  })
  available?: boolean | null;
}

@InputType({ description: 'A user profile.' })
export class UserInput {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Free-form JSON, up to 16 KiB.' })
  attributes?: Record<string, unknown> | null;
}

@ObjectType({ description: 'What an upsert changed.', simpleResolvers: true })
export class UpsertResult {
  @Field(() => Int, { description: 'Entries that did not exist before.' })
  created!: number;

  @Field(() => Int, { description: 'Entries that existed and were updated.' })
  updated!: number;
}
