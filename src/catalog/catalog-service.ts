/**
 * Catalogue use cases: validate, store durably, then refresh the hot copy
 * so availability changes reach recommendations at once.
 */
import type { HotCopyWriter } from '../pipeline/hot-copy';
import type { HotStore } from '../storage/redis/hot-store';
import { orUnavailable } from '../storage/unavailable';
import type { CatalogRepository, UpsertCounts } from '../storage/postgres/catalog-repository';
import { type ItemUpsert, type UserUpsert, validateItems, validateUsers } from './validation';

export class CatalogService {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly hotCopy: HotCopyWriter,
    private readonly hot: HotStore,
    /** Told the ids of items that changed, after the change is stored. */
    private readonly onItemsChanged: (itemIds: string[]) => void = () => undefined,
  ) {}

  async upsertItems(inputs: readonly ItemUpsert[]): Promise<UpsertCounts> {
    const items = validateItems(inputs);
    const { created, updated, records, previousCategories } = await orUnavailable(
      'the catalogue',
      () => this.catalog.upsertItems(items),
    );
    const moves = records.flatMap((item) => {
      const left = (previousCategories.get(item.itemId) ?? []).filter(
        (c) => !item.categories.includes(c),
      );
      return left.length > 0 ? [{ itemId: item.itemId, left }] : [];
    });
    if (moves.length > 0) {
      // Best effort: if Redis cannot take it now, the item stays listed under its
      // old category (showing its new ones) until Redis is restarted.
      await this.hot.leaveCategories(moves).catch(() => undefined);
    }
    // A failed write stays queued and is retried; readers check availability per item.
    await this.hotCopy.write({ users: [], items: records, pairs: [], interactions: [] });
    this.onItemsChanged(items.map((i) => i.id));
    return { created, updated };
  }

  upsertUsers(inputs: readonly UserUpsert[]): Promise<UpsertCounts> {
    const users = validateUsers(inputs);
    return orUnavailable('the catalogue', () => this.catalog.upsertUsers(users));
  }
}
