/**
 * Node.js options a worker process should start with. V8 reads them only at
 * start-up, so deployments pass them in NODE_OPTIONS (docker-compose.yml's
 * workers do; the bench starts its workers with them too).
 *
 * A worker allocates about 20 KB per event, and much of it lives while a
 * batch waits on PostgreSQL. With V8's default 16 MiB semi-space, scavenges
 * copy it twice and promote it to the old generation. A 64 MiB semi-space
 * cut a worker's CPU per event by 8-10 % on the bench's pipeline scenario
 * (README, Operations), for at most 96 MiB more heap (two semi-spaces of
 * 64 MiB rather than 16).
 * Gateways keep the default: the larger pauses raised the query p99.
 */
export const WORKER_NODE_OPTIONS = '--max-semi-space-size=64';

/**
 * Whether every option of `wanted` (space-separated `--name=value`) was given
 * to this process, on its command line or in NODE_OPTIONS, with any value.
 */
export function startedWith(
  wanted: string,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((o) => o.split('=')[0]);
  return wanted.split(/\s+/).every((o) => given.includes(o.split('=')[0]));
}
