import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISO } from './date-time';
import type { Strategy } from '../../../recommend/recommender';
import { StrategyEnum } from './enums';
import { Item } from './item';

@InputType({ description: 'Business rules applied after blending.' })
export class RecommendationFilter {
  @Field(() => [String], {
    nullable: true,
    description: 'Keep only items in at least one of these.',
  })
  includeCategories?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Drop items in any of these.' })
  excludeCategories?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Never return these items.' })
  excludeItemIds?: string[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Also return items the user already interacted with positively. Default false.',
  })
  includeSeen?: boolean | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Diversity: at most this many items per category.',
  })
  maxPerCategory?: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'Diversity: maximal-marginal-relevance re-rank, from 1 (the blended order) ' +
      'towards 0 (more varied; items unlike those already picked move up).',
  })
  mmrLambda?: number | null;
}

@ObjectType({
  description: 'One recommended item, its score and why it was picked.',
  simpleResolvers: true,
})
export class Recommendation {
  @Field(() => Item)
  item!: Item;

  @Field(() => Float, {
    description: 'Blended score; higher is better. Comparable within one list.',
  })
  score!: number;

  @Field(() => [String], { description: 'Human-readable reasons, strongest first.' })
  reasons!: string[];

  @Field(() => [String], { description: 'Candidate sources that contributed, strongest first.' })
  sources!: string[];
}

@ObjectType({ description: 'A ranked list for one user.', simpleResolvers: true })
export class RecommendationList {
  @Field(() => ID)
  userId!: string;

  @Field(() => StrategyEnum)
  strategy!: Strategy;

  @Field(() => DateTimeISO)
  computedAt!: Date;

  @Field(() => [Recommendation])
  items!: Recommendation[];

  @Field(() => [String], { description: 'Candidate sources that failed and were skipped.' })
  degradedSources!: string[];
}

@ObjectType({ description: 'An item in a popularity or similarity list.', simpleResolvers: true })
export class ScoredItem {
  @Field(() => Item)
  item!: Item;

  @Field(() => Float)
  score!: number;

  @Field(() => [String])
  reasons!: string[];
}
