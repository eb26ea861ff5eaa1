/**
 * The stream pipeline: a durable pull consumer whose messages are applied
 * to the features exactly once, a batch at a time (batch.ts says how).
 *
 * This file is the pulling and the lanes. A worker pulls with bounded
 * fetches into per-lane queues, decoding each message as it arrives, and
 * runs a few batches at once, one per lane (RECFLOW_WORKER_LANES). Each lane
 * owns a share of the users, so the lanes never wait on each other's user
 * locks, and one user's batches run in order. While one lane waits on
 * PostgreSQL, this process works on another.
 *
 * Several workers can share the durable consumer; JetStream hands each
 * message to one of them.
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { BatchApplier, type BatchDeps, type Received, type Tail } from './batch';
import { DurableConsumer } from './durable-consumer';
import { laneOfUser, laneShares } from './lanes';
import { backoffMs, sleep } from './retry';

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

/**
 * One of a worker's transactions in flight. Each lane owns a fixed share of
 * the users (by a hash of the id), so lanes never wait on each other's user
 * locks; each runs its batches one after another, the tail of one beside the
 * transaction of the next.
 */
interface Lane extends Tail {
  /** Most events per batch: the lane's share of RECFLOW_WORKER_BATCH. */
  most: number;
  /** Fetched messages of this lane's users, decoded as they arrived. */
  queue: Received[];
  wake?: () => void;
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

/** What a worker works with: what its batches need, less the retry callback it gives them. */
export type WorkerDeps = Omit<BatchDeps, 'onRetrying'>;

export class Worker {
  private state: WorkerState = 'starting';
  private loop?: Promise<void>;
  private lastBatchAt: number | null = null;
  private readonly batches: BatchApplier;
  private readonly lanes: Lane[];
  /** The pull in progress (see pump and drain). */
  private pulling?: ConsumerMessages;
  private readonly consumer: DurableConsumer;
  private watchdog?: NodeJS.Timeout;
  private space?: () => void;

  constructor(private readonly deps: WorkerDeps) {
    this.batches = new BatchApplier({
      ...deps,
      onRetrying: (retrying) => {
        if (retrying && this.state !== 'draining') this.state = 'retrying';
        if (!retrying && this.state === 'retrying') this.state = 'running';
      },
    });
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
      processed: this.batches.processed,
      deadLettered: this.batches.deadLettered,
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
    const received = this.batches.decode(msg);
    const lane = this.lanes[laneOf(received, this.lanes.length)];
    lane.queue.push(received);
    lane.wake?.();
  }

  /** Messages waiting in every lane's queue together. */
  private get queued(): number {
    return this.lanes.reduce((n, lane) => n + lane.queue.length, 0);
  }

  /** Takes whatever is queued in a lane, up to the lane's share of a batch, when anything is. */
  private async process(lane: Lane): Promise<void> {
    while (this.state !== 'draining') {
      if (lane.queue.length === 0) {
        await new Promise<void>((r) => (lane.wake = r));
        continue;
      }
      const batch = lane.queue.splice(0, lane.most);
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
    const applied = await this.batches.apply(batch, lane);
    this.lastBatchAt = Date.now();
    const seconds = stop();
    this.deps.log.debug({ size: batch.length, applied, ms: seconds * 1000 }, 'batch handled');
  }
}
