/**
 * "Features changed" notices, received per user.
 *
 * A gateway listens on a user's subject only while that user has a live
 * subscription on it, and shares one NATS subscription among all local
 * subscribers of the user (reference-counted). Notices travel over NATS, so
 * a change applied by any worker reaches every gateway.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../observability/logger';
import { Subjects } from './subjects';

type Listener = () => void;

export class FeatureChangeHub {
  private readonly subjects: Subjects;
  private readonly watched = new Map<string, { sub: Subscription; listeners: Set<Listener> }>();

  constructor(
    private readonly nc: NatsConnection,
    subjectPrefix: string,
    private readonly log: Logger,
  ) {
    this.subjects = new Subjects(subjectPrefix);
  }

  /** Number of users watched by this gateway. */
  get users(): number {
    return this.watched.size;
  }

  /** Calls `listener` on every change of `userId`'s features; returns the unwatch function. */
  watch(userId: string, listener: Listener): () => void {
    let entry = this.watched.get(userId);
    if (!entry) {
      const listeners = new Set<Listener>();
      const sub = this.nc.subscribe(this.subjects.userFeatures(userId), {
        callback: (error) => {
          if (error) {
            this.log.warn({ err: error }, 'feature notice subscription failed');
            return;
          }
          for (const l of listeners) l();
        },
      });
      entry = { sub, listeners };
      this.watched.set(userId, entry);
    }
    entry.listeners.add(listener);
    const current = entry;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.watched.get(userId) === current) {
        this.watched.delete(userId);
        current.sub.unsubscribe();
      }
    };
  }

  close(): void {
    for (const { sub } of this.watched.values()) sub.unsubscribe();
    this.watched.clear();
  }
}
