/**
 * A look at a GraphQL document's text before anything parses it. graphql-js
 * parses and validates by recursion, so a small document can exhaust the
 * stack: 20 KB of input objects nested 2,000 deep, or a chain of thousands
 * of fragments each spreading the next. The process survives that, but the
 * caller got a masked internal error and, over WebSocket, lost the whole
 * socket. Bounding how deeply brackets nest, how many definitions a
 * document has and how many braces and brackets it opens keeps every later stage's
 * recursion shallow and its work linear, and the caller gets
 * QUERY_TOO_COMPLEX instead.
 *
 * The bounds sit far above what the schema lets a real operation use (ten
 * fields deep, see operation-limits.ts), and the scan is one pass over the
 * text, skipping strings and comments.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, OperationTypeNode, parse } from 'graphql';
import { QUERY_TOO_COMPLEX } from './operation-limits';

export interface DocumentShapeLimits {
  /** Deepest nesting of `{`, `[` and `(` together. */
  maxNesting: number;
  /** Most definitions (operations and fragments) in one document. */
  maxDefinitions: number;
  /**
   * Most `{` in a document: selection sets, and object values. Several of
   * graphql-js's rules (fields that must merge, introspection's depth)
   * follow fragments and inline fragments by recursion, so a chain of
   * fragments nests as deep as all their selection sets together, however
   * shallow each one's text.
   */
  maxSelections: number;
  /**
   * Most brackets of all three kinds. Each is a node graphql-js parses and
   * validates: 1.7 MB of short nested lists in a variable's default, within
   * every other bound, took it 2 s.
   */
  maxBrackets: number;
}

export const DEFAULT_DOCUMENT_SHAPE: DocumentShapeLimits = {
  maxNesting: 64,
  maxDefinitions: 500,
  maxSelections: 1000,
  maxBrackets: 3000,
};

/** What is wrong with the document's shape, or null when nothing is. */
export function documentShapeProblem(
  source: string,
  limits: DocumentShapeLimits = DEFAULT_DOCUMENT_SHAPE,
): string | null {
  let depth = 0;
  let definitions = 0;
  let selections = 0;
  let brackets = 0;
  let at = 0;
  while (at < source.length) {
    const c = source[at];
    if (c === '#') {
      at = lineEnd(source, at);
    } else if (c === '"') {
      at = source.startsWith('"""', at) ? blockStringEnd(source, at) : stringEnd(source, at);
    } else if (c === '{' || c === '[' || c === '(') {
      if (++brackets > limits.maxBrackets) {
        return `the document opens more than ${limits.maxBrackets} brackets`;
      }
      if (c === '{') {
        if (++selections > limits.maxSelections) {
          return `the document opens more than ${limits.maxSelections} braces`;
        }
        // Every definition, and nothing else, opens a `{` at the top level.
        if (depth === 0 && ++definitions > limits.maxDefinitions) {
          return `the document has more than ${limits.maxDefinitions} definitions`;
        }
      }
      depth += 1;
      if (depth > limits.maxNesting) {
        return `the document nests deeper than ${limits.maxNesting} levels`;
      }
      at += 1;
    } else if (c === '}' || c === ']' || c === ')') {
      depth = Math.max(0, depth - 1);
      at += 1;
    } else {
      at += 1;
    }
  }
  return null;
}

/**
 * The document's syntax error as a coded error, or null when it parses.
 * graphql-ws parses a subscribe itself and closes the whole socket on a
 * syntax error (4500), ending its other subscriptions; a subscribe parsed
 * first gets an error of its own instead, coded as over HTTP.
 */
export function syntaxError(source: string): GraphQLError | null {
  try {
    parse(source, { noLocation: true });
    return null;
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return new GraphQLError(error.message, {
      source: error.source,
      positions: error.positions,
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  }
}

/** The problem as the error clients get: QUERY_TOO_COMPLEX, HTTP 400. */
export function documentShapeError(source: string): GraphQLError | null {
  const problem = documentShapeProblem(source);
  if (problem === null) return null;
  // `operationLimit` keeps the code through Apollo (see operation-limits.ts).
  return new GraphQLError(problem, {
    extensions: { code: QUERY_TOO_COMPLEX, operationLimit: true, http: { status: 400 } },
  });
}

/**
 * Refuses subscriptions sent over HTTP: they are served over WebSocket
 * only, and run as a query one would fail inside its resolver. (A refused
 * shape cannot be thrown from a plugin: Apollo turns what a plugin throws
 * before parsing into an internal error. The gateway checks it while it
 * makes the request's context instead; see src/api/http/server.ts.)
 */
export function subscriptionsOverHttpPlugin(path: string): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return;
          throw new GraphQLError(
            `subscriptions are served over WebSocket (graphql-transport-ws) at ${path}`,
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        },
      };
    },
  };
}

/** Past a comment: like graphql-js, a line ends at \n or at \r. */
function lineEnd(source: string, at: number): number {
  for (let i = at; i < source.length; i += 1) {
    if (source[i] === '\n' || source[i] === '\r') return i + 1;
  }
  return source.length;
}

/** Past a "..." string: its closing quote, or the line's end when it has none. */
function stringEnd(source: string, at: number): number {
  for (let i = at + 1; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\') i += 1;
    else if (c === '"' || c === '\n' || c === '\r') return i + 1;
  }
  return source.length;
}

/** Past a """block string""", whose only escape is \""". */
function blockStringEnd(source: string, at: number): number {
  let i = at + 3;
  for (;;) {
    const end = source.indexOf('"""', i);
    if (end === -1) return source.length;
    if (source[end - 1] !== '\\') return end + 3;
    i = end + 3;
  }
}
