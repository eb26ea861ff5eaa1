/**
 * Catalogue use cases: validate, store durably, then refresh the hot copy
 * so availability changes reach recommendations at once.
 */
import type { HotCopyWriter } from '../pipeline/hot-copy';
import { orUnavailable } from '../storage/unavailable';
import type { CatalogRepository, UpsertCounts } from '../storage/postgres/catalog-repository';
import type { FeatureRepository } from '../storage/postgres/feature-repository';
import { type ItemUpsert, type UserUpsert, validateItems, validateUsers } from './validation';

export class CatalogService {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly features: FeatureRepository,
    private readonly hotCopy: HotCopyWriter,
  ) {}

  async upsertItems(inputs: readonly ItemUpsert[]): Promise<UpsertCounts> {
    const items = validateItems(inputs);
    const counts = await orUnavailable('the catalogue', () => this.catalog.upsertItems(items));
    const records = await orUnavailable('the catalogue', () =>
      this.features.loadItems(items.map((i) => i.id)),
    );
    // A failed write stays queued and is retried; readers check availability per item.
    await this.hotCopy.write({
      users: [],
      items: [...records.values()],
      pairs: [],
      interactions: [],
    });
    return counts;
  }

  upsertUsers(inputs: readonly UserUpsert[]): Promise<UpsertCounts> {
    const users = validateUsers(inputs);
    return orUnavailable('the catalogue', () => this.catalog.upsertUsers(users));
  }
}
