import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../context';
import { ItemInput, UpsertResult, UserInput } from '../types/catalog';

@Resolver()
export class CatalogResolver {
  @Mutation(() => UpsertResult, { description: 'Creates or updates up to 1,000 items.' })
  upsertItems(
    @Arg('inputs', () => [ItemInput]) inputs: ItemInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<UpsertResult> {
    return ctx.services.catalog.upsertItems(inputs);
  }

  @Mutation(() => UpsertResult, { description: 'Creates or updates up to 1,000 user profiles.' })
  upsertUsers(
    @Arg('inputs', () => [UserInput]) inputs: UserInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<UpsertResult> {
    return ctx.services.catalog.upsertUsers(inputs);
  }
}
