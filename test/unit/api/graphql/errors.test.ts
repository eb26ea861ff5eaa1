import { ApolloServer } from '@apollo/server';
import { GraphQLError, buildSchema } from 'graphql';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { RequestContext } from '../../../../src/api/graphql/context';
import { errorFormatter, errorRequestPlugin } from '../../../../src/api/graphql/errors';
import { ErrorCode, RecflowError } from '../../../../src/domain/errors';

const schema = buildSchema(`type Query {
  broken: Int, busy: Int, refused: Int, fine: Int,
  coded: Int, borrowed: Int, limited(limit: Int! = 10): Int
}`);

const rootValue = {
  broken: () => {
    throw new Error('the disk is on fire');
  },
  busy: () => {
    throw new RecflowError(ErrorCode.SERVICE_UNAVAILABLE, 'try again');
  },
  refused: () => {
    throw new RecflowError(ErrorCode.BAD_USER_INPUT, 'no such thing', { field: 'x' });
  },
  fine: () => 1,
  // A code set on an error by anything but recflow or graphql-js must not unmask it.
  coded: () => {
    throw Object.assign(new Error('pg password=x at 10.0.0.5'), {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  },
  borrowed: () => {
    throw new GraphQLError('Argument "limit" of non-null type "Int!" must not be null. token=x');
  },
  limited: ({ limit }: { limit: number }) => limit,
};

/** A real Apollo server with recflow's formatter and plugin, logging into `lines`. */
function server() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    rootValue,
    formatError: errorFormatter(log),
    plugins: [errorRequestPlugin()],
  });
  return { apollo, lines };
}

async function run(
  apollo: ApolloServer<RequestContext>,
  query: string,
  requestId: string,
  variables?: Record<string, unknown>,
) {
  const contextValue = { requestId } as RequestContext;
  const { body } = await apollo.executeOperation({ query, variables }, { contextValue });
  if (body.kind !== 'single') throw new Error('expected a single result');
  return body.singleResult;
}

describe('errors sent to clients', () => {
  test('an unexpected error is masked, names its request, and is logged with it', async () => {
    const { apollo, lines } = server();
    const result = await run(apollo, '{ broken }', 'req-broken');
    expect(result.errors?.[0]).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-broken' },
    });
    expect(JSON.stringify(result)).not.toContain('on fire');
    expect(lines).toContainEqual(
      expect.objectContaining({ requestId: 'req-broken', msg: 'unexpected error' }),
    );
  });

  test('a retryable recflow error keeps its code and names its request', async () => {
    const { apollo, lines } = server();
    const result = await run(apollo, '{ busy }', 'req-busy');
    expect(result.errors?.[0]).toMatchObject({
      message: 'try again',
      extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, requestId: 'req-busy' },
    });
    expect(lines).toContainEqual(expect.objectContaining({ requestId: 'req-busy' }));
  });

  test('concurrent requests each get their own id', async () => {
    const { apollo } = server();
    const ids = Array.from({ length: 20 }, (_, i) => `req-${i}`);
    const results = await Promise.all(
      ids.map((id, i) => run(apollo, i % 2 ? '{ broken fine }' : '{ busy }', id)),
    );
    expect(results.map((r) => r.errors?.[0].extensions?.requestId)).toEqual(ids);
  });

  test('a caller mistake keeps its details and is not logged', async () => {
    const { apollo, lines } = server();
    const result = await run(apollo, '{ refused }', 'req-refused');
    expect(result.errors?.[0]).toMatchObject({
      message: 'no such thing',
      extensions: { code: 'BAD_USER_INPUT', field: 'x', retryable: false },
    });
    expect(lines).toHaveLength(0);
  });
});

describe('codes only recflow and graphql-js may give', () => {
  test('a code set on a resolver error does not unmask it', async () => {
    const { apollo } = server();
    for (const field of ['coded', 'borrowed']) {
      const result = await run(apollo, `{ ${field} }`, `req-${field}`);
      expect(result.errors?.[0]).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(JSON.stringify(result)).not.toMatch(/password|token/);
    }
  });

  test("graphql-js's refusal of a null argument is BAD_USER_INPUT", async () => {
    const { apollo } = server();
    const result = await run(apollo, 'query($l: Int) { limited(limit: $l) }', 'req-null', {
      l: null,
    });
    expect(result.errors?.[0]).toMatchObject({
      message: 'Argument "limit" of non-null type "Int!" must not be null.',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('errors thrown outside resolvers', () => {
  test('a code on something thrown does not unmask it, however it is wrapped', () => {
    const log = pino({ level: 'silent' });
    const format = errorFormatter(log);
    const thrown = Object.assign(new Error('redis AUTH failed: password=x'), {
      extensions: { code: 'BAD_USER_INPUT' },
    });
    // As Apollo wraps a failed context, and graphql-ws a failed stream.
    const wrappers = [
      new GraphQLError(`Context creation failed: ${thrown.message}`, {
        originalError: thrown,
        extensions: thrown.extensions,
      }),
      new GraphQLError(thrown.message, { originalError: thrown }),
    ];
    for (const error of wrappers) {
      const shown = format({ ...error.toJSON(), extensions: { code: 'BAD_USER_INPUT' } }, error);
      expect(shown).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    }
  });
});
