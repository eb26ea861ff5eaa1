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
  Kind,
  type OperationDefinitionNode,
  execute,
  parse,
} from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import {
  CompiledExecution,
  MAX_COMPILED_FIELDS,
  MAX_COMPILED_SOURCE,
  MAX_COMPILED_VARIABLES,
  MAX_PLANS,
  compilable,
  lineStartsOf,
} from '../../../../src/api/graphql/compiled-execution';
import { guardResolvers, recflowSchema } from '../../../../src/api/graphql/schema';
import { ErrorCode, RecflowError } from '../../../../src/domain/errors';

const REFUSED = new RecflowError(ErrorCode.BAD_USER_INPUT, 'no such shelf', { field: 'shelf' });

const Item: GraphQLObjectType = new GraphQLObjectType({
  name: 'Item',
  fields: () => ({
    id: { type: new GraphQLNonNull(GraphQLID) },
    title: { type: GraphQLString },
    /** Arrays that throw when walked: a proxy, their own iterator, an entry's getter. */
    proxyList: {
      type: new GraphQLList(GraphQLInt),
      resolve: () =>
        new Proxy([1, 2], {
          get(target, key, receiver) {
            if (key === '1') throw new Error('the proxy broke');
            return Reflect.get(target, key, receiver);
          },
        }),
    },
    ownIteratorList: {
      type: new GraphQLList(GraphQLInt),
      resolve: () =>
        Object.assign([1, 2], {
          [Symbol.iterator]() {
            throw new Error('the iterator broke');
          },
        }),
    },
    getterList: {
      type: new GraphQLList(GraphQLInt),
      resolve: () =>
        Object.defineProperty([1, 2], 1, {
          get() {
            throw new Error('the entry broke');
          },
        }),
    },
    /** A list entry whose then throws. */
    entryThenList: {
      type: new GraphQLList(GraphQLInt),
      resolve: () => [
        1,
        {
          then() {
            throw new Error('then broke');
          },
        },
      ],
    },
    /** Lists in a list, one of whose entries throws when settled. */
    matrix: {
      type: new GraphQLList(new GraphQLList(GraphQLInt)),
      resolve: () => [
        [1],
        [
          1,
          {
            then() {
              throw new Error('then broke');
            },
          },
        ],
      ],
    },
    /** Native promises whose native then throws: through its constructor, or a proxy. */
    constructorPromise: {
      type: GraphQLInt,
      resolve: () =>
        Object.defineProperty(Promise.resolve(1), 'constructor', {
          get() {
            throw new Error('the constructor broke');
          },
        }),
    },
    proxyPromise: {
      type: GraphQLInt,
      resolve: () =>
        new Proxy(Promise.resolve(1), {
          get(target, key) {
            if (key === 'then') {
              return () => {
                throw new Error('then broke');
              };
            }
            return Reflect.get(target, key);
          },
        }),
    },
    /** Native promises whose then throws: their own, or their class's. */
    ownThenPromise: {
      type: GraphQLInt,
      resolve: () =>
        Object.assign(Promise.resolve(1), {
          then() {
            throw new Error('then broke');
          },
        }),
    },
    subclassPromise: {
      type: GraphQLInt,
      resolve: () => {
        class Broken extends Promise<number> {
          override then(): never {
            throw new Error('then broke');
          }
        }
        return Broken.resolve(1);
      },
    },
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
      /** The same items, later: what graphql-jit does after a promise runs outside its catch. */
      laterItems: {
        type: new GraphQLList(Item),
        args: { n: { type: new GraphQLNonNull(GraphQLInt) } },
        resolve: async (_r, { n }) =>
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
      /** A list whose iterator throws part way. */
      brokenList: {
        type: new GraphQLList(GraphQLInt),
        resolve: () =>
          (function* numbers() {
            yield 1;
            throw new Error('the iterator broke');
          })(),
      },
      /** The same, behind a promise. */
      laterBrokenList: {
        type: new GraphQLList(GraphQLInt),
        resolve: async () =>
          (function* numbers() {
            yield 1;
            throw new Error('the iterator broke');
          })(),
      },
      /** A thenable whose then throws. */
      brokenThen: {
        type: GraphQLInt,
        resolve: () => ({
          then() {
            throw new Error('then broke');
          },
        }),
      },
      /** Rejects with an object dressed as a client error. */
      thrownObject: {
        type: GraphQLInt,
        resolve: () =>
          Promise.reject({ message: 'db password is x', extensions: { code: 'BAD_USER_INPUT' } }),
      },
      /** An item whose title getter throws, as a presenter's view could. */
      faulty: {
        type: Item,
        resolve: async () => ({
          id: '2',
          get title(): string {
            throw new Error('the view broke');
          },
        }),
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
guardResolvers(schema);

/** The operation Apollo would resolve: the one named, or the only one. */
function operationOf(document: DocumentNode, name: string | null) {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (name === null) return operations.length === 1 ? operations[0] : undefined;
  return operations.find((o) => o.name?.value === name);
}

function request(query: string, variables?: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  return {
    document,
    source: query,
    operation: operationOf(document, operationName ?? null),
    operationName: operationName ?? null,
    variables,
    context: { who: 'ada' },
  };
}

/** May the operation named (or the only one) of this text be compiled? */
const mayCompile = (query: string, name: string | null = null) => {
  const document = parse(query);
  const operation = operationOf(document, name);
  if (!operation) throw new Error(`no operation ${name}`);
  return compilable(document, operation, query);
};

async function graphqlJs(req: ReturnType<typeof request>): Promise<ExecutionResult> {
  return execute({
    schema,
    document: req.document,
    contextValue: req.context,
    variableValues: req.variables,
    operationName: req.operationName,
  });
}

/** Runs `req` compiled on its first run, and checks the answer is graphql-js's. */
async function compiledAsGraphqlJs(req: ReturnType<typeof request>): Promise<ExecutionResult> {
  const execution = new CompiledExecution(schema, 1);
  const answer = await execution.run(req);
  expect(execution.compiled).toBe(1);
  expect(wire(answer)).toEqual(wire(await graphqlJs(req)));
  return answer;
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
    expect(mayCompile('{ greet(name: "x") }')).toBe(false);
    expect(mayCompile('{ greet(name: """x""") }')).toBe(false);
    expect(mayCompile('query Q($s: String = "x") { greet(name: $s) }')).toBe(false);
    expect(mayCompile('mutation { record(inputs: [{ id: 1, n: 2 }]) }')).toBe(false);
    expect(mayCompile('{ items(n: 3) { id } }')).toBe(true);
    expect(mayCompile('query Q($s: String) { greet(name: $s) }')).toBe(true);
  });

  test('nor documents with a directive, or a name starting with __ but __typename', () => {
    expect(mayCompile('query Q($s: Boolean!) { viewer @skip(if: $s) }')).toBe(false);
    expect(
      mayCompile('{ items(n: 1) { ...F @include(if: true) } } fragment F on Item { id }'),
    ).toBe(false);
    expect(mayCompile('{ __proto__: viewer }')).toBe(false);
    expect(mayCompile('query Q($__proto__: String) { greet(name: $__proto__) }')).toBe(false);
    expect(mayCompile('{ __schema { queryType { name } } }')).toBe(false);
    expect(mayCompile('{ __typename items(n: 1) { __typename id } }')).toBe(true);
  });

  test(`nor operations over ${MAX_COMPILED_FIELDS} fields with fragments written out`, () => {
    // Each spread of F adds its two fields again: 1 + 2 × k fields in all.
    const spreads = (k: number) =>
      `{ items(n: 1) { ${Array.from({ length: k }, (_, i) => `a${i}: id ...F`).join(' ')} } }` +
      ' fragment F on Item { title code }';
    const fields = (k: number) => 1 + 3 * k;
    const largest = Math.floor((MAX_COMPILED_FIELDS - 1) / 3);
    expect(fields(largest)).toBeLessThanOrEqual(MAX_COMPILED_FIELDS);
    expect(mayCompile(spreads(largest))).toBe(true);
    expect(mayCompile(spreads(largest + 1))).toBe(false);
  });

  test('only queries and mutations are compiled', () => {
    const text = 'query A { viewer } mutation B { record(inputs: []) } subscription C { ticks }';
    expect(mayCompile(text, 'A')).toBe(true);
    expect(mayCompile(text, 'B')).toBe(true);
    expect(mayCompile(text, 'C')).toBe(false);
  });

  test('an operation Apollo did not resolve goes to graphql-js, which says why', async () => {
    const execution = new CompiledExecution(schema, 1);
    const text = '{ viewer }';
    await execution.run(request(text));
    for (const operationName of ['', 'Nope']) {
      const req = { ...request(text), operation: undefined, operationName };
      const answer = await execution.run(req);
      expect(answer.errors?.[0].message).toMatch(/Unknown operation named/);
      expect(wire(answer)).toEqual(wire(await graphqlJs(req)));
    }
  });

  test("Apollo's shared document is never written to", async () => {
    const execution = new CompiledExecution(schema, 1);
    const text = 'query A($n: Int!) { items(n: $n) { ...F id } } fragment F on Item { title }';
    const req = request(text, { n: 2 }, 'A');
    const before = JSON.stringify(req.document);
    await execution.run(req);
    await execution.run(req);
    expect(execution.compiled).toBe(1);
    expect(JSON.stringify(req.document)).toBe(before);
  });

  test(`compiled plans are kept for the ${MAX_PLANS} operations used last`, async () => {
    const execution = new CompiledExecution(schema, 1);
    const first = request('{ viewer }');
    await execution.run(first);
    for (let i = 0; i < MAX_PLANS; i++) await execution.run(request(`{ a${i}: viewer }`));
    expect(execution.compiled).toBe(MAX_PLANS + 1);
    expect(execution.planned).toBe(MAX_PLANS);
    // The first one's plan was dropped: its next run compiles it again.
    await execution.run(first);
    expect(execution.compiled).toBe(MAX_PLANS + 2);
  });

  test('operations never compiled, or still counting, do not push plans out', async () => {
    const execution = new CompiledExecution(schema, 2);
    const hot = request(ITEMS, { n: 1 });
    await execution.run(hot);
    await execution.run(hot);
    expect(execution.compiled).toBe(1);
    for (let i = 0; i < 3 * MAX_PLANS; i++) {
      await execution.run(request(`{ greet(name: "one-off ${i}") }`));
      await execution.run(request(`{ b${i}: viewer }`));
      await execution.run(hot);
    }
    expect(execution.compiled).toBe(1);
    expect(execution.planned).toBe(1);
  });

  test('graphql-jit runs a crafted string literal as code; never compiled here', async () => {
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

  test('each operation of a document has its own count', async () => {
    const execution = new CompiledExecution(schema, 2);
    const text = 'query A { viewer } query B { greet }';
    const document: DocumentNode = parse(text);
    const run = (name: string) =>
      execution.run({
        ...request(text, {}, name),
        document,
        operation: operationOf(document, name),
      });
    await run('A');
    await run('B');
    expect(execution.compiled).toBe(0);
    await run('A');
    expect(execution.compiled).toBe(1);
    await run('B');
    expect(execution.compiled).toBe(2);
  });
});

describe('CompiledExecution, from a second hostile review', () => {
  test('a mutation of more than one root field is not compiled; a query is', () => {
    const one = 'mutation M($i: [EventIn!]!) { record(inputs: $i) }';
    expect(mayCompile(one)).toBe(true);
    expect(
      mayCompile('mutation M($i: [EventIn!]!) { a: record(inputs: $i) b: record(inputs: $i) }'),
    ).toBe(false);
    expect(
      mayCompile(
        'mutation M($i: [EventIn!]!) { ...R ...R } fragment R on Mutation { record(inputs: $i) }',
      ),
    ).toBe(false);
    expect(mayCompile('{ viewer items(n: 1) { id } }')).toBe(true);
  });

  test(`at most ${MAX_COMPILED_VARIABLES} variables and ${MAX_COMPILED_SOURCE} characters`, () => {
    const withVariables = (n: number) => {
      const names = Array.from({ length: n }, (_, i) => `$v${i}`);
      return `query Q(${names.map((v) => `${v}: Int!`).join(' ')}) { viewer ${names
        .map((v, i) => `a${i}: items(n: ${v}) { id }`)
        .join(' ')} }`;
    };
    expect(mayCompile(withVariables(MAX_COMPILED_VARIABLES))).toBe(true);
    expect(mayCompile(withVariables(MAX_COMPILED_VARIABLES + 1))).toBe(false);
    const padded = (length: number) => {
      const text = '{ viewer }';
      return text + ' '.repeat(length - text.length);
    };
    expect(mayCompile(padded(MAX_COMPILED_SOURCE))).toBe(true);
    expect(mayCompile(padded(MAX_COMPILED_SOURCE + 1))).toBe(false);
  });

  test('a getter that throws is a field error when compiled too', async () => {
    const req = request('query F {\n  faulty { id title }\n}');
    const answer = await compiledAsGraphqlJs(req);
    expect(answer.errors?.[0].message).toBe('the view broke');
  });

  test('lists whose iterator throws, and thenables whose then throws: field errors', async () => {
    const fields = [
      'brokenList',
      'laterBrokenList',
      'brokenThen',
      'proxyList',
      'ownIteratorList',
      'getterList',
      'entryThenList',
      'ownThenPromise',
      'subclassPromise',
      'matrix',
      'constructorPromise',
      'proxyPromise',
    ];
    for (const field of fields) {
      const nested = !['brokenList', 'laterBrokenList', 'brokenThen'].includes(field);
      const req = request(
        nested
          ? `query B { viewer laterItems(n: 2) { id ${field} } }`
          : `query B { viewer ${field} }`,
      );
      const answer = await compiledAsGraphqlJs(req);
      expect(answer.errors).toHaveLength(nested ? 2 : 1);
    }
  });

  test('a thrown object with a code is an "Unexpected error value", without the code', async () => {
    const req = request('query T { thrownObject }');
    const answer = await compiledAsGraphqlJs(req);
    expect(answer.errors?.[0].message).toMatch(/^Unexpected error value: /);
    expect(answer.errors?.[0].extensions).toEqual({});
  });

  test("every field of recflow's schema is read through a resolver", async () => {
    const recflow = await recflowSchema();
    const bare: string[] = [];
    for (const type of Object.values(recflow.getTypeMap())) {
      if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!field.resolve) bare.push(`${type.name}.${field.name}`);
      }
    }
    expect(bare).toEqual([]);
  });

  test('a compiled query that throws is run by graphql-js, now and later', async () => {
    const execution = new CompiledExecution(schema, 1);
    const req = request(ITEMS, { n: 2 });
    await execution.run(req);
    expect(execution.compiled).toBe(1);
    breakCompiledPlans(execution);
    expect(wire(await execution.run(req))).toEqual(wire(await graphqlJs(req)));
    expect(wire(await execution.run(req))).toEqual(wire(await graphqlJs(req)));
  });

  test("a compiled mutation's throw stands; later runs are graphql-js's", async () => {
    const execution = new CompiledExecution(schema, 1);
    const req = request('mutation M($i: [EventIn!]!) { record(inputs: $i) }', {
      i: [{ id: 'a', n: 4 }],
    });
    await execution.run(req);
    breakCompiledPlans(execution);
    await expect(execution.run(req)).rejects.toThrow('compiled plan broke');
    expect(wire(await execution.run(req))).toEqual({ data: { record: 4 } });
  });
});

/** Makes every compiled plan throw when run (reaching into the class, for these tests). */
function breakCompiledPlans(execution: CompiledExecution): void {
  const plans = (execution as unknown as { plans: Map<unknown, { query: unknown }> }).plans;
  expect(plans.size).toBeGreaterThan(0);
  for (const plan of plans.values()) {
    plan.query = {
      query: () => {
        throw new Error('compiled plan broke');
      },
    };
  }
}

describe('lineStartsOf', () => {
  test('counts \\n, \\r\\n and \\r as line ends, as GraphQL does', () => {
    expect(lineStartsOf('ab\ncd\r\nef\rg')).toEqual([0, 3, 7, 10]);
    expect(lineStartsOf('')).toEqual([0]);
  });
});
