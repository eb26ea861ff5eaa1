/**
 * Runs once before the integration and end-to-end suites: checks that the
 * real services are reachable and says which one is not.
 */
import net from 'node:net';

const SERVICES = [
  { name: 'PostgreSQL', port: 5432 },
  { name: 'Redis', port: 6379 },
  { name: 'NATS', port: 4222 },
];

export default async function globalSetup(): Promise<void> {
  const down: string[] = [];
  for (const service of SERVICES) {
    if (!(await reachable('127.0.0.1', service.port)))
      down.push(`${service.name} (127.0.0.1:${service.port})`);
  }
  if (down.length > 0) {
    throw new Error(
      `these services are not reachable: ${down.join(', ')}. ` +
        'Start them as the README\'s "Local services" section shows, or run .ci/run.',
    );
  }
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
