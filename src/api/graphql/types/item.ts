import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeISO } from './date-time';
import { HALF_LIFE_MS, decayedValue } from '../../../domain/decay';
import type { ItemFeatures } from '../../../domain/features';

@ObjectType({ description: 'Counters and popularity of an item.', simpleResolvers: true })
export class ItemStats {
  @Field(() => Int)
  events!: number;

  @Field(() => Int, { description: 'Events with positive weight (interest).' })
  positives!: number;

  @Field(() => Int, { description: 'Events with negative weight (dislikes, skips, low ratings).' })
  negatives!: number;

  @Field(() => Int)
  ratingCount!: number;

  @Field(() => Float, { nullable: true })
  averageRating!: number | null;

  @Field(() => Float, { description: 'Undecayed sum of positive weights.' })
  popularity!: number;

  @Field(() => Float, {
    description: 'Positive weight decayed with a one-day half-life, as of now.',
  })
  trendingScore!: number;

  @Field(() => DateTimeISO, { nullable: true })
  lastEventAt!: Date | null;
}

@ObjectType({ description: 'A catalogue item with its features.', simpleResolvers: true })
export class Item {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => [String])
  categories!: string[];

  @Field(() => GraphQLJSONObject)
  attributes!: Record<string, unknown>;

  @Field(() => Boolean, {
    description: 'False for unavailable items and for items the catalogue does not know.',
  })
  available!: boolean;

  @Field(() => Boolean, {
    description: 'False when events name the item but the catalogue has no entry.',
  })
  inCatalogue!: boolean;

  @Field(() => ItemStats)
  stats!: ItemStats;
}

/**
 * An item record as a GraphQL Item. Its statistics, which most queries do
 * not ask for, are worked out when first read, as of when the view was made.
 */
class ItemView implements Item {
  private statsView: ItemStats | undefined = undefined;

  constructor(
    private readonly record: ItemFeatures,
    private readonly now: number,
  ) {}

  get id(): string {
    return this.record.itemId;
  }

  get title(): string {
    return this.record.title;
  }

  get categories(): string[] {
    return this.record.categories;
  }

  get attributes(): Record<string, unknown> {
    return this.record.attributes;
  }

  get available(): boolean {
    return this.record.available;
  }

  get inCatalogue(): boolean {
    return this.record.known;
  }

  get stats(): ItemStats {
    this.statsView ??= statsOf(this.record, this.now);
    return this.statsView;
  }
}

export function toItem(record: ItemFeatures, now = Date.now()): Item {
  return new ItemView(record, now);
}

function statsOf(record: ItemFeatures, now: number): ItemStats {
  return {
    events: record.events,
    positives: record.positives,
    negatives: record.negatives,
    ratingCount: record.ratingCount,
    averageRating: record.ratingCount > 0 ? record.ratingSum / record.ratingCount : null,
    popularity: record.popAll,
    trendingScore: decayedValue(record.logDay, now, HALF_LIFE_MS.day),
    lastEventAt: record.lastAt === null ? null : new Date(record.lastAt),
  };
}
