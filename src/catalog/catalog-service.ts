/**
 * Catalogue use cases: validate, store durably, then refresh the hot copy
 * so availability changes reach recommendations at once.
 */
import type { HotCopyWriter } from '../pipeline/hot-copy';
import { ErrorCode, RecflowError } from '../domain/errors';
import { ConcurrencyLimit, SlotTimeout } from '../resilience/concurrency-limit';
import { orUnavailable } from '../storage/unavailable';
import type { CatalogRepository, UpsertCounts } from '../storage/postgres/catalog-repository';
import { type ItemUpsert, type UserUpsert, validateItems, validateUsers } from './validation';

export interface CatalogServiceOptions {
  /** Told the ids of items that changed, after the change is stored. */
  onItemsChanged?: (itemIds: string[]) => void;
  /**
   * Item upserts run at once (default 2). Each holds a database connection
   * while it waits for its item locks, so the rest of the pool stays free
   * for reads and readiness. The others queue for up to `queueWaitMs`
   * (default 5 s), then answer SERVICE_UNAVAILABLE.
   */
  concurrentWrites?: number;
  queueWaitMs?: number;
}

export class CatalogService {
  private readonly onItemsChanged: (itemIds: string[]) => void;
  private readonly writes: ConcurrencyLimit;
  private readonly queueWaitMs: number;

  constructor(
    private readonly catalog: CatalogRepository,
    private readonly hotCopy: HotCopyWriter,
    options: CatalogServiceOptions = {},
  ) {
    this.onItemsChanged = options.onItemsChanged ?? (() => undefined);
    this.writes = new ConcurrencyLimit(options.concurrentWrites ?? 2);
    this.queueWaitMs = options.queueWaitMs ?? 5000;
  }

  async upsertItems(inputs: readonly ItemUpsert[]): Promise<UpsertCounts> {
    const items = validateItems(inputs);
    const { created, updated, records, previousCategories } = await this.writes
      .run(
        () => orUnavailable('the catalogue', () => this.catalog.upsertItems(items)),
        this.queueWaitMs,
      )
      .catch((error: unknown) => {
        if (!(error instanceof SlotTimeout)) throw error;
        throw new RecflowError(
          ErrorCode.SERVICE_UNAVAILABLE,
          'the catalogue is busy with other item writes; retry later',
          {},
          { cause: error },
        );
      });
    // The records, with the categories each item left: Redis takes an item
    // out of a left category's sets in the same script that writes its
    // record, unless the newest record there names the category again (two
    // moves, or a move and a pipeline write, can reach Redis in either
    // order). A failed write stays queued and is retried with what it left.
    const left = new Map<string, string[]>();
    for (const item of records) {
      const gone = (previousCategories.get(item.itemId) ?? []).filter(
        (c) => !item.categories.includes(c),
      );
      if (gone.length > 0) left.set(item.itemId, gone);
    }
    await this.hotCopy.write({ users: [], items: records, pairs: [], interactions: [], left });
    this.onItemsChanged(items.map((i) => i.id));
    return { created, updated };
  }

  upsertUsers(inputs: readonly UserUpsert[]): Promise<UpsertCounts> {
    const users = validateUsers(inputs);
    return orUnavailable('the catalogue', () => this.catalog.upsertUsers(users));
  }
}
