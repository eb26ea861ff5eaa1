import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import { checkId } from '../limits';
import { presentFeatures } from '../presenters';
import { Item, toItem } from '../types/item';
import { RecentInteraction, User, UserFeatureSet } from '../types/user';

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, {
    nullable: true,
    description: 'A user, or null if recflow has neither profile nor events.',
  })
  async user(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<User | null> {
    checkId(id, 'id');
    const [profile, features] = await Promise.all([
      ctx.profiles.load(id),
      ctx.loaders.users.load(id),
    ]);
    if (!profile && !features) return null;
    return { id, attributes: profile?.attributes ?? {}, features: null };
  }

  @FieldResolver(() => UserFeatureSet, { nullable: true })
  async features(@Root() user: User, @Ctx() ctx: RequestContext): Promise<UserFeatureSet | null> {
    const features = await ctx.loaders.users.load(user.id);
    return features ? presentFeatures(features) : null;
  }
}

@Resolver(() => RecentInteraction)
export class RecentInteractionResolver {
  @FieldResolver(() => Item, { nullable: true })
  async item(
    @Root() interaction: RecentInteraction,
    @Ctx() ctx: RequestContext,
  ): Promise<Item | null> {
    const record = await ctx.loaders.items.load(interaction.itemId);
    return record ? toItem(record) : null;
  }
}

@Resolver(() => Item)
export class ItemResolver {
  @Query(() => Item, {
    nullable: true,
    description: 'An item, or null if recflow has never heard of it.',
  })
  async item(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Item | null> {
    checkId(id, 'id');
    const record = await ctx.loaders.items.load(id);
    return record ? toItem(record) : null;
  }
}
