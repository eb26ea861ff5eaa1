/**
 * Private Redis and NATS servers, for tests that stop a dependency. The
 * shared services are never stopped; these run on free ports and are ended
 * by their own pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface OwnServer {
  port: number;
  url: string;
  /** NATS only: deletes everything the stopped server stored. */
  wipe?: () => void;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function ownRedis(): Promise<OwnServer> {
  const port = await freePort();
  return ownServer(port, `redis://127.0.0.1:${port}`, () =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    ),
  );
}

export async function ownNats(): Promise<OwnServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'recflow-nats-'));
  const server = await ownServer(port, `nats://127.0.0.1:${port}`, () =>
    spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
      stdio: 'ignore',
    }),
  );
  server.wipe = () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  };
  const dispose = server.dispose;
  server.dispose = async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  return server;
}

async function ownServer(
  port: number,
  url: string,
  launch: () => ChildProcess,
): Promise<OwnServer> {
  let child: ChildProcess | undefined;
  const server: OwnServer = {
    port,
    url,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = launch();
      await waitForPort(port, true);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await waitForPort(port, false);
    },
    async dispose() {
      await server.stop();
    },
  };
  await server.start();
  return server;
}

async function waitForPort(port: number, open: boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await isOpen(port)) === open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not ${open ? 'open' : 'close'} within 10 s`);
}

function isOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
