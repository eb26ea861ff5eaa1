/**
 * The NATS connection and the JetStream resources recflow owns: the event
 * stream and its dead-letter stream, created or updated at start-up with
 * explicit retention, limits and duplicate window.
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/config';
import { Subjects } from './subjects';

export type { NatsConnection };

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 3000,
    pingInterval: 10_000,
  });
}

/** Names of the two streams for a configuration. */
export function streamNames(config: Config['nats']): { events: string; deadLetters: string } {
  return { events: config.stream, deadLetters: `${config.stream}_DLQ` };
}

/** Creates the streams, or updates their limits when they exist. */
export async function ensureStreams(nc: NatsConnection, config: Config['nats']): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const subjects = new Subjects(config.subjectPrefix);
  const names = streamNames(config);
  await upsertStream(jsm, {
    name: names.events,
    subjects: [subjects.events],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(config.streamMaxAgeMs),
    max_bytes: config.streamMaxBytes,
    duplicate_window: nanos(config.duplicateWindowMs),
    num_replicas: 1,
  });
  await upsertStream(jsm, {
    name: names.deadLetters,
    subjects: [subjects.deadLetters],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(30 * 86_400_000),
    max_bytes: Math.min(config.streamMaxBytes, 256 * 1024 ** 2),
    num_replicas: 1,
  });
}

async function upsertStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
) {
  try {
    await jsm.streams.info(config.name);
  } catch {
    await jsm.streams.add(config);
    return;
  }
  const { name, ...update } = config;
  await jsm.streams.update(name, update);
}

/** Deletes both streams (tests and `recflow reset`). */
export async function deleteStreams(nc: NatsConnection, config: Config['nats']): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of Object.values(streamNames(config))) {
    await jsm.streams.delete(name).catch(() => false);
  }
}

/** Follows the connection's status; `connected` is false while reconnecting. */
export class ConnectionWatch {
  connected = true;
  private readonly listeners: Array<(status: string) => void> = [];

  constructor(nc: NatsConnection, onChange: (status: string) => void = () => undefined) {
    this.listeners.push(onChange);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.connected = false;
        if (status.type === 'reconnect') this.connected = true;
        if (['disconnect', 'reconnect', 'error'].includes(status.type)) {
          for (const listener of this.listeners) listener(status.type);
        }
      }
      this.connected = false;
    })();
  }

  /** Also tells `listener` of every disconnect, reconnect and error. */
  onChange(listener: (status: string) => void): void {
    this.listeners.push(listener);
  }
}
