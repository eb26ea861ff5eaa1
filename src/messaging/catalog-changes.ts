/**
 * "Items changed" notices (core NATS), so that every gateway drops what it
 * cached of those items at once instead of serving it until it expires.
 * The notice carries the item ids; losing one costs at most the cache
 * period (RECFLOW_ITEM_CACHE, RECFLOW_POPULAR_CACHE).
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../observability/logger';
import { Subjects } from './subjects';

export class CatalogChanges {
  private readonly subject: string;
  private subscription?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    subjectPrefix: string,
    private readonly log: Logger,
  ) {
    this.subject = new Subjects(subjectPrefix).catalogItems;
  }

  /** Tells every gateway these items changed. Never throws: a lost notice only delays. */
  announce(itemIds: readonly string[]): void {
    if (itemIds.length === 0) return;
    try {
      this.nc.publish(this.subject, JSON.stringify(itemIds));
    } catch (error) {
      this.log.warn({ err: error }, 'could not announce a catalogue change');
    }
  }

  /** Calls `listener` with the ids of every announced change. */
  listen(listener: (itemIds: string[]) => void): void {
    this.subscription = this.nc.subscribe(this.subject, {
      callback: (error, message) => {
        if (error) return this.log.warn({ err: error }, 'catalogue notice subscription failed');
        try {
          const ids: unknown = message.json();
          if (Array.isArray(ids)) listener(ids.filter((id) => typeof id === 'string'));
        } catch (parseError) {
          this.log.warn({ err: parseError }, 'ignoring a malformed catalogue notice');
        }
      },
    });
  }

  close(): void {
    this.subscription?.unsubscribe();
  }
}
