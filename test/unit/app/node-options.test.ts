import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { startedWith, WORKER_NODE_OPTIONS } from '../../../src/app/node-options';

describe('startedWith', () => {
  const wanted = '--max-semi-space-size=64';

  it('finds an option on the command line or in NODE_OPTIONS, whatever its value', () => {
    expect(startedWith(wanted, ['--max-semi-space-size=64'], '')).toBe(true);
    expect(startedWith(wanted, [], '--enable-source-maps --max-semi-space-size=32')).toBe(true);
  });

  it('misses an option given to neither, or one that only shares its prefix', () => {
    expect(startedWith(wanted, [], '')).toBe(false);
    expect(startedWith(wanted, ['--max-old-space-size=64'], '--max-semi-space')).toBe(false);
  });

  it('wants every option of a list', () => {
    expect(startedWith(`${wanted} --jitless`, [], wanted)).toBe(false);
    expect(startedWith(`${wanted} --jitless`, ['--jitless'], wanted)).toBe(true);
  });
});

describe('docker-compose.yml', () => {
  const file = path.join(__dirname, '..', '..', '..', 'docker-compose.yml');
  const services = parse(readFileSync(file, 'utf8'), { merge: true }).services as Record<
    string,
    { command?: string[]; environment?: Record<string, string> }
  >;
  const byRole = (role: string) =>
    Object.values(services).filter((s) => s.command?.join(' ') === `serve --role ${role}`);

  it('starts workers with the worker options, and gateways with the defaults', () => {
    expect(byRole('worker')).toHaveLength(2);
    for (const worker of byRole('worker')) {
      expect(worker.environment?.NODE_OPTIONS).toBe(WORKER_NODE_OPTIONS);
      expect(worker.environment?.RECFLOW_DATABASE_URL).toBeDefined();
    }
    expect(byRole('gateway')).toHaveLength(2);
    for (const gateway of byRole('gateway')) {
      expect(gateway.environment?.NODE_OPTIONS).toBeUndefined();
    }
  });
});
