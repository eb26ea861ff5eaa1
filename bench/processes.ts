/**
 * recflow in a child process (`node dist/cli/main.js serve --role <role>`),
 * so that the server does not share an event loop with the load generator.
 * On a 2-core machine they still share the cores.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Role } from '../src/app/app';

export const ROOT = path.resolve(__dirname, '..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface RecflowProcess {
  role: Role;
  pid: number;
  /** GraphQL endpoint (gateways) or probe base URL (workers). */
  url: string;
  /** Base URL of /health, /ready and /metrics. */
  probeUrl: string;
  /** Resident set size now, from /proc (Linux). */
  rssBytes(): number;
  /** CPU time used so far, user and system, in seconds, from /proc (Linux). */
  cpuSeconds(): number;
  /** The last lines the process printed, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `recflow serve --role <role>` and resolves once it listens and is
 * ready. It logs at `info` (recflow logs no line per request), only to read
 * the port it picked; `debug` adds a line per pipeline batch.
 */
export async function spawnRecflow(
  role: Role,
  env: Record<string, string>,
  timeoutMs = 30_000,
  logLevel: 'info' | 'debug' = 'info',
  onLine?: (line: string, pid: number) => void,
): Promise<RecflowProcess> {
  const child = spawnNode([CLI, 'serve', '--role', role], { ...env, RECFLOW_LOG_LEVEL: logLevel });
  if (onLine) child.onLine((line) => onLine(line, child.process.pid as number));
  const started = Date.now();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start`)), timeoutMs);
    child.onLine((line) => {
      const entry = parseJson(line);
      const found =
        typeof entry?.endpoint === 'string'
          ? entry.endpoint
          : typeof entry?.port === 'number' && role === 'worker'
            ? `http://127.0.0.1:${entry.port}`
            : undefined;
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.process.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with ${code}: ${child.output()}`));
    });
  });
  const probeUrl = new URL(url).origin;
  await waitReady(probeUrl, timeoutMs - (Date.now() - started));
  const pid = child.process.pid as number;
  return {
    role,
    pid,
    url,
    probeUrl,
    rssBytes: () => rssOf(pid),
    cpuSeconds: () => cpuOf(pid),
    output: child.output,
    stop: () => stopChild(child.process),
  };
}

/** Runs the recflow CLI to completion (e.g. `generate`), with a time limit. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<string> {
  const child = spawnNode([CLI, ...args], env);
  const timer = setTimeout(() => child.process.kill('SIGTERM'), timeoutMs);
  const code = await new Promise<number | null>((resolve) =>
    child.process.once('exit', (c) => resolve(c)),
  );
  clearTimeout(timer);
  if (code !== 0) throw new Error(`recflow ${args[0]} exited with ${code}: ${child.output()}`);
  return child.output();
}

/**
 * With RECFLOW_BENCH_PROFILE_DIR set, every child writes a V8 CPU profile
 * there when it exits (open it in Chrome DevTools or speedscope).
 */
function spawnNode(args: string[], env: Record<string, string>) {
  const profileDir = process.env.RECFLOW_BENCH_PROFILE_DIR;
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const proc = spawn(process.execPath, [...flags, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  // Each stream keeps its own unfinished line, so the two never mix.
  const partials = { stdout: '', stderr: '' };
  const onData = (stream: keyof typeof partials) => (chunk: Buffer) => {
    const lines = (partials[stream] + chunk.toString('utf8')).split('\n');
    partials[stream] = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      for (const l of listeners) l(line);
    }
  };
  proc.stdout?.on('data', onData('stdout'));
  proc.stderr?.on('data', onData('stderr'));
  return {
    process: proc,
    onLine: (listener: (line: string) => void) => listeners.push(listener),
    output: () => [...tail, partials.stdout, partials.stderr].join('\n'),
  };
}

async function waitReady(probeUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + Math.max(timeoutMs, 1000);
  while (Date.now() < deadline) {
    const ok = await fetch(`${probeUrl}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${probeUrl}/ready did not answer 200`);
}

/** SIGTERM (graceful shutdown), then SIGKILL after 15 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kib * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User and system CPU seconds a process has used so far (Linux /proc). */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return (userTicks + systemTicks) / TICKS_PER_SECOND;
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A number from the Prometheus text at `probeUrl`/metrics, e.g. heap used. */
export async function metricValue(probeUrl: string, name: string): Promise<number> {
  return (await metricValues(probeUrl, [name]))[0];
}

/**
 * Numbers from one read of the Prometheus text at `probeUrl`/metrics, by
 * name (with labels, as printed, to pick one series); NaN for a name with
 * no line.
 */
export async function metricValues(probeUrl: string, names: readonly string[]): Promise<number[]> {
  const lines = (await (await fetch(`${probeUrl}/metrics`)).text()).split('\n');
  return names.map((name) => {
    const line = lines.find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
  });
}
