/**
 * Liveness, readiness and metrics endpoints, shared by the gateway and by
 * the worker role's small probe server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Metrics } from '../../observability/metrics';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean | string>;
}

export interface ProbeDeps {
  metrics: Metrics;
  readiness: () => Promise<Readiness>;
  /** True once shutdown began: readiness fails so load balancers move on. */
  draining: () => boolean;
}

export function mountProbes(app: express.Express, deps: ProbeDeps): void {
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', draining: deps.draining() });
  });
  app.get('/ready', async (_req, res) => {
    const readiness = deps.draining()
      ? { ready: false, checks: { draining: true } }
      : await deps.readiness();
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
}

/** The worker role serves only the probes, so it can be health-checked and scraped. */
export class ProbeServer {
  private readonly server: Server;
  private closing = false;

  constructor(deps: Omit<ProbeDeps, 'draining'>) {
    const app = express();
    app.disable('x-powered-by');
    mountProbes(app, { ...deps, draining: () => this.closing });
    this.server = createServer(app);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
