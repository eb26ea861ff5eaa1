/**
 * Idle keep-alive connections stay open for RECFLOW_HTTP_KEEP_ALIVE, then
 * the gateway closes them. Node's own default (5 s) reset connections that a
 * client reused after a pause. A connection that sends nothing at all is
 * closed after RECFLOW_HTTP_IDLE_TIMEOUT; a quiet WebSocket is not.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { cleanUp, startRecflow, type TestRecflow } from '../support/recflow';

let rf: TestRecflow;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

beforeAll(async () => {
  rf = await startRecflow({
    role: 'gateway',
    // The idle timeout is shorter than the keep-alive on purpose: an idle
    // keep-alive connection is governed by the keep-alive alone.
    env: { RECFLOW_HTTP_KEEP_ALIVE: '3s', RECFLOW_HTTP_IDLE_TIMEOUT: '1s' },
  });
}, 30_000);

afterAll(async () => {
  agent.destroy();
  await rf.stop();
  await cleanUp(rf.env);
});

/** One GraphQL POST through the shared agent: its status, and the socket it used. */
function post(): Promise<{
  status: number;
  keepAlive: string;
  socket: Socket;
  reused: boolean;
}> {
  const url = new URL(rf.url);
  const body = JSON.stringify({ query: '{ __typename }' });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            keepAlive: String(res.headers['keep-alive']),
            socket: req.socket as Socket,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an idle connection is kept for the configured time, then closed', async () => {
  const first = await post();
  // Clients learn the time from the Keep-Alive header (Node's agent drops a
  // socket a second before it).
  expect(first).toMatchObject({ status: 200, keepAlive: 'timeout=3' });
  let closedAt = 0;
  first.socket.once('close', () => (closedAt = performance.now()));

  await pause(1200);
  const second = await post();
  expect(second).toMatchObject({ status: 200, reused: true });
  expect(second.socket).toBe(first.socket);

  const reusedAt = performance.now();
  await pause(5000);
  // Closed about 3 s after its last request (timers add a little), not kept for good.
  expect(closedAt).toBeGreaterThan(reusedAt + 1000);
  expect(closedAt).toBeLessThan(reusedAt + 4500);
}, 15_000);

test('a connection that never sends a byte is closed after the idle timeout', async () => {
  const url = new URL(rf.url);
  const socket = connect(Number(url.port), url.hostname);
  const opened = performance.now();
  const closedAt = await new Promise<number>((resolve, reject) => {
    socket.once('close', () => resolve(performance.now()));
    socket.once('error', reject);
    setTimeout(() => reject(new Error('still open after 5 s')), 5000).unref();
  });
  socket.destroy();
  expect(closedAt - opened).toBeGreaterThan(800);
  expect(closedAt - opened).toBeLessThan(4000);
}, 10_000);

test('a quiet WebSocket outlives the idle timeout', async () => {
  const ws = new WebSocket(rf.wsUrl, 'graphql-transport-ws');
  const messages: Array<{ type: string }> = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as { type: string }));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init' }));
  await pause(2500);
  expect(ws.readyState).toBe(WebSocket.OPEN);
  ws.send(JSON.stringify({ type: 'ping' }));
  await pause(300);
  expect(messages.map((m) => m.type)).toEqual(['connection_ack', 'pong']);
  ws.close();
}, 10_000);
