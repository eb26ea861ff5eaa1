/**
 * CompiledExecution: which operations graphql-jit compiles, and that a
 * compiled operation answers exactly as graphql-js would, errors included.
 */
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  execute,
  parse,
} from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import {
  CompiledExecution,
  compilable,
  lineStartsOf,
} from '../../../../src/api/graphql/compiled-execution';
import { ErrorCode, RecflowError } from '../../../../src/domain/errors';

const REFUSED = new RecflowError(ErrorCode.BAD_USER_INPUT, 'no such shelf', { field: 'shelf' });

const Item: GraphQLObjectType = new GraphQLObjectType({
  name: 'Item',
  fields: () => ({
    id: { type: new GraphQLNonNull(GraphQLID) },
    title: { type: GraphQLString },
    /** Non-null, but null for odd ids: the error bubbles to the nearest nullable parent. */
    code: {
      type: new GraphQLNonNull(GraphQLString),
      resolve: (item: { id: string }) => (Number(item.id) % 2 === 1 ? null : `c${item.id}`),
    },
  }),
});

const EventIn = new GraphQLInputObjectType({
  name: 'EventIn',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    n: { type: new GraphQLNonNull(GraphQLInt) },
    note: { type: GraphQLString },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      greet: {
        type: GraphQLString,
        args: { name: { type: GraphQLString } },
        resolve: (_r, { name }) => `hello ${name}`,
      },
      items: {
        type: new GraphQLList(Item),
        args: { n: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: (_r, { n }) =>
          Array.from({ length: n }, (_, i) => ({ id: String(i), title: `t${i}` })),
      },
      shelf: {
        type: new GraphQLList(new GraphQLNonNull(Item)),
        resolve: async () => {
          throw REFUSED;
        },
      },
      viewer: {
        type: GraphQLString,
        resolve: (_r, _a, ctx: { who: string }) => ctx.who,
      },
    },
  }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      record: {
        type: new GraphQLNonNull(GraphQLInt),
        args: {
          inputs: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(EventIn))) },
        },
        resolve: (_r, { inputs }: { inputs: Array<{ n: number }> }) =>
          inputs.reduce((sum, e) => sum + e.n, 0),
      },
    },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: { ticks: { type: GraphQLInt } },
  }),
});

function request(query: string, variables?: Record<string, unknown>, operationName?: string) {
  return {
    document: parse(query),
    source: query,
    operationName: operationName ?? null,
    variables,
    context: { who: 'ada' },
  };
}

async function graphqlJs(req: ReturnType<typeof request>): Promise<ExecutionResult> {
  return execute({
    schema,
    document: req.document,
    contextValue: req.context,
    variableValues: req.variables,
    operationName: req.operationName,
  });
}

/** What a client sees: the result as JSON. */
const wire = (result: ExecutionResult) => JSON.parse(JSON.stringify(result));

const ITEMS = `query Items($n: Int!) {
  items(n: $n) { id title }
}`;

describe('CompiledExecution', () => {
  test('compiles an operation on its Nth run, not before', async () => {
    const execution = new CompiledExecution(schema, 3);
    const req = request(ITEMS, { n: 2 });
    const expected = wire(await graphqlJs(req));
    for (const compiledAfter of [0, 0, 1, 1]) {
      expect(wire(await execution.run(req))).toEqual(expected);
      expect(execution.compiled).toBe(compiledAfter);
    }
  });

  test('0 never compiles', async () => {
    const execution = new CompiledExecution(schema, 0);
    const req = request(ITEMS, { n: 1 });
    for (let i = 0; i < 5; i++) await execution.run(req);
    expect(execution.compiled).toBe(0);
  });

  test('documents with a string or an object literal are never compiled', () => {
    expect(compilable(parse('{ greet(name: "x") }'), null)).toBe(false);
    expect(compilable(parse('{ greet(name: """x""") }'), null)).toBe(false);
    expect(compilable(parse('query Q($s: String = "x") { greet(name: $s) }'), null)).toBe(false);
    expect(compilable(parse('mutation { record(inputs: [{ id: 1, n: 2 }]) }'), null)).toBe(false);
    expect(compilable(parse('{ items(n: 3) { id } }'), null)).toBe(true);
    expect(compilable(parse('query Q($s: String) { greet(name: $s) }'), null)).toBe(true);
  });

  test('only queries and mutations are compiled, and only the operation asked for', () => {
    const doc = parse(
      'query A { viewer } mutation B { record(inputs: []) } subscription C { ticks }',
    );
    expect(compilable(doc, 'A')).toBe(true);
    expect(compilable(doc, 'B')).toBe(true);
    expect(compilable(doc, 'C')).toBe(false);
    expect(compilable(doc, 'D')).toBe(false);
    expect(compilable(doc, null)).toBe(false);
  });

  test('graphql-jit runs a crafted string literal as code; such documents stay interpreted', async () => {
    // graphql-jit writes literal arguments into its generated code and turns
    // a string that starts with its date marker into `new Date(...)`.
    const marker = '__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d';
    const query = `{ greet(name: "${marker}0),x:(globalThis.__recflowJitProbe=1),y:(0") }`;
    const probe = globalThis as { __recflowJitProbe?: number };
    delete probe.__recflowJitProbe;

    const execution = new CompiledExecution(schema, 1);
    const req = request(query);
    for (let i = 0; i < 3; i++)
      expect(wire(await execution.run(req))).toEqual(wire(await graphqlJs(req)));
    expect(execution.compiled).toBe(0);
    expect(probe.__recflowJitProbe).toBeUndefined();

    // The hole the rule keeps shut: compiled directly, the literal runs.
    const compiled = compileQuery(schema, parse(query));
    if (!isCompiledQuery(compiled)) throw new Error('expected a compiled query');
    await compiled.query(undefined, {}, {});
    expect(probe.__recflowJitProbe).toBe(1);
    delete probe.__recflowJitProbe;
  });

  test('compiled results match graphql-js: data, null bubbling, resolver errors', async () => {
    const cases: Array<ReturnType<typeof request>> = [
      request(ITEMS, { n: 3 }),
      request('query Codes($n: Int!) {\n  items(n: $n) { id code }\n}', { n: 3 }),
      request('query Shelf {\n  viewer\n  shelf { id }\n}'),
      request('mutation Rec($inputs: [EventIn!]!) { record(inputs: $inputs) }', {
        inputs: [
          { id: 'a', n: 2 },
          { id: 7, n: 3, note: null },
        ],
      }),
      request('query Many { a: viewer b: items(n: 1) { id } } query Other { viewer }', {}, 'Many'),
    ];
    let refused = 0;
    for (const req of cases) {
      const execution = new CompiledExecution(schema, 1);
      const expected = await graphqlJs(req);
      const actual = await execution.run(req);
      expect(execution.compiled).toBe(1);
      expect(wire(actual)).toEqual(wire(expected));
      for (const [i, error] of (actual.errors ?? []).entries()) {
        // Apollo and the formatter read these: a graphql-js error, our error inside.
        expect(error).toBeInstanceOf(GraphQLError);
        if (expected.errors?.[i].originalError === REFUSED) {
          expect(error.originalError).toBe(REFUSED);
        }
        expect(error.locations).toEqual(expected.errors?.[i].locations);
      }
    }
  });

  test('variables that do not coerce get graphql-js errors, word for word', async () => {
    const bad: Array<Record<string, unknown>> = [
      {},
      { inputs: null },
      { inputs: [{ id: 'a' }] },
      { inputs: [{ id: 'a', n: 'two' }] },
      { inputs: [{ id: 'a', n: 1, extra: true }] },
      { inputs: [{ id: 'a', n: 2 ** 40 }] },
    ];
    const execution = new CompiledExecution(schema, 1);
    for (const variables of bad) {
      const req = request(
        'mutation Rec($inputs: [EventIn!]!) { record(inputs: $inputs) }',
        variables,
      );
      const expected = await graphqlJs(req);
      const actual = await execution.run(req);
      expect(actual.errors?.length).toBeGreaterThan(0);
      expect(wire(actual)).toEqual(wire(expected));
      // Apollo tells BAD_USER_INPUT from the node graphql-js attaches.
      expect(actual.errors?.[0].nodes?.[0].kind).toBe('VariableDefinition');
    }
    // Each was compiled (a document per request here), and still answered by graphql-js.
    expect(execution.compiled).toBe(bad.length);
  });

  test('a document object is its own cache entry, per operation name', async () => {
    const execution = new CompiledExecution(schema, 2);
    const text = 'query A { viewer } query B { greet }';
    const doc: DocumentNode = parse(text);
    const run = (operationName: string) =>
      execution.run({ document: doc, source: text, operationName, variables: {}, context: {} });
    await run('A');
    await run('B');
    expect(execution.compiled).toBe(0);
    await run('A');
    expect(execution.compiled).toBe(1);
    await run('B');
    expect(execution.compiled).toBe(2);
  });
});

describe('lineStartsOf', () => {
  test('counts \\n, \\r\\n and \\r as line ends, as GraphQL does', () => {
    expect(lineStartsOf('ab\ncd\r\nef\rg')).toEqual([0, 3, 7, 10]);
    expect(lineStartsOf('')).toEqual([0]);
  });
});
