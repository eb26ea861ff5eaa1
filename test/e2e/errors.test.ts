/**
 * Bad input gets a clear error with a stable code, and nothing from a
 * rejected request is stored. Also: Sandbox, health, readiness, auth.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { connectNats, streamNames } from '../../src/messaging/connection';
import {
  cleanUp,
  eventId,
  gql,
  startRecflow,
  type TestRecflow,
  wsClient,
} from '../support/recflow';

let rf: TestRecflow;

beforeAll(async () => {
  rf = await startRecflow({ env: { RECFLOW_MAX_EVENT_BATCH: '1000' } });
}, 30_000);

afterAll(async () => {
  await rf.stop();
  await cleanUp(rf.env);
});

const RECORD_EVENT = `mutation($input: EventInput!) { recordEvent(input: $input) { status } }`;
const RECORD_EVENTS = `mutation($inputs: [EventInput!]!) {
  recordEvents(inputs: $inputs) { status }
}`;

/** A GraphQL object literal nested `levels` deep: {a:{a:...1}}. */
function nestedObject(levels: number): string {
  return `${'{a:'.repeat(levels)}1${'}'.repeat(levels)}`;
}

function event(overrides: Record<string, unknown> = {}) {
  return { eventId: eventId(), userId: 'u1', itemId: 'i1', type: 'VIEW', ...overrides };
}

async function storedMessages(): Promise<number> {
  const nc = await connectNats(rf.config.nats.url, 'test');
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(streamNames(rf.config.nats).events);
  await nc.close();
  return info.state.messages;
}

describe('invalid events are rejected with a stable code and store nothing', () => {
  const cases: Array<[string, Record<string, unknown>, string, string?]> = [
    ['an unknown event type', { type: 'TELEPORT' }, 'BAD_USER_INPUT'],
    ['an empty event id', { eventId: '' }, 'BAD_USER_INPUT', 'input.eventId'],
    ['an over-long user id', { userId: 'x'.repeat(129) }, 'BAD_USER_INPUT', 'input.userId'],
    ['a value that is not a number', { value: 'lots' }, 'BAD_USER_INPUT'],
    ['a RATE without a value', { type: 'RATE' }, 'BAD_USER_INPUT', 'input.value'],
    ['a rating above the scale', { type: 'RATE', value: 11 }, 'BAD_USER_INPUT', 'input.value'],
    [
      'a timestamp far in the future',
      { occurredAt: '2999-01-01T00:00:00Z' },
      'BAD_USER_INPUT',
      'input.occurredAt',
    ],
    ['a timestamp that is not a date', { occurredAt: 'yesterday' }, 'BAD_USER_INPUT'],
    ['a context that is not an object', { context: [1, 2] }, 'BAD_USER_INPUT'],
    [
      'an oversized context',
      { context: { blob: 'x'.repeat(5000) } },
      'BAD_USER_INPUT',
      'input.context',
    ],
  ];

  test.each(cases.map(([name, overrides, code, field]) => ({ name, overrides, code, field })))(
    '$name',
    async ({ overrides, code, field }) => {
      const before = await storedMessages();
      const r = await gql(rf.url, RECORD_EVENT, { input: event(overrides) });
      expect(r.data?.recordEvent ?? null).toBeNull();
      expect(r.errors?.[0].extensions?.code).toBe(code);
      if (field) expect(r.errors?.[0].extensions?.field).toBe(field);
      expect(await storedMessages()).toBe(before);
    },
  );

  test('a non-finite value written as a huge JSON number is rejected', async () => {
    const body =
      `{"query":${JSON.stringify(RECORD_EVENT)},"variables":{"input":{"eventId":"${eventId()}",` +
      `"userId":"u","itemId":"i","type":"PURCHASE","value":1e999}}}`;
    const response = await fetch(rf.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const r = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(r.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  test('one bad event rejects the whole batch, and names its position', async () => {
    const before = await storedMessages();
    const r = await gql(rf.url, RECORD_EVENTS, {
      inputs: [event(), event({ eventId: '' }), event()],
    });
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].extensions?.field).toBe('inputs[1].eventId');
    expect(await storedMessages()).toBe(before);
  });

  test('a batch over the maximum is BATCH_TOO_LARGE', async () => {
    const before = await storedMessages();
    const inputs = Array.from({ length: 1001 }, () => event());
    const r = await gql(rf.url, RECORD_EVENTS, { inputs });
    expect(r.errors?.[0].extensions?.code).toBe('BATCH_TOO_LARGE');
    expect(r.errors?.[0].extensions?.max).toBe(1000);
    expect(await storedMessages()).toBe(before);
  });

  test('a batch of exactly the maximum is accepted', async () => {
    const inputs = Array.from({ length: 1000 }, () => event());
    const r = await gql(rf.url, RECORD_EVENTS, { inputs });
    expect(r.errors).toBeUndefined();
    expect(r.data.recordEvents).toHaveLength(1000);
  });
});

describe('malformed requests', () => {
  const POPULAR = JSON.stringify({ query: '{ popularItems(limit: 1) { score } }' });

  async function post(
    body: string | Uint8Array | ReadableStream<Uint8Array>,
    headers: Record<string, string>,
    path = '',
  ) {
    const response = await fetch(`${rf.url}${path}`, {
      method: 'POST',
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  test('a body over the limit gets 413, by its declared length or as it streams', async () => {
    const big = JSON.stringify({ query: '{ __typename }', pad: 'x'.repeat(2 * 1024 * 1024) });
    const declared = await post(big, { 'content-type': 'application/json' });
    expect(declared.status).toBe(413);
    expect(declared.body.errors[0].extensions.code).toBe('BAD_REQUEST');

    const bytes = new TextEncoder().encode(big);
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 64 * 1024) {
          controller.enqueue(bytes.subarray(at, at + 64 * 1024));
        }
        controller.close();
      },
    });
    const chunked = await post(streamed, { 'content-type': 'application/json' });
    expect(chunked.status).toBe(413);
    expect(chunked.body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  test('a WebSocket message over the body limit closes its socket with 1009, unread', async () => {
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const socket = new WebSocket(rf.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('message', () => resolve());
      socket.on('error', reject);
    });
    // A query of 3 MiB (the limit is 2 MiB): one unknown field name that,
    // once parsed, graphql-js would spend seconds and gigabytes on.
    const query = `{ ${'a'.repeat(3 * 1024 * 1024)} }`;
    socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query } }));
    expect(await closed).toBe(1009);
    // The gateway went on serving; nothing of the message was run.
    const health = await fetch(rf.url.replace(/\/graphql$/, '/health'));
    expect(health.status).toBe(200);
    // The client's error goes to recflow's log, not to graphql-ws's console.error.
    try {
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });

  test('a bad WebSocket frame closes its socket with 1002; the gateway serves on', async () => {
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const socket = new WebSocket(rf.wsUrl, 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        socket.on('open', () => resolve());
        socket.on('error', reject);
      });
      // A masked frame with the reserved opcode 3 and no payload, written
      // under the client library, which would never send one.
      const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
      raw.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
      expect(await closed).toBe(1002);
      const health = await fetch(rf.url.replace(/\/graphql$/, '/health'));
      expect(health.status).toBe(200);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });

  test('a JSON body that is not an object or array is BAD_REQUEST', async () => {
    for (const body of ['42', '"query"', 'null']) {
      const answer = await post(body, { 'content-type': 'application/json' });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });

  test('a body starting with a UTF-8 byte-order mark is served', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(POPULAR)]);
    const answer = await post(bom, { 'content-type': 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.body.data.popularItems).toBeDefined();
  });

  test('an empty body gets 400 saying what is missing', async () => {
    const answer = await post('', { 'content-type': 'application/json' });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toMatch(/body missing|no keys/i);
  });

  test('a UTF-8 charset, a query string and a gzip-compressed body are all served', async () => {
    const utf8 = await post(POPULAR, { 'content-type': 'application/json; charset=utf-8' });
    expect(utf8.status).toBe(200);
    expect(utf8.body.data.popularItems).toBeDefined();

    const withQuery = await post(POPULAR, { 'content-type': 'application/json' }, '?from=test');
    expect(withQuery.status).toBe(200);

    const { gzipSync } = await import('node:zlib');
    const zipped = await post(gzipSync(POPULAR), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(zipped.status).toBe(200);
    expect(zipped.body.data.popularItems).toBeDefined();
  });

  test('a charset but UTF-8, or a body that does not decompress, is BAD_REQUEST', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{ 'content-type': 'application/json; charset=latin1' }, 415],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400],
      [{ 'content-type': 'application/json', 'content-encoding': 'br' }, 400],
    ];
    for (const [headers, status] of cases) {
      const answer = await post(POPULAR, headers);
      expect({ headers, status: answer.status }).toEqual({ headers, status });
      expect(answer.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });

  test('malformed JSON gets BAD_REQUEST and no stack trace', async () => {
    const response = await fetch(rf.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ popularItems { item { id } } }"',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(text).not.toMatch(/at .*\.js:\d+/);
  });

  test('a query that does not parse gets GRAPHQL_PARSE_FAILED', async () => {
    const r = await gql(rf.url, '{ recommendations(userId: ');
    expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  test('an unknown field gets GRAPHQL_VALIDATION_FAILED', async () => {
    const r = await gql(rf.url, '{ recommendations(userId: "u") { nope } }');
    expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('a null inside an input object given through a variable is BAD_USER_INPUT', async () => {
    const r = await gql(
      rf.url,
      'query($x: ID = 1) { recommendations(userId: "u", filter: { excludeItemIds: [$x] }) ' +
        '{ strategy } }',
      { x: null },
    );
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].message).toMatch(/^Argument "filter" has invalid value/);
  });

  test('limits out of range, or null, are BAD_USER_INPUT', async () => {
    const fields = [
      'recommendations(userId: "u", limit: $l) { strategy }',
      'popularItems(limit: $l) { score }',
      'similarItems(itemId: "i", limit: $l) { score }',
    ];
    for (const field of fields) {
      for (const limit of [0, -1, 100_000, null]) {
        const r = await gql(rf.url, `query($l: Int) { ${field} }`, { l: limit });
        expect([field, limit, r.errors?.[0].extensions?.code]).toEqual([
          field,
          limit,
          'BAD_USER_INPUT',
        ]);
      }
    }
  });

  test('catalogue input is validated too', async () => {
    const bad = [
      [''],
      [' Drama'],
      ['Drama\u00a0'],
      ['Drama\u0085'],
      ['Dra\u009fma'],
      ['ok', 'tab\t'],
    ];
    for (const categories of bad) {
      const r = await gql(
        rf.url,
        `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created } }`,
        { i: [{ id: 'a', categories }] },
      );
      expect(r.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'inputs[0].categories',
      });
    }
    const item = await gql(rf.url, '{ item(id: "a") { id } }');
    expect(item.data.item).toBeNull();
  });

  test('a category a query names follows the catalogue rules', async () => {
    const popular = `query($c: String) { popularItems(category: $c) { score } }`;
    for (const c of ['', ' Drama', 'Drama\u0085', 'x'.repeat(101)]) {
      const r = await gql(rf.url, popular, { c });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'category' });
    }
    expect((await gql(rf.url, popular, { c: 'Drama' })).errors).toBeUndefined();

    const recommend = `query($f: RecommendationFilter) {
      recommendations(userId: "u", filter: $f) { strategy }
    }`;
    for (const name of ['includeCategories', 'excludeCategories']) {
      const r = await gql(rf.url, recommend, { f: { [name]: ['Drama', 'Drama '] } });
      expect(r.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: `filter.${name}`,
      });
    }
  });

  test('item attributes nested deeper than 32 levels are BAD_USER_INPUT', async () => {
    let attributes: unknown = {};
    for (let i = 0; i < 40; i += 1) attributes = { a: attributes };
    const r = await gql(
      rf.url,
      `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created } }`,
      { i: [{ id: 'deep', attributes }] },
    );
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'inputs[0].attributes',
    });
    expect((await gql(rf.url, '{ item(id: "deep") { id } }')).data.item).toBeNull();
  });

  test('text PostgreSQL cannot store (half a surrogate pair) is BAD_USER_INPUT', async () => {
    const upsert = `mutation($i: [ItemInput!]!) { upsertItems(inputs: $i) { created } }`;
    for (const [input, field] of [
      [{ id: 'lone', title: 'a\ud800b' }, 'inputs[0].title'],
      [{ id: 'lone', categories: ['a\ud800'] }, 'inputs[0].categories'],
      [{ id: 'lone', attributes: { k: 'v\udc00' } }, 'inputs[0].attributes'],
      [{ id: 'lone', attributes: { 'k\udc00': 1 } }, 'inputs[0].attributes'],
    ] as const) {
      const r = await gql(rf.url, upsert, { i: [input] });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await gql(rf.url, '{ item(id: "lone") { id } }')).data.item).toBeNull();

    // An event is refused before JetStream stores it, rather than accepted and never applied.
    const before = await storedMessages();
    const r = await gql(
      rf.url,
      `mutation($e: [EventInput!]!) { recordEvents(inputs: $e) { status } }`,
      {
        e: [
          { eventId: eventId(), userId: 'u', itemId: 'i', type: 'VIEW' },
          { eventId: eventId(), userId: 'u', itemId: 'i', type: 'VIEW', context: { k: 'v\ud800' } },
        ],
      },
    );
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'inputs[1].context',
    });
    expect(await storedMessages()).toBe(before);
  });
});

describe('operation limits', () => {
  test('over ten root fields is QUERY_TOO_COMPLEX and runs nothing', async () => {
    const before = await storedMessages();
    const fields = Array.from(
      { length: 11 },
      (_, i) =>
        `a${i}: recordEvent(input: { eventId: "${eventId()}", userId: "u", itemId: "i", ` +
        'type: VIEW }) { status }',
    );
    const r = await gql(rf.url, `mutation { ${fields.join(' ')} }`);
    expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.data).toBeUndefined();
    expect(await storedMessages()).toBe(before);
  });

  test('fragments that fan out past 2,000 fields are QUERY_TOO_COMPLEX', async () => {
    // 1.1 KB of text, 41,371 fields written out (a hostile review's document).
    const aliases = (prefix: string, field: string, spread?: string) =>
      Array.from(
        { length: 14 },
        (_, i) => `${prefix}${i}: ${field}${spread ? ` { ...${spread} }` : ''}`,
      ).join(' ');
    const query = `query Q($u: ID!) { recommendations(userId: $u) { ...L } }
      fragment L on RecommendationList { ${aliases('i', 'items', 'R')} }
      fragment R on Recommendation { ${aliases('j', 'item', 'I')} }
      fragment I on Item { ${aliases('s', 'stats', 'S')} }
      fragment S on ItemStats { ${aliases('e', 'events')} }`;
    const r = await gql(rf.url, query, { u: 'u' });
    expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.errors?.[0].message).toContain('41371 fields');
    expect(r.data).toBeUndefined();
  });

  test('over WebSocket, request errors get the codes they get over HTTP', async () => {
    const client = wsClient(rf.wsUrl);
    const codeOf = (query: string, variables?: Record<string, unknown>) =>
      new Promise<string>((resolve) => {
        client.subscribe(
          { query, variables },
          {
            next: (d: any) => resolve(d?.errors?.[0]?.extensions?.code ?? 'data'),
            error: (e: any) => resolve(e?.[0]?.extensions?.code ?? 'error'),
            complete: () => resolve('complete'),
          },
        );
      });
    const live =
      'subscription($l: Int!) { recommendationsUpdated(userId: "u", limit: $l) { strategy } }';
    expect(await codeOf(live, { l: 'x' })).toBe('BAD_USER_INPUT');
    expect(await codeOf('subscription { nope }')).toBe('GRAPHQL_VALIDATION_FAILED');
    await client.dispose();
  });

  test("documents that would exhaust the parser's stack are QUERY_TOO_COMPLEX", async () => {
    // 20 KB of nested input objects, and a chain of 5,000 fragments (183 KB):
    // each overflowed graphql-js's recursion and came back masked (a hostile
    // review's documents).
    const nested = `{ recommendations(userId: "u", context: ${nestedObject(2000)}) { strategy } }`;
    const chain = Array.from({ length: 5000 }, (_, i) =>
      i < 4999
        ? `fragment F${i} on Query { __typename ...F${i + 1} }`
        : `fragment F${i} on Query { __typename }`,
    );
    for (const query of [nested, `{ ...F0 } ${chain.join(' ')}`]) {
      const r = await gql(rf.url, query);
      expect(r.status).toBe(400);
      expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(r.data).toBeUndefined();
    }
  });

  test('introspection through chained fragments is QUERY_TOO_COMPLEX', async () => {
    // 100 fragments, each 60 inline fragments deep around the next: graphql-js's
    // introspection-depth rule recursed 6,000 levels (a hostile review's).
    const wrap = (inner: string) => `${'... on __Type { '.repeat(60)}${inner}${' }'.repeat(60)}`;
    const chain = Array.from(
      { length: 100 },
      (_, i) => `fragment T${i} on __Type { ${wrap(i < 99 ? `...T${i + 1}` : 'name')} }`,
    );
    const r = await gql(rf.url, `{ __type(name: "Query") { ...T0 } } ${chain.join(' ')}`);
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  test('two parallel chains of fragments are QUERY_TOO_COMPLEX, not an overflow', async () => {
    // graphql-js compares same-named fields through both chains by recursion:
    // 20 fragments of 62 levels each went 1,240 deep (a hostile review's).
    const fragment = (name: string, i: number) =>
      `fragment ${name}${i} on Query { ${'a { '.repeat(62)}` +
      `${i < 19 ? `...${name}${i + 1}` : 'b'}${' }'.repeat(62)} }`;
    const chains = Array.from({ length: 20 }, (_, i) => `${fragment('F', i)} ${fragment('G', i)}`);
    const r = await gql(rf.url, `{ a { ...F0 } a { ...G0 } } ${chains.join(' ')}`);
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  test('the standard introspection query is answered (Apollo Sandbox sends its like)', async () => {
    const r = await gql(rf.url, getIntrospectionQuery({ descriptions: true }));
    expect(r.errors).toBeUndefined();
    expect(r.data.__schema.queryType.name).toBe('Query');
  });

  test('a document of thousands of operations is QUERY_TOO_COMPLEX', async () => {
    const operations = Array.from({ length: 5000 }, (_, i) => `query q${i} { __typename }`);
    const response = await fetch(rf.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: operations.join(' '), operationName: 'q0' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  test('a GET whose query nests too deeply is QUERY_TOO_COMPLEX too', async () => {
    const query = `{ popularItems(limit: 1, filter: ${nestedObject(100)}) { score } }`;
    const response = await fetch(`${rf.url}?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  test('a GET query after 1,000 other parameters is still checked', async () => {
    // Express's parser stops at 1,000 parameters; Apollo reads them all.
    const query = `{ popularItems(limit: 1, filter: ${nestedObject(100)}) { score } }`;
    const padding = 'a&'.repeat(1000);
    const response = await fetch(`${rf.url}?${padding}query=${encodeURIComponent(query)}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  test('a bad persisted-query extension is BAD_REQUEST, not an internal error', async () => {
    for (const persistedQuery of [{ version: 2 }, { version: 1, sha256Hash: 'f'.repeat(64) }]) {
      const response = await fetch(rf.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery } }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as any;
      expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });

  test('a subscription sent over HTTP is BAD_REQUEST, pointing at WebSocket', async () => {
    const r = await gql(
      rf.url,
      'subscription { recommendationsUpdated(userId: "u", limit: 2) { strategy } }',
    );
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    expect(r.errors?.[0].message).toContain('WebSocket');
  });

  test('over WebSocket, such a document is refused and the socket lives on', async () => {
    const client = wsClient(rf.wsUrl);
    const run = (query: string) =>
      new Promise<string>((resolve) => {
        client.subscribe(
          { query },
          {
            next: (d: any) => resolve(d?.errors?.[0]?.extensions?.code ?? 'data'),
            error: (e: any) => resolve(e?.[0]?.extensions?.code ?? `closed ${e?.code}`),
            complete: () => resolve('complete'),
          },
        );
      });
    const nested = `{ popularItems(limit: 1, filter: ${nestedObject(2000)}) { score } }`;
    expect(await run(nested)).toBe('QUERY_TOO_COMPLEX');
    // A syntax error too gets its own error (graphql-ws alone would close the socket).
    expect(await run('{ popularItems(limit: 1) { score "unterminated }')).toBe(
      'GRAPHQL_PARSE_FAILED',
    );
    expect(await run('{ popularItems(limit: 1) { score } }')).toBe('data');
    await client.dispose();
  });

  test('ten aliased root fields are allowed', async () => {
    const fields = Array.from({ length: 10 }, (_, i) => `p${i}: popularItems(limit: 1) { score }`);
    const r = await gql(rf.url, `{ ${fields.join(' ')} }`);
    expect(r.errors).toBeUndefined();
  });

  test.each([
    ['recommendations', 'query($u: ID!) { recommendations(userId: $u) { strategy } }', 'userId'],
    ['user', 'query($u: ID!) { user(id: $u) { id } }', 'id'],
    ['similarItems', 'query($u: ID!) { similarItems(itemId: $u) { score } }', 'itemId'],
  ])('an id with a lone surrogate is BAD_USER_INPUT in %s', async (_name, query, field) => {
    // It has no UTF-8 form: it would read the id stored with U+FFFD instead.
    const r = await gql(rf.url, query, { u: 'a\ud800b' });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.errors?.[0].message).toMatch(/well-formed Unicode/);
  });

  test('an id with a lone surrogate is BAD_USER_INPUT in a subscription', async () => {
    const client = wsClient(rf.wsUrl);
    const code = await new Promise<unknown>((resolve) => {
      client.subscribe(
        {
          query: 'subscription($u: ID!) { recommendationsUpdated(userId: $u) { strategy } }',
          variables: { u: 'a\ud800b' },
        },
        {
          next: (d: any) => resolve(d?.errors?.[0]?.extensions),
          error: (e: any) => resolve(e?.[0]?.extensions ?? `closed ${e?.code}`),
          complete: () => resolve('complete'),
        },
      );
    });
    await client.dispose();
    expect(code).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  test('a diversity cap below one is BAD_USER_INPUT', async () => {
    const r = await gql(
      rf.url,
      '{ recommendations(userId: "u", filter: { maxPerCategory: 0 }) { strategy } }',
    );
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.maxPerCategory',
    });
  });

  test.each([-0.1, 1.5])('an MMR trade-off of %p is BAD_USER_INPUT', async (lambda) => {
    const r = await gql(
      rf.url,
      `{ recommendations(userId: "u", filter: { mmrLambda: ${lambda} }) { strategy } }`,
    );
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.mmrLambda',
    });
  });

  test.each([
    ['includeCategories', 51],
    ['excludeCategories', 51],
    ['excludeItemIds', 1001],
  ])('a filter with %p of %p entries is BAD_USER_INPUT, before any read', async (name, n) => {
    const query = `query($f: RecommendationFilter) {
      recommendations(userId: "u", filter: $f) { strategy }
    }`;
    const entries = Array.from({ length: n }, (_, i) => `junk-${i}`);
    const r = await gql(rf.url, query, { f: { [name]: entries } });
    expect(r.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: `filter.${name}`,
    });
    const ok = await gql(rf.url, query, { f: { [name]: entries.slice(0, n - 1) } });
    expect(ok.errors).toBeUndefined();
  });

  test('an event id ending in whitespace is refused (no trimmed twin)', async () => {
    const id = eventId();
    const first = await gql(rf.url, RECORD_EVENT, { input: event({ eventId: id }) });
    expect(first.data.recordEvent.status).toBe('ACCEPTED');
    const twin = await gql(rf.url, RECORD_EVENT, { input: event({ eventId: `${id} ` }) });
    expect(twin.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.eventId',
    });
  });
});

describe('operations surface', () => {
  test('GET of the endpoint from a browser serves Apollo Sandbox', async () => {
    const response = await fetch(rf.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  test('health, readiness and metrics answer', async () => {
    const base = rf.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { postgres: true, redis: true, nats: true, consumer: 'running' },
    });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
      /recflow_events_ingested_total|recflow_graphql_operations_total/,
    );
  });

  test("responses carry the caller's correlation id", async () => {
    const response = await fetch(rf.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-123' },
      body: JSON.stringify({ query: '{ popularItems(limit: 1) { score } }' }),
    });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
  });
});

describe('authentication and rate limits', () => {
  let locked: TestRecflow;
  const key = 'k'.repeat(32);

  beforeAll(async () => {
    locked = await startRecflow({
      role: 'gateway',
      env: { RECFLOW_API_KEYS: key, RECFLOW_RATE_LIMIT: '5', RECFLOW_RATE_LIMIT_BURST: '5' },
    });
  }, 30_000);

  afterAll(async () => {
    await locked.stop();
    await cleanUp(locked.env);
  });

  test('requests without a valid key are UNAUTHENTICATED', async () => {
    const none = await gql(locked.url, '{ popularItems { score } }');
    expect(none.status).toBe(401);
    expect(none.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const wrong = await gql(locked.url, '{ popularItems { score } }', undefined, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    const right = await gql(locked.url, '{ popularItems { score } }', undefined, {
      authorization: `Bearer ${key}`,
    });
    expect(right.status).toBe(200);
  });

  test('operations over WebSocket spend from the same budget', async () => {
    await new Promise((r) => setTimeout(r, 1200)); // refill after the HTTP tests
    const client = wsClient(locked.wsUrl, { authorization: `Bearer ${key}` });
    const codes: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      await new Promise<void>((resolve) => {
        client.subscribe(
          { query: '{ popularItems(limit: 1) { score } }' },
          {
            next: () => codes.push('ok'),
            error: (e: any) => {
              codes.push(e?.[0]?.extensions?.code ?? 'error');
              resolve();
            },
            complete: () => resolve(),
          },
        );
      });
    }
    await client.dispose();
    expect(codes).toContain('ok');
    expect(codes).toContain('RATE_LIMITED');
  });

  test('a client over its budget gets RATE_LIMITED with a retry hint', async () => {
    const answers = [];
    for (let i = 0; i < 10; i += 1) {
      answers.push(
        await gql(locked.url, '{ popularItems { score } }', undefined, {
          authorization: `Bearer ${key}`,
        }),
      );
    }
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(limited[0].errors?.[0].extensions?.retryAfterMs).toBeGreaterThan(0);
  });
});
