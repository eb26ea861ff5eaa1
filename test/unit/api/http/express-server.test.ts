import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createExpressServer } from '../../../../src/api/http/express-server';

/** An app with one JSON route, served on a free loopback port. */
async function serve(): Promise<{ app: express.Express; server: Server; url: string }> {
  const app = express();
  app.use(express.json());
  app.post('/echo', (req, res) => {
    res.status(201).json({ body: req.body, header: req.get('x-probe') ?? null });
  });
  const server = createExpressServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { app, server, url: `http://127.0.0.1:${port}` };
}

describe('createExpressServer', () => {
  let served: Awaited<ReturnType<typeof serve>>;
  beforeEach(async () => {
    served = await serve();
  });
  afterEach(async () => {
    await new Promise((resolve) => served.server.close(resolve));
  });

  test('requests and responses are built with the prototypes Express would give them', async () => {
    const seen: Array<{ req: object | null; res: object | null }> = [];
    // Runs before Express's own listener, so it sees them as the server built them.
    served.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      seen.push({ req: Object.getPrototypeOf(req), res: Object.getPrototypeOf(res) });
    });
    await fetch(`${served.url}/echo`, { method: 'POST' });
    expect(seen).toHaveLength(1);
    expect(seen[0].req).toBe(served.app.request);
    expect(seen[0].res).toBe(served.app.response);
  });

  test('Express works as it does on a plain server: body parsing, helpers, status, 404', async () => {
    const answer = await fetch(`${served.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-probe': 'yes' },
      body: JSON.stringify({ a: [1, 2] }),
    });
    expect(answer.status).toBe(201);
    expect(await answer.json()).toEqual({ body: { a: [1, 2] }, header: 'yes' });

    const missing = await fetch(`${served.url}/nowhere`);
    expect(missing.status).toBe(404);
  });

  test('keep-alive requests on one connection each get their own request object', async () => {
    const bodies = await Promise.all(
      [1, 2, 3].map((n) =>
        fetch(`${served.url}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
        }).then((r) => r.json() as Promise<{ body: { n: number } }>),
      ),
    );
    expect(bodies.map((b) => b.body.n)).toEqual([1, 2, 3]);
  });
});
