import { buildSchema, getIntrospectionQuery, parse, validate } from 'graphql';
import {
  DEFAULT_DOCUMENT_SHAPE,
  documentShapeError,
  documentShapeProblem,
} from '../../../../src/api/graphql/document-shape';

const limits = { maxNesting: 4, maxDefinitions: 2, maxSelections: 6, maxBrackets: 10 };

describe('documentShapeProblem', () => {
  test('passes a document within both bounds', () => {
    const doc = `query Q($u: ID!) { a(x: { y: [1, 2] }) { b } } fragment F on T { c }`;
    expect(documentShapeProblem(doc, limits)).toBeNull();
  });

  test('counts {, [ and ( together, and refuses one level too deep', () => {
    expect(documentShapeProblem('{ a(x: { y: [1] }) }', limits)).toBeNull(); // 4 levels
    expect(documentShapeProblem('{ a(x: { y: [[1]] }) }', limits)).toBe(
      'the document nests deeper than 4 levels',
    );
  });

  test('ignores brackets inside strings, block strings and comments', () => {
    const doc = [
      '{ a(s: "{{{{{[[[\\"(((", t: """ {{{{{ \\""" [[[[[ """)',
      '# {{{{{{{{{{',
      '}',
    ].join('\n');
    expect(documentShapeProblem(doc, limits)).toBeNull();
  });

  test('ends a comment or an unterminated string at \\r, as graphql-js does', () => {
    // A scanner that read "#\r..." as one comment would miss all that follows.
    expect(documentShapeProblem('#\r{ a(x: { y: [[1]] }) }', limits)).toMatch(/nests deeper/);
    expect(documentShapeProblem('{ a(s: "open\r x: {{{{ ) }', limits)).toMatch(/nests deeper/);
  });

  test('counts definitions, operations and fragments alike, not spreads or inner braces', () => {
    const two = `query Q($x: In = { a: 1 }) { ...A } fragment A on T @d(x: { b: 2 }) { a }`;
    expect(documentShapeProblem(two, limits)).toBeNull();
    expect(documentShapeProblem(`${two} { b }`, limits)).toBe(
      'the document has more than 2 definitions',
    );
    expect(documentShapeProblem(`${two} fragment C on T { a }`, limits)).toBe(
      'the document has more than 2 definitions',
    );
  });

  test('bounds selection sets and object values together, wherever they are', () => {
    const six = '{ a { b { c } } d(x: { y: 1 }) { e } f { g } }';
    expect(documentShapeProblem(six, limits)).toBeNull();
    expect(documentShapeProblem(six.replace('g', 'g { h }'), limits)).toBe(
      'the document opens more than 6 braces',
    );
    // Braces inside a string do not count.
    expect(documentShapeProblem(six.replace('y: 1', 'y: "{{{{"'), limits)).toBeNull();
  });

  test('bounds brackets of all kinds together', () => {
    const nine = '{ a(x: [[1], [2]]) { b } c(y: [3]) { d } }'; // 3 {, 2 (, 4 [
    expect(documentShapeProblem(nine, limits)).toBeNull();
    expect(documentShapeProblem(nine.replace('[3]', '[3], z: [4]'), limits)).toBeNull();
    expect(documentShapeProblem(nine.replace('[3]', '[3], z: [4], w: [5]'), limits)).toBe(
      'the document opens more than 10 brackets',
    );
    // The document that took graphql-js 2 s: 45,000 lists nested 19 deep.
    const lists = `${'['.repeat(19)}${']'.repeat(19)},`.repeat(45_000);
    const type = `${'['.repeat(20)}Int${']'.repeat(20)}`;
    const stall = `query($a: ${type} = [${lists}]) { __typename }`;
    expect(documentShapeProblem(stall)).toMatch(/more than 3000 brackets/);
  });

  test('an unterminated string does not hide what follows the line', () => {
    expect(documentShapeProblem('{ a(s: "open\n x: {{{{{ ) }', limits)).toBe(
      'the document nests deeper than 4 levels',
    );
  });

  test('gives QUERY_TOO_COMPLEX with HTTP 400, kept through Apollo by operationLimit', () => {
    const error = documentShapeError('{'.repeat(DEFAULT_DOCUMENT_SHAPE.maxNesting + 1));
    expect(error?.extensions).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      operationLimit: true,
      http: { status: 400 },
    });
    expect(documentShapeError('{ a }')).toBeNull();
  });

  test('the default bounds keep graphql-js clear of its stack limit', () => {
    // The deepest literal and the longest fragment chain the bounds allow
    // parse and validate; the documents that overflowed are refused.
    const schema = buildSchema('type Query { a(x: In): Int } input In { a: In, b: Int }');
    const depth = DEFAULT_DOCUMENT_SHAPE.maxNesting - 2;
    const literal = `{ a(x: ${'{a:'.repeat(depth)}null${'}'.repeat(depth)}) }`;
    expect(documentShapeProblem(literal)).toBeNull();
    expect(() => validate(schema, parse(literal))).not.toThrow();

    const n = DEFAULT_DOCUMENT_SHAPE.maxDefinitions - 1; // and the operation
    const chain = Array.from({ length: n }, (_, i) =>
      i + 1 < n ? `fragment F${i} on Query { a ...F${i + 1} }` : `fragment F${i} on Query { a }`,
    );
    const fragments = `{ ...F0 } ${chain.join(' ')}`;
    expect(documentShapeProblem(fragments)).toBeNull();
    expect(() => validate(schema, parse(fragments))).not.toThrow();

    expect(documentShapeProblem(`{ a(x: ${'{a:'.repeat(2000)}1${'}'.repeat(2000)}) }`)).toMatch(
      /nests deeper/,
    );
    expect(documentShapeProblem(`${fragments} fragment G on Query { a }`)).toMatch(/more than/);
    // The standard introspection query, with every option, passes.
    const full = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    expect(documentShapeProblem(full)).toBeNull();
  });
});
