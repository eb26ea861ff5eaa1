import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { type GraphQLFieldResolver, type GraphQLSchema, buildSchema } from 'graphql';
import {
  CompiledExecution,
  type OperationRequest,
} from '../../../../src/api/graphql/compiled-execution';
import { compiledOperations } from '../../../../src/api/http/compiled-operations';

type Context = { id: string };

/** A schema whose resolvers count their calls; `boom` and `fail` throw. */
function countingSchema() {
  const calls = { hello: 0, boom: 0, fail: 0 };
  const schema = buildSchema(`
    type Query { hello: String, boom: String }
    type Mutation { fail: Int }
  `);
  const resolve = (
    type: 'Query' | 'Mutation',
    field: string,
    fn: GraphQLFieldResolver<unknown, Context>,
  ) => {
    const target = schema.getType(type) as { getFields(): Record<string, { resolve?: unknown }> };
    target.getFields()[field].resolve = fn;
  };
  resolve('Query', 'hello', () => {
    calls.hello += 1;
    return 'hi';
  });
  resolve('Query', 'boom', () => {
    calls.boom += 1;
    throw new Error('a secret went wrong');
  });
  resolve('Mutation', 'fail', () => {
    calls.fail += 1;
    throw new Error('the write failed');
  });
  return { schema, calls };
}

/** A real Apollo Server wired as recflow's gateway is, counting what reaches the executor. */
function server(schema: GraphQLSchema, execution: CompiledExecution) {
  const { plugin, gateway } = compiledOperations<Context>(schema, execution);
  let executorCalls = 0;
  const load = gateway.load.bind(gateway);
  gateway.load = async (options) => {
    const { executor } = await load(options);
    if (!executor) throw new Error('the gateway gave no executor');
    return {
      executor: (request) => {
        executorCalls += 1;
        return executor(request);
      },
    };
  };
  const reported: string[] = [];
  const reporter: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) reported.push(error.message);
        },
      };
    },
  };
  const apollo = new ApolloServer<Context>({
    gateway,
    plugins: [plugin, reporter],
    formatError: (formatted) => ({ ...formatted, message: `formatted: ${formatted.message}` }),
  });
  const run = async (query: string) => {
    const { body } = await apollo.executeOperation({ query }, { contextValue: { id: 'r' } });
    if (body.kind !== 'single') throw new Error('expected a single result');
    return body.singleResult;
  };
  return { apollo, run, reported, executorCalls: () => executorCalls };
}

describe('compiled operations through a plugin and the gateway', () => {
  test('a clean answer goes out from the plugin; the gateway executor is not reached', async () => {
    const { schema, calls } = countingSchema();
    // Compiled from the first run, so graphql-jit answers.
    const s = server(schema, new CompiledExecution(schema, 1));
    await s.apollo.start();
    expect(await s.run('{ hello }')).toEqual({ data: { hello: 'hi' } });
    expect(await s.run('{ hello }')).toEqual({ data: { hello: 'hi' } });
    expect(calls.hello).toBe(2);
    expect(s.executorCalls()).toBe(0);
    await s.apollo.stop();
  });

  test('a query whose resolver throws runs once; Apollo reports and formats it', async () => {
    const { schema, calls } = countingSchema();
    const s = server(schema, new CompiledExecution(schema, 1));
    await s.apollo.start();
    const result = await s.run('{ boom }');
    expect(calls.boom).toBe(1);
    expect(s.executorCalls()).toBe(1);
    expect(result.data).toEqual({ boom: null });
    expect(result.errors?.[0].message).toBe('formatted: a secret went wrong');
    expect(s.reported).toEqual(['a secret went wrong']);
    await s.apollo.stop();
  });

  test('a mutation whose resolver throws runs once', async () => {
    const { schema, calls } = countingSchema();
    const s = server(schema, new CompiledExecution(schema, 1));
    await s.apollo.start();
    const result = await s.run('mutation { fail }');
    expect(calls.fail).toBe(1);
    expect(result.errors?.[0].message).toBe('formatted: the write failed');
    expect(s.reported).toEqual(['the write failed']);
    await s.apollo.stop();
  });

  test('an operation graphql-js interprets (not compiled yet) takes the same paths', async () => {
    const { schema, calls } = countingSchema();
    const s = server(schema, new CompiledExecution(schema, 0));
    await s.apollo.start();
    expect(await s.run('{ hello }')).toEqual({ data: { hello: 'hi' } });
    const result = await s.run('{ boom }');
    expect(result.errors?.[0].message).toBe('formatted: a secret went wrong');
    expect(calls).toEqual({ hello: 1, boom: 1, fail: 0 });
    expect(s.executorCalls()).toBe(1);
    await s.apollo.stop();
  });

  test('a run that throws is thrown again from the gateway, where Apollo answers it', async () => {
    const { schema } = countingSchema();
    let explosions = 0;
    class Throwing extends CompiledExecution {
      override run(request: OperationRequest) {
        if (request.operationName !== 'Explode') return super.run(request);
        explosions += 1;
        return Promise.reject(new Error('exploded'));
      }
    }
    const s = server(schema, new Throwing(schema, 1));
    await s.apollo.start();
    const { body, http } = await s.apollo.executeOperation(
      { query: 'query Explode { hello }', operationName: 'Explode' },
      { contextValue: { id: 'r' } },
    );
    if (body.kind !== 'single') throw new Error('expected a single result');
    expect(body.singleResult.errors?.[0].message).toBe('formatted: exploded');
    expect(http.status).toBe(500);
    expect(explosions).toBe(1);
    expect(s.executorCalls()).toBe(1);
    expect(s.reported).toEqual(['exploded']);
    await s.apollo.stop();
  });
});
