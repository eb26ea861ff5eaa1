/**
 * A PostgreSQL connection lost in the middle of a transaction, through a
 * TCP relay of this test's own in front of the real server: the
 * transaction fails with an error the pipeline retries, the process lives
 * on, and the pool serves the next transaction on a new connection.
 */
import net from 'node:net';
import { isTransient } from '../../src/pipeline/retry';
import { createDb, type Db, inTransaction } from '../../src/storage/postgres/client';
import { cleanUp } from '../support/recflow';
import { isolatedEnv, type IsolatedEnv } from '../support/services';

jest.setTimeout(30_000);

/** Relays 127.0.0.1:<port> to PostgreSQL; cut() drops every open connection. */
class Relay {
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((inbound) => {
    const outbound = net.connect(5432, '127.0.0.1');
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ]) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let env: IsolatedEnv;
let relay: Relay;
let db: Db;

beforeAll(async () => {
  env = await isolatedEnv();
  relay = new Relay();
  const url = new URL(env.config.postgres.url);
  url.port = String(await relay.listen());
  db = createDb(url.toString(), 2);
});

afterAll(async () => {
  await db?.$disconnect();
  await relay?.close();
  await cleanUp(env);
});

test('a connection lost between statements fails the transaction, not the process', async () => {
  const failed = await inTransaction(db.pool, async (tx) => {
    await tx.query('SELECT 1');
    relay.cut();
    // The loss reaches the client while nothing runs on it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await tx.query('SELECT 2');
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failed).toBeInstanceOf(Error);
  expect(isTransient(failed)).toBe(true);

  const answer = await inTransaction(db.pool, (tx) => tx.query('SELECT 41 + 1 AS n'));
  expect(answer.rows).toEqual([{ n: 42 }]);
});

test('a connection lost during a statement fails the transaction, not the process', async () => {
  const failed = await inTransaction(db.pool, async (tx) => {
    setTimeout(() => relay.cut(), 100);
    await tx.query('SELECT pg_sleep(2)');
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(isTransient(failed)).toBe(true);
  const answer = await inTransaction(db.pool, (tx) => tx.query('SELECT 1 AS n'));
  expect(answer.rows).toEqual([{ n: 1 }]);
});
