import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { PopularityWindow } from '../../../domain/features';
import type { RequestContext } from '../context';
import { checkCategory, checkFilter, checkId, checkLimit } from '../limits';
import { presentList, presentScored } from '../presenters';
import { PopularityWindowEnum } from '../types/enums';
import { RecommendationFilter, RecommendationList, ScoredItem } from '../types/recommendation';

@Resolver()
export class RecommendationResolver {
  @Query(() => RecommendationList, {
    description:
      'Ranked items for a user, with reasons. Unknown users get popular and trending items. ' +
      'Items the user already liked are left out unless filter.includeSeen is true.',
  })
  async recommendations(
    @Arg('userId', () => ID) userId: string,
    @Arg('limit', () => Int, { defaultValue: 10 }) limit: number,
    @Arg('filter', () => RecommendationFilter, { nullable: true })
    filter: RecommendationFilter | null,
    @Ctx() ctx: RequestContext,
  ): Promise<RecommendationList> {
    checkId(userId, 'userId');
    checkLimit(limit, ctx.services.maxLimit);
    checkFilter(filter);
    const list = await ctx.services.recommender.recommend(ctx.loaders, userId, limit, filter ?? {});
    // A fallback answer is not kept: the next request tries every source again.
    if (list.degradedSources.length > 0) ctx.degraded = true;
    return presentList(list);
  }

  @Query(() => [ScoredItem], { description: 'Items often liked together with this one.' })
  async similarItems(
    @Arg('itemId', () => ID) itemId: string,
    @Arg('limit', () => Int, { defaultValue: 10 }) limit: number,
    @Ctx() ctx: RequestContext,
  ): Promise<ScoredItem[]> {
    checkId(itemId, 'itemId');
    checkLimit(limit, ctx.services.maxLimit);
    return (await ctx.services.recommender.similar(ctx.loaders, itemId, limit)).map(presentScored);
  }

  @Query(() => [ScoredItem], { description: 'Most popular available items over a time window.' })
  async popularItems(
    @Arg('limit', () => Int, { defaultValue: 10 }) limit: number,
    @Arg('category', () => String, { nullable: true }) category: string | null,
    @Arg('window', () => PopularityWindowEnum, { defaultValue: 'WEEK' }) window: PopularityWindow,
    @Ctx() ctx: RequestContext,
  ): Promise<ScoredItem[]> {
    checkLimit(limit, ctx.services.maxLimit);
    if (category != null) checkCategory(category, 'category');
    const list = await ctx.services.recommender.popular(
      ctx.loaders,
      window,
      category ?? null,
      limit,
    );
    return list.map(presentScored);
  }

  @Subscription(() => RecommendationList, {
    description:
      "The user's recommendations now, then a fresh list each time the user's features change. " +
      'Bursts of changes are coalesced into one push.',
    subscribe: ({ args, context }) => {
      const ctx = context as RequestContext;
      checkId(args.userId as string, 'userId');
      checkLimit(args.limit as number, ctx.services.maxLimit);
      checkFilter(args.filter);
      return ctx.services.streams.open(args.userId, args.limit, args.filter ?? {});
    },
  })
  recommendationsUpdated(
    @Root() list: RecommendationList,
    @Arg('userId', () => ID) _userId: string,
    @Arg('limit', () => Int, { defaultValue: 10 }) _limit: number,
    @Arg('filter', () => RecommendationFilter, { nullable: true })
    _filter: RecommendationFilter | null,
  ): RecommendationList {
    return list;
  }
}
