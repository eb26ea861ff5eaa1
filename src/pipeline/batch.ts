/**
 * Applying one batch of pulled messages to the features, exactly once:
 * (1) messages that do not decode or validate go to the dead-letter stream;
 * (2) the rest are applied in one PostgreSQL transaction that also records
 * their ids, so a redelivered event is recognised and changes nothing;
 * (3) the Redis hot copy is refreshed with the values read back; (4) a
 * "features changed" notice goes out per affected user; and only then (5)
 * the messages are acked. A crash anywhere before the ack redelivers the
 * batch.
 *
 * Steps 3-5 (the batch's tail) need only the committed result, so they run
 * while the lane's next transaction does; a lane's tails run in batch order.
 * A batch that keeps failing is retried in place when a store is down, and
 * otherwise taken apart, one event at a time, to find the poison event.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/config';
import { validateEvent } from '../domain/events';
import { eventWeight } from '../domain/weights';
import { decodeEvent } from '../ingestion/codec';
import { Subjects } from '../messaging/subjects';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type {
  AppliedBatch,
  FeatureRepository,
  StoredEvent,
} from '../storage/postgres/feature-repository';
import { DeadLetters, tracing } from './dead-letters';
import type { HotCopyWriter } from './hot-copy';
import { backoffMs, isTransient, sleep } from './retry';

/** A message with its decoded event. */
interface Decoded {
  msg: JsMsg;
  event: StoredEvent;
}

/** A fetched message: decoded, or with the reason it cannot be. */
export type Received = Decoded | { msg: JsMsg; reason: string };

/** In-process tries of a whole batch before its messages are handled one by one. */
const BATCH_ATTEMPTS = 3;

export interface BatchDeps {
  nc: NatsConnection;
  config: Config;
  repository: FeatureRepository;
  hotCopy: HotCopyWriter;
  log: Logger;
  metrics: Metrics;
  /** Test-only fault injection, see README "Testing". Ignored in production. */
  failpoint?: string;
  /** Told that a batch failed and will be tried again (true), or that one went through (false). */
  onRetrying: (retrying: boolean) => void;
}

/** The tail (steps 3-5) of a lane's last committed batch, still running. */
export interface Tail {
  finishing: Promise<void>;
}

export class BatchApplier {
  private readonly subjects: Subjects;
  private readonly deadLetters: DeadLetters;
  /** Events acked after being applied or found duplicate. */
  private handled = 0;

  constructor(private readonly deps: BatchDeps) {
    this.subjects = new Subjects(deps.config.nats.subjectPrefix);
    this.deadLetters = new DeadLetters(deps.nc, this.subjects.deadLetters, deps.metrics, deps.log);
  }

  /** Events acked so far, applied or found duplicate. */
  get processed(): number {
    return this.handled;
  }

  /** Messages moved to the dead-letter stream so far. */
  get deadLettered(): number {
    return this.deadLetters.count;
  }

  /** Decodes and re-validates a message: the event, or why it is invalid. */
  decode(msg: JsMsg): Received {
    const { config } = this.deps;
    try {
      const raw = decodeEvent(msg.data) as Parameters<typeof validateEvent>[0];
      const interaction = validateEvent(raw, Date.now(), config.events.limits, 'event');
      const weight = eventWeight(
        interaction,
        config.events.weights,
        config.events.limits.ratingMax,
      );
      return { msg, event: { ...interaction, weight, streamSeq: msg.seq } };
    } catch (error) {
      return { msg, reason: `invalid event: ${(error as Error).message}` };
    }
  }

  /**
   * Applies a batch of a lane whose previous tail is `tail`, and leaves this
   * batch's tail there. Returns how many events it applied for the first
   * time: not those found duplicate, nor those handed back (a redelivery
   * applies them once).
   */
  async apply(batch: Received[], tail: Tail): Promise<number> {
    const valid: Decoded[] = [];
    for (const received of batch) {
      if ('event' in received) valid.push(received);
      else await this.deadLetters.move(received.msg, received.reason);
    }
    if (valid.length === 0) return 0;
    const outcome = await this.applyWithRetry(valid.map((v) => v.event));
    // The lane's previous tail ran meanwhile; this one's follows it.
    await tail.finishing;
    if ('applied' in outcome) {
      tail.finishing = this.finish(outcome.applied, valid, outcome.retried);
      return outcome.applied.applied.length;
    }
    if (outcome.transient) {
      // A dependency is down, not an event bad: never dead-letter for that.
      for (const { msg } of valid) msg.nak(backoffMs(msg.info.deliveryCount, 1000, 30_000));
      return 0;
    }
    return this.handleOneByOne(valid);
  }

  /**
   * Applies a batch, retrying transient failures in place. Returns the result,
   * or why it kept failing: `transient` (the store is down: hand everything
   * back, dead-letter nothing) or not (look for the poison event).
   */
  private async applyWithRetry(
    events: StoredEvent[],
  ): Promise<{ applied: AppliedBatch; retried: boolean } | { transient: boolean }> {
    const users = [...new Set(events.map((e) => e.userId))];
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.deps.hotCopy.announceUsers(users);
        const applied = await this.deps.repository.applyBatch(
          events,
          this.deps.config.pipeline.covisitWindowMs,
        );
        this.deps.onRetrying(false);
        return { applied, retried: attempt > 1 };
      } catch (error) {
        const transient = isTransient(error);
        this.deps.log.warn({ err: error, attempt, size: events.length, transient }, 'batch failed');
        if (!transient || attempt === BATCH_ATTEMPTS) return { transient };
        this.deps.onRetrying(true);
        await sleep(backoffMs(attempt, 200));
      }
    }
  }

  /**
   * After a batch kept failing: each message on its own, so one poison event
   * cannot hold back the others. A message that fails is handed back with a
   * growing delay, and dead-lettered on its last allowed delivery, unless the
   * failure is transient (a store down), which never dead-letters. Returns
   * how many were applied for the first time.
   */
  private async handleOneByOne(valid: Decoded[]): Promise<number> {
    const { maxDeliver } = this.deps.config.pipeline;
    let fresh = 0;
    for (const { msg, event } of valid) {
      try {
        await this.deps.hotCopy.announceUsers([event.userId]);
        const applied = await this.deps.repository.applyBatch(
          [event],
          this.deps.config.pipeline.covisitWindowMs,
        );
        // Only after the whole batch failed: any of its tries may have committed.
        await this.afterCommit(applied, [event], maybeAppliedBefore([{ msg, event }], true));
        msg.ack();
        this.count(applied.applied.length, 1 - applied.applied.length);
        fresh += applied.applied.length;
      } catch (error) {
        const deliveries = msg.info.deliveryCount;
        if (!isTransient(error) && deliveries >= maxDeliver) {
          const reason = `failed ${deliveries} times: ${(error as Error).message}`;
          await this.deadLetters.move(msg, reason);
        } else {
          this.deps.log.warn(
            { err: error, ...tracing(msg), deliveries },
            'event failed on its own; handed back for a later try',
          );
          msg.nak(backoffMs(deliveries, 1000, 60_000));
        }
      }
    }
    return fresh;
  }

  /** After a batch committed: hot copy, notices, then the acks. Never rejects. */
  private async finish(applied: AppliedBatch, valid: Decoded[], retried: boolean): Promise<void> {
    try {
      await this.afterCommit(
        applied,
        valid.map((v) => v.event),
        maybeAppliedBefore(valid, retried),
      );
    } catch (error) {
      // Committed, so a redelivery only rewrites the hot copy: hand the batch back.
      this.deps.log.error({ err: error, size: valid.length }, 'after-commit work failed');
      for (const { msg } of valid) msg.nak(backoffMs(msg.info.deliveryCount, 1000, 60_000));
      return;
    }
    for (const { msg } of valid) msg.ack();
    this.count(applied.applied.length, valid.length - applied.applied.length);
  }

  /**
   * Hot copy, then notices for the users whose features changed: those of
   * the events applied now, and those of events an earlier try may have
   * applied without its notice going out (`appliedBefore`). A notice too
   * many only recomputes a list.
   */
  private async afterCommit(
    applied: AppliedBatch,
    events: StoredEvent[],
    appliedBefore: ReadonlySet<string>,
  ): Promise<void> {
    if (this.deps.failpoint === 'crash-after-commit') {
      // Simulates a worker that dies between commit and ack.
      process.kill(process.pid, 'SIGKILL');
    }
    await this.deps.hotCopy.write(applied);
    const fresh = new Set(applied.applied);
    const changed = new Set(
      events
        .filter((e) => fresh.has(e.eventId) || appliedBefore.has(e.eventId))
        .map((e) => e.userId),
    );
    for (const user of applied.users) {
      if (!changed.has(user.userId)) continue;
      const notice = JSON.stringify({ userId: user.userId, version: user.version });
      try {
        this.deps.nc.publish(this.subjects.userFeatures(user.userId), notice);
      } catch (error) {
        // Subscribers miss one push; the features themselves are committed.
        this.deps.log.warn({ err: error }, 'features-changed notice not sent');
      }
    }
  }

  private count(applied: number, duplicates: number): void {
    this.handled += applied + duplicates;
    if (applied > 0) this.deps.metrics.eventsProcessed.inc({ result: 'applied' }, applied);
    if (duplicates > 0) this.deps.metrics.eventsProcessed.inc({ result: 'duplicate' }, duplicates);
  }
}

/**
 * Ids of the events an earlier try may have applied and not announced: a
 * message delivered before (its worker may have died between commit and
 * notice), or every event of a batch tried again in place (a commit whose
 * answer was lost looks like a failure).
 */
function maybeAppliedBefore(decoded: readonly Decoded[], retried: boolean): Set<string> {
  const ids = new Set<string>();
  for (const { msg, event } of decoded) {
    if (retried || msg.info.deliveryCount > 1) ids.add(event.eventId);
  }
  return ids;
}
