import { ApolloServer } from '@apollo/server';
import { buildSchema } from 'graphql';
import pino from 'pino';
import { Writable } from 'node:stream';
import {
  type RequestContext,
  type Services,
  createContext,
} from '../../../../src/api/graphql/context';
import type { Logger } from '../../../../src/observability/logger';
import type { FeatureLoaders } from '../../../../src/storage/feature-store';

const schema = buildSchema(`type Query { quiet: Int, chatty: Int }`);

const rootValue = {
  quiet: () => 1,
  chatty: (_args: unknown, ctx: RequestContext) => {
    ctx.log.info('hello');
    ctx.log.info('again');
    return 2;
  },
};

/** Just what createContext touches: the loaders factory. */
const services = {
  features: { loaders: () => ({}) as FeatureLoaders },
  catalogRepository: { profiles: async () => new Map() },
} as unknown as Services;

/** A real pino logger into `lines`, counting the children made of it. */
function logger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const log = pino({ level: 'info' }, sink) as Logger;
  let children = 0;
  const child = log.child.bind(log);
  log.child = ((...args: Parameters<Logger['child']>) => {
    children += 1;
    return child(...args);
  }) as Logger['child'];
  return { log, lines, children: () => children };
}

async function run(query: string, contextValue: RequestContext) {
  const apollo = new ApolloServer<RequestContext>({ schema, rootValue });
  const { body } = await apollo.executeOperation({ query }, { contextValue });
  if (body.kind !== 'single') throw new Error('expected a single result');
  return body.singleResult;
}

describe('the request context', () => {
  test('a request that logs nothing makes no logger, though Apollo copies it', async () => {
    const { log, children } = logger();
    const result = await run('{ quiet }', createContext(services, 'req-1', log));
    expect(result.data).toEqual({ quiet: 1 });
    expect(children()).toBe(0);
  });

  test('a request that logs makes one logger, bound to its request id', async () => {
    const { log, lines, children } = logger();
    const result = await run('{ chatty }', createContext(services, 'req-2', log));
    expect(result.data).toEqual({ chatty: 2 });
    expect(children()).toBe(1);
    expect(lines.map((l) => [l.requestId, l.msg])).toEqual([
      ['req-2', 'hello'],
      ['req-2', 'again'],
    ]);
  });

  test('each context has its own loaders', () => {
    const { log } = logger();
    const a = createContext(services, 'a', log);
    const b = createContext(services, 'b', log);
    expect(a.loaders).not.toBe(b.loaders);
    expect(a.profiles).not.toBe(b.profiles);
  });
});
