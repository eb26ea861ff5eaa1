/**
 * "Features changed" notices, received per user.
 *
 * A gateway listens on a user's subject only while that user has a live
 * subscription on it, and shares one NATS subscription among all local
 * subscribers of the user (reference-counted). Notices travel over NATS, so
 * a change applied by any worker reaches every gateway. The response cache
 * listens to every user's notices instead (`watchAll`).
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../observability/logger';
import { Subjects, userFromToken } from './subjects';

type Listener = () => void;

export class FeatureChangeHub {
  private readonly subjects: Subjects;
  private readonly watched = new Map<string, { sub: Subscription; listeners: Set<Listener> }>();
  private readonly everyone: Subscription[] = [];

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

  /**
   * Calls `listener` with the user of every change, whoever it is: one
   * subscription on every user's subject (each gateway then receives every
   * notice the workers send). Returns the unwatch function.
   */
  watchAll(listener: (userId: string) => void): () => void {
    const start = this.subjects.allUserFeatures.length - 1;
    const sub = this.nc.subscribe(this.subjects.allUserFeatures, {
      callback: (error, message) => {
        if (error) {
          this.log.warn({ err: error }, 'feature notice subscription failed');
          return;
        }
        listener(userFromToken(message.subject.slice(start)));
      },
    });
    this.everyone.push(sub);
    return () => sub.unsubscribe();
  }

  close(): void {
    for (const { sub } of this.watched.values()) sub.unsubscribe();
    this.watched.clear();
    for (const sub of this.everyone) sub.unsubscribe();
    this.everyone.length = 0;
  }
}
