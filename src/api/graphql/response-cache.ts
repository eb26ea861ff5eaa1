/**
 * Answers kept per user for a short time, and dropped the moment that
 * user's features change.
 *
 * An answer lives for one lifetime (`ttlMs`) at most. A gateway drops a
 * user's answers when the pipeline says the user's features changed
 * (`forgetUser`), and all of them when every list may change (`clear`: a
 * new model, a catalogue change, a lost NATS connection). So once a
 * user's notice has arrived, no answer older than that change is served
 * for them; and what other users did (popular lists, neighbours, item
 * statistics) shows up at most one lifetime later than without the cache.
 *
 * A computation that began before a change must not store what it read
 * before it: each begins with a ticket holding the user's generation, and
 * its answer is kept only if the generation has not moved since. Users are
 * kept while they have answers or computations in flight, so a generation
 * is never lost under a computation that holds it.
 *
 * Entries are kept oldest first in one list (WriteOrder), and leave it the
 * moment they are dropped or replaced, so it holds exactly the answers
 * served. All share one lifetime, so the oldest is also the first to
 * expire, and it is the one pushed out when the cache holds `maxEntries`.
 */
import { type Linked, WriteOrder } from '../../storage/write-order';

export interface ResponseCacheOptions {
  /** How long an answer is served; 0 keeps nothing. */
  ttlMs: number;
  /** Answers held at most, across all users. */
  maxEntries: number;
  /** Milliseconds, for tests; `Date.now` by default. */
  now?: () => number;
}

/** A computation for one user, from `begin` to `finish`. */
export interface Ticket {
  readonly user: UserAnswers<unknown>;
  readonly generation: number;
}

interface Entry<V> extends Linked<Entry<V>> {
  readonly user: UserAnswers<V>;
  readonly key: string;
  readonly expiresAt: number;
  readonly value: V;
}

/** One user's answers, by operation key. */
class UserAnswers<V> {
  readonly entries = new Map<string, Entry<V>>();
  /** Moves on every change of the user's features. */
  generation = 0;
  /** Computations begun and not finished. */
  inFlight = 0;

  constructor(readonly userId: string) {}
}

export class ResponseCache<V> {
  private readonly users = new Map<string, UserAnswers<V>>();
  /** Every entry held, from the oldest to the newest. */
  private readonly order = new WriteOrder<Entry<V>>();
  private readonly now: () => number;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  /** Answers held now (expired ones until they are swept). */
  get size(): number {
    return this.order.size;
  }

  /** The answer kept for `userId` under `key`, if it has not expired. */
  get(userId: string, key: string): V | undefined {
    const entry = this.users.get(userId)?.entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.now()) return undefined;
    return entry.value;
  }

  /** Starts a computation for `userId`; every ticket must be finished. */
  begin(userId: string): Ticket {
    let user = this.users.get(userId);
    if (user === undefined) {
      user = new UserAnswers<V>(userId);
      this.users.set(userId, user);
    }
    user.inFlight += 1;
    return { user, generation: user.generation };
  }

  /**
   * Ends a computation. Its answer (`value`; undefined for none) is kept
   * unless the user's features changed while it ran.
   */
  finish(ticket: Ticket, key: string, value: V | undefined): void {
    const user = ticket.user as UserAnswers<V>;
    user.inFlight -= 1;
    const current = this.users.get(user.userId) === user;
    if (value !== undefined && current && ticket.generation === user.generation && this.enabled) {
      const expiresAt = this.now() + this.options.ttlMs;
      const entry: Entry<V> = { user, key, expiresAt, value, older: undefined, newer: undefined };
      const replaced = user.entries.get(key);
      if (replaced !== undefined) this.order.remove(replaced);
      user.entries.set(key, entry);
      this.order.append(entry);
    }
    this.sweep();
    this.release(user);
  }

  /** The user's features changed: drop their answers and refuse those in flight. */
  forgetUser(userId: string): void {
    const user = this.users.get(userId);
    if (user === undefined) return;
    user.generation += 1;
    for (const entry of user.entries.values()) this.order.remove(entry);
    user.entries.clear();
    this.release(user);
  }

  /** Every list may have changed: drop every answer and refuse those in flight. */
  clear(): void {
    for (const user of [...this.users.values()]) {
      user.generation += 1;
      user.entries.clear();
      this.release(user);
    }
    this.order.clear();
  }

  /** Drops expired entries, then the oldest while over the limit. */
  private sweep(): void {
    const now = this.now();
    for (let entry = this.order.oldest; entry !== undefined; entry = this.order.oldest) {
      if (entry.expiresAt > now && this.order.size <= this.options.maxEntries) break;
      this.order.remove(entry);
      entry.user.entries.delete(entry.key);
      this.release(entry.user);
    }
  }

  /** Lets a user go once nothing holds it. */
  private release(user: UserAnswers<V>): void {
    if (user.entries.size === 0 && user.inFlight === 0 && this.users.get(user.userId) === user) {
      this.users.delete(user.userId);
    }
  }
}
