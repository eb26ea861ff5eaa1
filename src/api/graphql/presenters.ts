/**
 * Domain results to GraphQL objects.
 */
import { affinityAt } from '../../domain/affinity';
import type { UserFeatures } from '../../domain/features';
import type { RecommendationList as DomainList } from '../../recommend/recommender';
import type { RecommendedItem } from '../../recommend/served-items';
import { type Item, toItem } from './types/item';
import type { Recommendation, RecommendationList, ScoredItem } from './types/recommendation';
import type { UserFeatureSet } from './types/user';

export function presentList(list: DomainList): RecommendationList {
  return {
    userId: list.userId,
    strategy: list.strategy,
    computedAt: list.computedAt,
    items: list.items.map(presentRecommendation),
    degradedSources: list.degradedSources,
  };
}

/**
 * A recommended item for GraphQL. Its fields are read from the domain item
 * when the query asks for them, so a list shown as ids and titles builds no
 * reasons and no item statistics.
 */
class RecommendationView implements Recommendation {
  private itemView: Item | undefined = undefined;

  constructor(private readonly r: RecommendedItem) {}

  get item(): Item {
    this.itemView ??= toItem(this.r.item);
    return this.itemView;
  }

  get score(): number {
    return this.r.score;
  }

  get reasons(): string[] {
    return this.r.reasons;
  }

  get sources(): string[] {
    return this.r.sources;
  }
}

export function presentRecommendation(r: RecommendedItem): Recommendation {
  return new RecommendationView(r);
}

export function presentScored(r: RecommendedItem): ScoredItem {
  return new RecommendationView(r);
}

export function presentFeatures(f: UserFeatures): UserFeatureSet {
  return {
    events: f.events,
    positives: f.positives,
    negatives: f.negatives,
    firstEventAt: new Date(f.firstAt),
    lastEventAt: new Date(f.lastAt),
    categoryAffinities: f.categories.map((c) => ({
      category: c.category,
      affinity: affinityAt(c, f.lastAt),
      events: c.events,
    })),
    recentInteractions: f.recent.map((r) => ({
      itemId: r.itemId,
      type: r.type,
      value: r.value,
      weight: r.weight,
      occurredAt: new Date(r.at),
    })),
    seenItemCount: f.seen.length,
  };
}
