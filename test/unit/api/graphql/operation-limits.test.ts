/**
 * Operation limits: how an operation is measured (fragments written out
 * where they are spread) and what the validation rule refuses.
 */
import {
  type GraphQLError,
  buildSchema,
  getIntrospectionQuery,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import {
  DEFAULT_OPERATION_LIMITS,
  fragmentsOf,
  measure,
  measureMemo,
  operationLimitsRule,
} from '../../../../src/api/graphql/operation-limits';

const schema = buildSchema(`
  type Query { node: Node, nodes: [Node!]! }
  type Node { id: ID!, next: Node, children: [Node!]! }
`);

function sizeOf(query: string) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
  if (!operation || operation.kind !== 'OperationDefinition') throw new Error('no operation');
  return measure(operation.selectionSet, measureMemo(fragmentsOf(document)));
}

function refusals(query: string): string[] {
  return validate(schema, parse(query), [
    ...specifiedRules,
    operationLimitsRule(DEFAULT_OPERATION_LIMITS),
  ])
    .filter((e: GraphQLError) => e.extensions.code === 'QUERY_TOO_COMPLEX')
    .map((e) => e.message);
}

/** `levels` fragments, each spreading the one below twice: 2^levels fields. */
function doubling(levels: number): string {
  const fragments = [`fragment F0 on Node { id }`];
  for (let i = 1; i <= levels; i++) {
    fragments.push(`fragment F${i} on Node { ...F${i - 1} ...F${i - 1} }`);
  }
  return `{ node { ...F${levels} } } ${fragments.join(' ')}`;
}

describe('measure', () => {
  test('counts root fields, depth and every field, fragments written out', () => {
    expect(sizeOf('{ a: node { id } b: nodes { id next { id } } }')).toEqual({
      roots: 2,
      depth: 3,
      fields: 6,
      cyclic: false,
    });
    expect(
      sizeOf(
        '{ ...Q ... on Query { node { id } } } fragment Q on Query { nodes { ...N } } ' +
          'fragment N on Node { id children { id } }',
      ),
    ).toEqual({ roots: 2, depth: 3, fields: 6, cyclic: false });
  });

  test('sizes fragments that double at every level once each', () => {
    // Walked without memory, 60 levels would take longer than the universe has.
    const size = sizeOf(doubling(60));
    expect(size.fields).toBe(1 + 2 ** 60);
    expect(size.depth).toBe(2);
  });

  test('a cycle is unbounded and an unknown fragment empty (graphql-js refuses both)', () => {
    const cycle = sizeOf('{ node { ...A } } fragment A on Node { next { ...A } }');
    expect(cycle).toMatchObject({ fields: Infinity, cyclic: true });
    expect(sizeOf('{ node { ...Missing } }')).toEqual({
      roots: 1,
      depth: 1,
      fields: 1,
      cyclic: false,
    });
  });
});

describe('operationLimitsRule', () => {
  test('refuses fragments that multiply past what a number holds, with no cycle', () => {
    // Each of 300 fragments spreads the next 12 times: 12^300 fields, which
    // sums to Infinity. It must not pass as a cycle would (a hostile review's).
    const chain = Array.from(
      { length: 300 },
      (_, i) => `fragment F${i} on Node { ${`...F${i + 1} `.repeat(12)}}`,
    );
    const query = `{ node { ...F0 } } ${chain.join(' ')} fragment F300 on Node { id }`;
    expect(sizeOf(query).fields).toBe(Infinity);
    expect(refusals(query)).toContain(
      'the operation selects over a million fields with its fragments written out; ' +
        'the limit is 2000',
    );
  });

  test('a chain of fragments nested past 1,000 levels is refused, not a stack overflow', () => {
    // 100 fragments, each 60 inline fragments deep around the next: 6,000
    // levels in all, while no fragment's own text nests past 64.
    const wrap = (inner: string) => `${'... on Node { '.repeat(60)}${inner}${' }'.repeat(60)}`;
    const chain = Array.from(
      { length: 100 },
      (_, i) => `fragment F${i} on Node { ${wrap(`...F${i + 1}`)} }`,
    );
    const query = `{ node { ...F0 } } ${chain.join(' ')} fragment F100 on Node { id }`;
    expect(() => sizeOf(query)).not.toThrow();
    expect(sizeOf(query).depth).toBe(Infinity);
    expect(refusals(query).length).toBeGreaterThan(0);
  });

  test('does not count depth below __schema and __type: the standard introspection passes', () => {
    expect(refusals(getIntrospectionQuery())).toEqual([]);
    expect(
      refusals(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true })),
    ).toEqual([]);
    // Depth elsewhere still counts.
    expect(refusals(`{ node ${'{ next '.repeat(10)}{ id }${' }'.repeat(10)} }`)).toEqual([
      'the operation is 12 fields deep; the limit is 10',
    ]);
  });

  test('one memo serves every operation of a document: each fragment is measured once', () => {
    const document = parse(
      'query A { node { ...N } } query B { nodes { ...N } } fragment N on Node { id next { id } }',
    );
    const memo = measureMemo(fragmentsOf(document));
    const [a, b] = document.definitions.filter((d) => d.kind === 'OperationDefinition');
    if (a.kind !== 'OperationDefinition' || b.kind !== 'OperationDefinition') throw new Error();
    expect(measure(a.selectionSet, memo)).toMatchObject({ fields: 4, depth: 3 });
    const measured = memo.known.get('N');
    expect(measure(b.selectionSet, memo)).toMatchObject({ fields: 4, depth: 3 });
    expect(memo.known.get('N')).toBe(measured); // read back, not measured again
  });

  test('leaves a fragment cycle to graphql-js, which reports it once', () => {
    const query = '{ node { ...A } } fragment A on Node { next { ...A } }';
    const errors = validate(schema, parse(query), [
      ...specifiedRules,
      operationLimitsRule(DEFAULT_OPERATION_LIMITS),
    ]);
    expect(errors.map((e) => e.message)).toEqual(['Cannot spread fragment "A" within itself.']);
  });

  test('refuses more than 2,000 fields written out, and says how many', () => {
    expect(refusals(doubling(10))).toEqual([]);
    expect(refusals(doubling(11))).toEqual([
      'the operation selects 2049 fields with its fragments written out; the limit is 2000',
    ]);
    expect(refusals(doubling(40))).toEqual([
      'the operation selects over a million fields with its fragments written out; ' +
        'the limit is 2000',
    ]);
  });

  test('refuses more than 10 root fields and more than 10 levels', () => {
    const roots = Array.from({ length: 11 }, (_, i) => `a${i}: node { id }`).join(' ');
    expect(refusals(`{ ${roots} }`)).toEqual([
      'the operation selects 11 root fields; the limit is 10',
    ]);
    const deep = `{ node { ${'next { '.repeat(10)}id${' }'.repeat(10)} } }`;
    expect(refusals(deep)).toEqual(['the operation is 12 fields deep; the limit is 10']);
  });
});
