/**
 * The stream pipeline: a durable pull consumer that applies events to the
 * features exactly once.
 *
 * For each batch it (1) decodes and re-validates the messages, sending bad
 * ones to the dead-letter stream; (2) applies the rest in one PostgreSQL
 * transaction that also records their ids; (3) refreshes the Redis hot copy
 * with the values read back; (4) publishes a "features changed" notice per
 * affected user; and only then (5) acks. A crash anywhere before the ack
 * redelivers the batch, and step 2 recognises the events already applied.
 *
 * A worker runs a few transactions at once, one per lane
 * (RECFLOW_WORKER_LANES). Each lane owns a share of the users, so the lanes
 * never wait on each other's user locks, and one user's batches run in
 * order. While one lane waits on PostgreSQL, this process works on another.
 *
 * Within a lane, steps 3-5 of a batch run while the next batch's transaction
 * does: they need only the committed result. One batch of a lane at a time
 * is in that tail, and a lane's tails run in batch order.
 *
 * Several workers can share the durable consumer; JetStream hands each
 * message to one of them.
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
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
import { DurableConsumer } from './durable-consumer';
import type { HotCopyWriter } from './hot-copy';
import { laneOfUser, laneShares } from './lanes';
import { backoffMs, isTransient, sleep } from './retry';

/** The worker's lifecycle, read by /ready and the metrics. */
export type WorkerState = 'starting' | 'running' | 'retrying' | 'draining' | 'stopped';

export interface WorkerHealth {
  state: WorkerState;
  lastBatchAt: number | null;
  processed: number;
  deadLettered: number;
  pendingHotCopy: number;
  /** False while the durable consumer is missing on the server. */
  consumerPresent: boolean;
}

/** A message with its decoded event. */
interface Decoded {
  msg: JsMsg;
  event: StoredEvent;
}

/** A fetched message: decoded, or with the reason it cannot be. */
type Received = Decoded | { msg: JsMsg; reason: string };

/**
 * One of a worker's transactions in flight. Each lane owns a fixed share of
 * the users (by a hash of the id), so lanes never wait on each other's user
 * locks; each runs its batches one after another, the tail of one beside the
 * transaction of the next.
 */
interface Lane {
  /** Most events per batch: the lane's share of RECFLOW_WORKER_BATCH. */
  most: number;
  /** Fetched messages of this lane's users, decoded as they arrived. */
  queue: Received[];
  wake?: () => void;
  /** Hot copy, notices and acks of the lane's last committed batch, still running. */
  finishing: Promise<void>;
}

/** The lane of a message: its user's, or the first for one that did not decode. */
function laneOf(received: Received, lanes: number): number {
  return 'event' in received ? laneOfUser(received.event.userId, lanes) : 0;
}

/**
 * How long one pull waits on the server for messages before it ends empty
 * (it ends sooner once it has its messages). A drain waits for the pull in
 * progress, so this bounds that wait.
 */
const PULL_EXPIRES_MS = 2000;

/** In-process tries of a whole batch before its messages are handled one by one. */
const BATCH_ATTEMPTS = 3;

export interface WorkerDeps {
  nc: NatsConnection;
  config: Config;
  repository: FeatureRepository;
  hotCopy: HotCopyWriter;
  log: Logger;
  metrics: Metrics;
  /** Test-only fault injection, see README "Testing". Ignored in production. */
  failpoint?: string;
}

export class Worker {
  private state: WorkerState = 'starting';
  private loop?: Promise<void>;
  private lastBatchAt: number | null = null;
  private processed = 0;
  private readonly subjects: Subjects;
  private readonly deadLetters: DeadLetters;
  private readonly lanes: Lane[];
  /** The pull in progress (see pump and drain). */
  private pulling?: ConsumerMessages;
  /** Messages waiting in every lane's queue together. */
  private queued = 0;
  private readonly consumer: DurableConsumer;
  private watchdog?: NodeJS.Timeout;
  private space?: () => void;

  constructor(private readonly deps: WorkerDeps) {
    this.subjects = new Subjects(deps.config.nats.subjectPrefix);
    this.deadLetters = new DeadLetters(deps.nc, this.subjects.deadLetters, deps.metrics, deps.log);
    this.consumer = new DurableConsumer(deps.nc, deps.config, deps.log);
    const { batchSize, lanes } = deps.config.pipeline;
    this.lanes = laneShares(batchSize, lanes).map((most) => ({
      most,
      queue: [],
      finishing: Promise.resolve(),
    }));
  }

  health(): WorkerHealth {
    return {
      state: this.state,
      lastBatchAt: this.lastBatchAt,
      processed: this.processed,
      deadLettered: this.deadLetters.count,
      pendingHotCopy: this.deps.hotCopy.pending,
      consumerPresent: this.consumer.present,
    };
  }

  /** Creates the durable consumer if needed and starts consuming. */
  async start(): Promise<void> {
    const consumer = await this.consumer.bind();
    this.state = 'running';
    this.watchdog = setInterval(() => void this.consumer.check(), 5000).unref();
    const lanes = this.lanes.map((lane) => this.process(lane));
    this.loop = Promise.all([this.pump(consumer), ...lanes]).then(() => undefined);
    this.deps.log.info({ consumer: this.deps.config.nats.consumer }, 'worker consuming');
  }

  /**
   * Stops pulling, finishes the batches in hand, hands back what was fetched
   * but not started (nak, so another worker takes it at once), and returns.
   * The pull still open is let run out (PULL_EXPIRES_MS): whatever the
   * server sends to it is taken in and handed back too, where closing it
   * would leave those messages to the ack wait. A pull that has not ended a
   * second after that is stopped: its connection is down (the client stops
   * timing a pull while disconnected), so nothing more can reach it.
   */
  async drain(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return this.loop;
    this.state = 'draining';
    clearInterval(this.watchdog);
    // A pump held back by a full queue must be let go, to see the drain.
    this.space?.();
    for (const lane of this.lanes) lane.wake?.();
    const overdue = setTimeout(() => void this.pulling?.stop(), PULL_EXPIRES_MS + 1000);
    await this.loop;
    clearTimeout(overdue);
    for (const lane of this.lanes) for (const { msg } of lane.queue.splice(0)) msg.nak();
    await this.deps.hotCopy.flush();
    this.state = 'stopped';
  }

  /**
   * Pulls messages into the lanes' queues, one bounded pull at a time, up to
   * two batches queued, and pulls again once half of that is free. Each
   * message is decoded here, as it arrives, so that decoding mostly happens
   * while a batch waits on PostgreSQL rather than before it. A pull that
   * fails (NATS away, the consumer lost) is tried again after a pause.
   */
  private async pump(consumer: Consumer): Promise<void> {
    const high = this.deps.config.pipeline.batchSize * 2;
    for (let failures = 0; this.state !== 'draining';) {
      if (this.queued > high / 2) {
        await new Promise<void>((r) => (this.space = r));
        continue;
      }
      try {
        this.pulling = await consumer.fetch({
          max_messages: high - this.queued,
          expires: PULL_EXPIRES_MS,
        });
        for await (const m of this.pulling) this.enqueue(m);
        failures = 0;
      } catch (error) {
        failures += 1;
        this.deps.log.warn({ err: error, failures }, 'pulling from the stream failed; retrying');
        await sleep(backoffMs(failures, 200, PULL_EXPIRES_MS));
      }
    }
    for (const lane of this.lanes) lane.wake?.();
  }

  /** Decodes a pulled message into its lane's queue. */
  private enqueue(msg: JsMsg): void {
    const received = this.decode(msg);
    const lane = this.lanes[laneOf(received, this.lanes.length)];
    lane.queue.push(received);
    this.queued += 1;
    lane.wake?.();
  }

  /** Takes whatever is queued in a lane, up to the lane's share of a batch, when anything is. */
  private async process(lane: Lane): Promise<void> {
    while (this.state !== 'draining') {
      if (lane.queue.length === 0) {
        await new Promise<void>((r) => (lane.wake = r));
        continue;
      }
      const batch = lane.queue.splice(0, lane.most);
      this.queued -= batch.length;
      this.space?.();
      await this.handleBatch(lane, batch);
    }
    await lane.finishing;
  }

  /** Handles a batch; an unexpected error hands the batch back instead of stopping the worker. */
  private async handleBatch(lane: Lane, batch: Received[]): Promise<void> {
    try {
      await this.applyMessages(lane, batch);
    } catch (error) {
      this.deps.log.error(
        { err: error, size: batch.length },
        'batch handling failed; handing it back',
      );
      for (const { msg } of batch) msg.nak(backoffMs(msg.info.deliveryCount, 1000, 60_000));
    }
  }

  private async applyMessages(lane: Lane, batch: Received[]): Promise<void> {
    const stop = this.deps.metrics.batchLatency.startTimer();
    const valid: Decoded[] = [];
    for (const received of batch) {
      if ('event' in received) valid.push(received);
      else await this.deadLetters.move(received.msg, received.reason);
    }

    /**
     * Events whose effects this batch applied for the first time: not those
     * found duplicate, nor those handed back (a redelivery applies them once).
     */
    let applied = 0;
    if (valid.length > 0) {
      const outcome = await this.applyWithRetry(valid.map((v) => v.event));
      // The lane's previous tail ran meanwhile; this one's follows it.
      await lane.finishing;
      if ('applied' in outcome) {
        lane.finishing = this.finish(outcome.applied, valid);
        applied = outcome.applied.applied.length;
      } else if (outcome.transient) {
        // A dependency is down, not an event bad: never dead-letter for that.
        for (const { msg } of valid) msg.nak(backoffMs(msg.info.deliveryCount, 1000, 30_000));
      } else {
        applied = await this.handleOneByOne(valid);
      }
    }
    this.lastBatchAt = Date.now();
    const seconds = stop();
    this.deps.log.debug({ size: batch.length, applied, ms: seconds * 1000 }, 'batch handled');
  }

  /** Decodes and re-validates a message: the event, or why it is invalid. */
  private decode(msg: JsMsg): Received {
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
   * Applies a batch, retrying transient failures in place. Returns the result,
   * or why it kept failing: `transient` (the store is down: hand everything
   * back, dead-letter nothing) or not (look for the poison event).
   */
  private async applyWithRetry(
    events: StoredEvent[],
  ): Promise<{ applied: AppliedBatch } | { transient: boolean }> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const applied = await this.deps.repository.applyBatch(
          events,
          this.deps.config.pipeline.covisitWindowMs,
        );
        if (this.state === 'retrying') this.state = 'running';
        return { applied };
      } catch (error) {
        const transient = isTransient(error);
        this.deps.log.warn({ err: error, attempt, size: events.length, transient }, 'batch failed');
        if (!transient || attempt === BATCH_ATTEMPTS) return { transient };
        if (this.state !== 'draining') this.state = 'retrying';
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
        const applied = await this.deps.repository.applyBatch(
          [event],
          this.deps.config.pipeline.covisitWindowMs,
        );
        await this.afterCommit(applied, [event]);
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
  private async finish(applied: AppliedBatch, valid: Decoded[]): Promise<void> {
    try {
      await this.afterCommit(
        applied,
        valid.map((v) => v.event),
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

  private async afterCommit(applied: AppliedBatch, events: StoredEvent[]): Promise<void> {
    if (this.deps.failpoint === 'crash-after-commit') {
      // Simulates a worker that dies between commit and ack.
      process.kill(process.pid, 'SIGKILL');
    }
    await this.deps.hotCopy.write(applied);
    const fresh = new Set(applied.applied);
    const changed = new Set(events.filter((e) => fresh.has(e.eventId)).map((e) => e.userId));
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
    this.processed += applied + duplicates;
    if (applied > 0) this.deps.metrics.eventsProcessed.inc({ result: 'applied' }, applied);
    if (duplicates > 0) this.deps.metrics.eventsProcessed.inc({ result: 'duplicate' }, duplicates);
  }
}
