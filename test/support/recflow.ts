/**
 * Starting recflow for tests, in-process or as a child process, on its own
 * database, stream, subjects and key prefix, and cleaning up afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { RecflowApp, type Role } from '../../src/app/app';
import { loadConfig, type Config } from '../../src/config/config';
import { removeIsolated } from '../../src/app/isolation';
import { silentLogger } from '../../src/observability/logger';
import { isolatedEnv, type IsolatedEnv } from './services';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface TestRecflow {
  env: IsolatedEnv;
  config: Config;
  app: RecflowApp;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** Starts recflow in this process with a fresh isolated environment. */
export async function startRecflow(
  options: { role?: Role; env?: Record<string, string>; isolated?: IsolatedEnv } = {},
): Promise<TestRecflow> {
  const env = options.isolated ?? (await isolatedEnv(options.env));
  const config = loadConfig({ ...env.env, ...options.env });
  const app = await RecflowApp.start({ config, role: options.role ?? 'all', log: silentLogger() });
  const url = app.gateway?.url ?? '';
  return {
    env,
    config,
    app,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    stop: () => app.stop(),
  };
}

/** Removes everything an isolated environment created on the shared services. */
export async function cleanUp(env: IsolatedEnv): Promise<void> {
  await removeIsolated(loadConfig(env.env));
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POSTs a GraphQL operation and returns status, data and errors. */
export async function gql<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: response.status, ...body };
}

export function wsClient(wsUrl: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the built CLI as a child process with the given environment. */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return Object.assign(child, { output: () => output });
}

export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

let counter = 0;
/** A unique event id for this test run. */
export function eventId(label = 'e'): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
