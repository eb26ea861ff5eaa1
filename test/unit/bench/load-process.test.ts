import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoadProcess } from '../../../bench/load-process';

jest.setTimeout(30_000);

let server: Server;
let url: string;
const received: string[] = [];

beforeAll(async () => {
  // Answers every POST with a GraphQL result; "fail" in the body gets an error.
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      const answer = body.includes('fail') ? { errors: [{ message: 'no' }] } : { data: {} };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

test('runs phases in a child process in turn, bodies and groups by request', async () => {
  const load = LoadProcess.start(url);
  try {
    const first = await load.run({
      rate: 500,
      durationMs: 100,
      bodies: ['{"query":"a"}', '{"query":"fail"}'],
      groups: ['ok', 'refused'],
    });
    expect(first.sent).toBe(50);
    expect(first.errors).toBe(25);
    expect(first.groups?.ok.count).toBe(25);
    expect(first.groups?.refused).toBeUndefined();

    received.length = 0;
    const second = await load.run({ rate: 200, durationMs: 50, bodies: ['{"query":"b"}'] });
    expect(second.sent).toBe(10);
    expect(second.errors).toBe(0);
    expect(received).toEqual(Array(10).fill('{"query":"b"}'));
  } finally {
    load.close();
  }
});
