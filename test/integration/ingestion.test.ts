/**
 * IngestService and EventPublisher against real JetStream streams: the
 * shared server for the answers, and a nats-server of our own that this
 * file kills to see ingestion fail cleanly.
 */
import { DiscardPolicy, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { ErrorCode, RecflowError } from '../../src/domain/errors';
import { type EventInput, validateEvent } from '../../src/domain/events';
import { IngestService } from '../../src/ingestion/ingest-service';
import { EventPublisher, type PublishedEvent } from '../../src/ingestion/publisher';
import {
  ConnectionWatch,
  connectNats,
  ensureStreams,
  type NatsConnection,
  streamNames,
} from '../../src/messaging/connection';
import { Subjects } from '../../src/messaging/subjects';
import { cleanUp, eventId } from '../support/recflow';
import { ownNats, type OwnServer } from '../support/own-servers';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(20_000);

const MAX_BATCH = 5;

let env: IsolatedEnv;
let nc: NatsConnection;
let ingest: IngestService;

beforeAll(async () => {
  env = await isolatedEnv({ RECFLOW_MAX_EVENT_BATCH: String(MAX_BATCH) });
  nc = await connectNats(env.config.nats.url, 'recflow-test-ingestion');
  await ensureStreams(nc, env.config.nats);
  const publisher = new EventPublisher(nc, env.config.nats.subjectPrefix);
  ingest = new IngestService(publisher, env.config.events.limits, env.config.events.maxBatch);
});

afterAll(async () => {
  await nc?.close();
  await cleanUp(env);
});

function input(overrides: Partial<EventInput> = {}): EventInput {
  return { eventId: eventId('ing'), userId: 'u1', itemId: 'i1', type: 'VIEW', ...overrides };
}

async function storedMessages(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(streamNames(env.config.nats).events);
  return info.state.messages;
}

async function rejection(promise: Promise<unknown>): Promise<RecflowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecflowError);
  return error as RecflowError;
}

test('the same event id published twice is ACCEPTED, then DUPLICATE, stored once', async () => {
  const event = input({ type: 'PURCHASE', value: 2 });
  const before = await storedMessages();

  const [first] = await ingest.record([event]);
  const [second] = await ingest.record([{ ...event }]);

  expect(first).toMatchObject({ eventId: event.eventId, answer: 'ACCEPTED' });
  expect(second).toEqual<PublishedEvent>({
    eventId: event.eventId,
    answer: 'DUPLICATE',
    sequence: first.sequence,
  });
  expect(await storedMessages()).toBe(before + 1);
});

test('a batch answers per event, in input order', async () => {
  const known = input();
  await ingest.record([known]);
  const fresh = [input(), input()];

  const answers = await ingest.record([fresh[0], known, fresh[1]]);

  expect(answers.map((a) => [a.eventId, a.answer])).toEqual([
    [fresh[0].eventId, 'ACCEPTED'],
    [known.eventId, 'DUPLICATE'],
    [fresh[1].eventId, 'ACCEPTED'],
  ]);
});

test('one invalid event rejects the whole batch and nothing reaches the stream', async () => {
  const before = await storedMessages();
  const batch = [input(), input(), input({ type: 'RATE', value: 9 }), input()];

  const error = await rejection(ingest.record(batch));

  expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
  expect(error.details).toEqual({ field: 'inputs[2].value' });
  expect(await storedMessages()).toBe(before);
});

test('a batch over the maximum is BATCH_TOO_LARGE and nothing reaches the stream', async () => {
  const before = await storedMessages();
  const batch = Array.from({ length: MAX_BATCH + 1 }, () => input());

  const error = await rejection(ingest.record(batch));

  expect(error.code).toBe(ErrorCode.BATCH_TOO_LARGE);
  expect(error.details).toMatchObject({ max: MAX_BATCH });
  expect(error.retryable).toBe(false);
  expect(await storedMessages()).toBe(before);
  // The maximum itself is allowed.
  expect(await ingest.record(batch.slice(0, MAX_BATCH))).toHaveLength(MAX_BATCH);
});

test('a thousand events go out at once and are answered in input order', async () => {
  const publisher = new EventPublisher(nc, env.config.nats.subjectPrefix);
  const now = Date.now();
  const events = Array.from({ length: 1000 }, () => validateEvent(input(), now));

  const answers = await publisher.publish([...events, events[10]]);

  expect(answers.map((a) => a.eventId)).toEqual([...events, events[10]].map((e) => e.eventId));
  expect(answers.slice(0, 1000).every((a) => a.answer === 'ACCEPTED')).toBe(true);
  const sequences = answers.slice(0, 1000).map((a) => a.sequence);
  expect(new Set(sequences).size).toBe(1000);
  // The same id twice in one call is stored once; both answers name the stored copy.
  expect(answers[1000]).toEqual({ ...answers[10], answer: 'DUPLICATE' });
});

test('a stream deleted under a publisher is recreated; the call succeeds', async () => {
  let recreated = 0;
  const publisher = new EventPublisher(nc, env.config.nats.subjectPrefix, {
    recreate: async () => {
      recreated += 1;
      await ensureStreams(nc, env.config.nats);
    },
  });
  const service = new IngestService(publisher, env.config.events.limits, MAX_BATCH);
  await service.record([input()]);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(streamNames(env.config.nats).events);

  const answers = await service.record([input(), input()]);

  expect(answers.map((a) => a.answer)).toEqual(['ACCEPTED', 'ACCEPTED']);
  expect(recreated).toBe(1);
  expect(await storedMessages()).toBe(2);
});

test('a publish JetStream refuses is INGESTION_UNAVAILABLE', async () => {
  // A stream of our own that holds one message and refuses more.
  const prefix = `${env.config.nats.subjectPrefix}-full`;
  const jsm = await jetstreamManager(nc);
  const name = `${streamNames(env.config.nats).events}_FULL`;
  await jsm.streams.add({
    name,
    subjects: [new Subjects(prefix).events],
    storage: StorageType.Memory,
    discard: DiscardPolicy.New,
    max_msgs: 1,
  });
  try {
    const service = new IngestService(
      new EventPublisher(nc, prefix, { timeoutMs: 2000 }),
      env.config.events.limits,
      MAX_BATCH,
    );
    await service.record([input()]);

    const started = Date.now();
    const error = await rejection(service.record([input()]));

    expect(error.code).toBe(ErrorCode.INGESTION_UNAVAILABLE);
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  } finally {
    await jsm.streams.delete(name);
  }
});

describe('with the NATS server down', () => {
  let server: OwnServer;
  let own: NatsConnection;
  let watch: ConnectionWatch;

  beforeAll(async () => {
    server = await ownNats();
    own = await connectNats(server.url, 'recflow-test-ingestion-down');
    await ensureStreams(own, env.config.nats);
    watch = new ConnectionWatch(own);
  });

  afterAll(async () => {
    await own?.close();
    await server?.dispose();
  });

  test('record() fails with INGESTION_UNAVAILABLE within seconds, never ACCEPTED', async () => {
    // As the app wires it: the publisher knows when the connection is down.
    const watched = new IngestService(
      new EventPublisher(own, env.config.nats.subjectPrefix, {
        connected: () => watch.connected,
        timeoutMs: 2000,
      }),
      env.config.events.limits,
      MAX_BATCH,
    );
    // And without that knowledge: only the publish timeout protects the caller.
    const blind = new IngestService(
      new EventPublisher(own, env.config.nats.subjectPrefix, { timeoutMs: 2000 }),
      env.config.events.limits,
      MAX_BATCH,
    );
    expect(await watched.record([input()])).toEqual([
      expect.objectContaining({ answer: 'ACCEPTED' }),
    ]);

    await server.stop();

    for (const service of [watched, blind, watched]) {
      const started = Date.now();
      const error = await rejection(service.record([input(), input()]));
      expect(error.code).toBe(ErrorCode.INGESTION_UNAVAILABLE);
      expect(error.retryable).toBe(true);
      expect(Date.now() - started).toBeLessThan(4000);
    }
    expect(watch.connected).toBe(false);
  });
});
