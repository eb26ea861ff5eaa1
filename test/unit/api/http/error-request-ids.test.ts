/**
 * Every error path of the real HttpGateway (direct POST, Express, WebSocket)
 * names the right request in extensions.requestId and in its log line.
 * The services are bare stand-ins: this schema reads none of them.
 */
import { gzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { HttpGateway } from '../../../../src/api/http/server';
import { loadConfig } from '../../../../src/config/config';
import { Metrics } from '../../../../src/observability/metrics';
import { ErrorCode, RecflowError } from '../../../../src/domain/errors';

const SHARED = new RecflowError(ErrorCode.SERVICE_UNAVAILABLE, 'shared outage');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const Query = new GraphQLObjectType({
  name: 'Query',
  fields: {
    broken: {
      type: GraphQLInt,
      args: { ms: { type: GraphQLInt } },
      resolve: async (_s, { ms }) => {
        await sleep(ms ?? 0);
        throw new Error('the disk is on fire');
      },
    },
    busy: {
      type: GraphQLInt,
      args: { ms: { type: GraphQLInt } },
      resolve: async (_s, { ms }) => {
        await sleep(ms ?? 0);
        throw new RecflowError(ErrorCode.SERVICE_UNAVAILABLE, 'try again');
      },
    },
    fine: { type: GraphQLInt, resolve: () => 1 },
    // One error instance thrown by every request (as a coalesced read would).
    shared: {
      type: GraphQLInt,
      args: { ms: { type: GraphQLInt } },
      resolve: async (_s, { ms }) => {
        await sleep(ms ?? 0);
        throw SHARED;
      },
    },
  },
});

const Subscription = new GraphQLObjectType({
  name: 'Subscription',
  fields: {
    ticks: {
      type: GraphQLString,
      subscribe: async function* () {
        yield 1;
        yield 2;
      },
      resolve: () => {
        throw new Error('tick failed');
      },
    },
    refused: {
      type: GraphQLString,
      subscribe: () => {
        throw new RecflowError(ErrorCode.SERVICE_UNAVAILABLE, 'stream down');
      },
    },
  },
});

const schema = new GraphQLSchema({ query: Query, subscription: Subscription });

let gateway: HttpGateway;
let url: string;
const lines: Array<Record<string, any>> = [];
/** Makes building the next request's context throw. */
let failContext = false;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _e, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = loadConfig({
    RECFLOW_PORT: '0',
    RECFLOW_HOST: '127.0.0.1',
    RECFLOW_RATE_LIMIT: '1000',
    RECFLOW_RATE_LIMIT_BURST: '2000',
  });
  const services = {
    features: {
      loaders: () => {
        if (failContext) throw new Error('loaders exploded');
        return {};
      },
    },
    catalogRepository: {},
    streams: { closeAll: () => undefined },
  } as any;
  gateway = new HttpGateway({
    config,
    schema,
    services,
    log: pino({ level: 'info' }, sink),
    metrics: new Metrics(),
    readiness: async () => ({ ready: true }) as any,
  });
  await gateway.start();
  url = gateway.url;
});

afterAll(async () => {
  await gateway.drain(100);
  await gateway.close();
});

async function post(query: string, id: string, gzip = false) {
  const body = JSON.stringify({ query });
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': id,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: gzip ? gzipSync(body) : body,
  });
  return (await r.json()) as any;
}

async function get(query: string, id: string) {
  const r = await fetch(`${url}?query=${encodeURIComponent(query)}`, {
    headers: { 'x-request-id': id, 'apollo-require-preflight': 'true', accept: 'application/json' },
  });
  return (await r.json()) as any;
}

describe('HTTP', () => {
  test.each([
    ['direct POST', (q: string, id: string) => post(q, id)],
    ['Express POST (gzip)', (q: string, id: string) => post(q, id, true)],
    ['Express GET', (q: string, id: string) => get(q, id)],
  ])('%s: masked and retryable errors name their request', async (_what, send) => {
    const masked = await send('{ broken fine }', 'id-masked');
    expect(masked.errors[0].extensions).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      requestId: 'id-masked',
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ requestId: 'id-masked', msg: 'unexpected error' }),
    );
    const busy = await send('{ busy }', 'id-busy');
    expect(busy.errors[0].extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      retryable: true,
      requestId: 'id-busy',
    });
  });

  test('concurrent requests on both paths never swap ids', async () => {
    const jobs = Array.from({ length: 60 }, (_, i) => {
      const id = `conc-${i}`;
      const q = `{ ${['broken', 'busy', 'shared'][i % 3]}(ms: ${(i * 7) % 23}) }`;
      const send = [post, (qq: string, ii: string) => post(qq, ii, true), get][(i >> 1) % 3];
      return send(q, id).then((r: any) => [id, r.errors[0].extensions.requestId]);
    });
    for (const [want, got] of await Promise.all(jobs)) expect(got).toBe(want);
  });

  test('a failure while building the context still names its request', async () => {
    failContext = true;
    try {
      const failed = await post('{ fine }', 'ctx-fail');
      expect(failed.errors[0]).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'ctx-fail' },
      });
      expect(JSON.stringify(failed)).not.toContain('exploded');
      expect(lines).toContainEqual(
        expect.objectContaining({ requestId: 'ctx-fail', msg: 'unexpected error' }),
      );
    } finally {
      failContext = false;
    }
  });

  test('malformed requests are formatted sanely', async () => {
    const empty = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'm1' },
      body: '{}',
    });
    expect(empty.status).toBe(400);
    const b = (await empty.json()) as any;
    expect(b.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(b.errors[0].message).not.toBe('Internal server error');
  });
});

describe('WebSocket', () => {
  function client() {
    return createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
  }

  test('errors in onNext carry a request id, one per operation', async () => {
    const c = client();
    try {
      const seen: any[] = [];
      for (const q of ['subscription { ticks }', 'subscription { ticks }']) {
        await new Promise<void>((resolve, reject) => {
          c.subscribe(
            { query: q },
            { next: (v) => seen.push(v), error: reject, complete: resolve },
          );
        });
      }
      const ids = seen.map((v) => v.errors?.[0]?.extensions?.requestId);
      expect(seen).toHaveLength(4);
      for (const id of ids) expect(typeof id).toBe('string');
      expect(ids[0]).toBe(ids[1]);
      expect(ids[2]).toBe(ids[3]);
      expect(ids[0]).not.toBe(ids[2]);
      const refused: any[] = [];
      await new Promise<void>((resolve, reject) => {
        c.subscribe(
          { query: 'subscription { refused }' },
          {
            next: (v) => refused.push(v),
            error: (e) => {
              refused.push(e);
              resolve();
            },
            complete: resolve,
          },
        );
      });
      expect(JSON.stringify(refused)).toContain('SERVICE_UNAVAILABLE');
      const flat = JSON.stringify(refused);
      expect(flat).toMatch(/"requestId":"[^"]+"/);
    } finally {
      await c.dispose();
    }
  });
});
