/**
 * Runs GraphQL operations for Apollo Server: the ones a gateway sees again
 * and again are compiled to JavaScript by graphql-jit, everything else is
 * interpreted by graphql-js, as Apollo would.
 *
 * Why: in a profile of `recordEvents` with 1,000 events per call,
 * graphql-js took 24 % of the gateway's CPU, two thirds of it coercing the
 * events variable (about 3 µs per event: every input object is built as a
 * null-prototype dictionary). Compiled, the call costs a quarter less CPU
 * per event (README, "Compiled operations").
 *
 * Rules, each for a reason (hostile reviews found all but the first two):
 * - An operation is compiled on its `compileAfter`-th run (0: never), so a
 *   one-off document never pays for a compile.
 * - Only queries and mutations with no string and no object literal.
 *   graphql-jit writes literal argument values into the code it generates,
 *   and turns a string that starts with its date marker into code: a
 *   crafted literal would run on the server (a test shows it). Numbers,
 *   booleans, enums and variables are safe. Clients that send inputs as
 *   variables, as generated clients do, get the compiled path.
 * - At most MAX_COMPILED_FIELDS fields with fragments written out: graphql-jit
 *   writes code for every path of the document, so aliased fragments that
 *   fan out made a 1.7 KB document take 5 s and 391 MB to compile.
 * - No directives: graphql-jit gets @skip and @include on fragment spreads
 *   wrong (fields vanish without an error).
 * - No names starting with `__` but `__typename`: a `__proto__` alias or
 *   variable is lost in the generated code.
 * - At most MAX_COMPILED_VARIABLES variables and MAX_COMPILED_SOURCE
 *   characters: graphql-jit writes code for every variable, and 20,000 of
 *   them (a 538 KB document with two fields) took 3 s and 1 GB, then
 *   overflowed the stack on every run.
 * - Mutations of one root field only: graphql-jit runs a mutation's later
 *   fields after one has failed, where graphql-js stops, so events were
 *   stored behind an answer of `data: null`.
 * - If a compiled run throws, the operation goes back to graphql-js for
 *   good (a query is run again at once; a mutation's error stands).
 * - Every field's value is settled inside its resolver (schema.ts,
 *   guardResolvers): graphql-jit reads plain fields, walks lists and calls
 *   `then` outside any try/catch, so a getter, an iterator or a `then` that
 *   threw hung the request and left a rejection unhandled.
 * - An error whose original is not an Error (a thrown string or object)
 *   becomes graphql-js's "Unexpected error value", without the value's
 *   extensions: an object thrown with a client error's code would
 *   otherwise have shown its message to the client.
 * - graphql-jit writes into the document it compiles, so it compiles a
 *   private parse of the query text, never Apollo's shared document.
 * - A compile that fails leaves the operation to graphql-js for good.
 * - When variables do not coerce, graphql-js runs the request instead, so
 *   the errors (and Apollo's BAD_USER_INPUT for them) are exactly its own.
 * - Errors raised while executing are rebuilt as graphql-js GraphQLErrors
 *   with the same message, path, locations and original error, which is
 *   what Apollo and the error formatter expect.
 *
 * Compiled plans are kept for the MAX_PLANS operations used last; counts
 * and refusals as long as Apollo keeps the document. Subscriptions over
 * WebSocket do not come here: graphql-ws runs them with graphql-js.
 */
import {
  BREAK,
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  Source,
  type SourceLocation,
  execute,
  parse,
  visit,
} from 'graphql';
import { inspect } from 'graphql/jsutils/inspect';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { fragmentsOf, measure, measureMemo } from './operation-limits';

/** Largest operation compiled, in fields with fragments written out (recflow's own: 3-23). */
export const MAX_COMPILED_FIELDS = 100;
/** Most variables in an operation compiled (recflow's own: 1-5). */
export const MAX_COMPILED_VARIABLES = 16;
/** Longest query text compiled, in characters (recflow's own: under 400). */
export const MAX_COMPILED_SOURCE = 2048;
/** Operations whose compiled plans are kept, the ones used last. */
export const MAX_PLANS = 64;

/** What Apollo hands an executor (a subset of its GatewayGraphQLRequestContext). */
export interface OperationRequest {
  readonly document: DocumentNode;
  /** The document's text, for error locations and the private parse. */
  readonly source: string;
  /** The operation Apollo resolved in the document; undefined when none matched. */
  readonly operation: OperationDefinitionNode | undefined;
  /** The operation name as the request gave it. */
  readonly operationName: string | null;
  readonly variables: Record<string, unknown> | undefined;
  readonly context: unknown;
}

/** An operation on its way to a compile, or one that stays with graphql-js. */
type Decision = { kind: 'counting'; runs: number } | { kind: 'interpreted' };

interface CompiledPlan {
  query: CompiledQuery;
  lineStarts: number[] | undefined;
}

export class CompiledExecution {
  /**
   * Counts and refusals, per operation (the node in Apollo's shared
   * document, one per query text): they live as long as Apollo keeps the
   * document, and cannot push compiled plans out.
   */
  private readonly decisions = new WeakMap<OperationDefinitionNode, Decision>();
  /** Compiled plans of the MAX_PLANS operations used last, oldest first. */
  private readonly plans = new Map<OperationDefinitionNode, CompiledPlan>();
  private compiledCount = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    /** Runs of an operation before it is compiled; 0 never compiles. */
    private readonly compileAfter: number,
    /** Told of each compile, and whether graphql-jit could compile it. */
    private readonly onCompile: (result: 'compiled' | 'failed') => void = () => undefined,
  ) {}

  /** Operations compiled so far (for tests and metrics). */
  get compiled(): number {
    return this.compiledCount;
  }

  /** Compiled plans kept. */
  get planned(): number {
    return this.plans.size;
  }

  async run(request: OperationRequest): Promise<ExecutionResult> {
    const { operation } = request;
    const plan = operation && this.planFor(request, operation);
    if (!operation || !plan) return this.interpret(request);
    let result: ExecutionResult;
    try {
      result = await plan.query.query(undefined, request.context, request.variables ?? {});
    } catch (error) {
      // graphql-jit failed where graphql-js would not have thrown: never again
      // for this operation. A query is safe to run again; a mutation may have
      // done part of its work, so its error stands.
      this.plans.delete(operation);
      this.decisions.set(operation, { kind: 'interpreted' });
      if (operation.operation === 'query') return this.interpret(request);
      throw error;
    }
    // No data at all: the variables did not coerce. graphql-js says why, in its words.
    if (result.errors && !('data' in result)) return this.interpret(request);
    if (!result.errors) return result;
    plan.lineStarts ??= lineStartsOf(request.source);
    const source = new Source(request.source);
    const lineStarts = plan.lineStarts;
    return {
      ...result,
      errors: result.errors.map((error) => rebuild(error, source, lineStarts)),
    };
  }

  private interpret(request: OperationRequest): Promise<ExecutionResult> {
    return Promise.resolve(
      execute({
        schema: this.schema,
        document: request.document,
        contextValue: request.context,
        variableValues: request.variables,
        operationName: request.operationName,
      }),
    );
  }

  /** The compiled plan to run, compiling it on its turn; undefined for graphql-js. */
  private planFor(
    request: OperationRequest,
    operation: OperationDefinitionNode,
  ): CompiledPlan | undefined {
    if (this.compileAfter === 0) return undefined;
    let plan = this.plans.get(operation);
    if (plan) {
      // Most recently used last.
      this.plans.delete(operation);
      this.plans.set(operation, plan);
      return plan;
    }
    let decision = this.decisions.get(operation);
    if (!decision) {
      decision = compilable(request.document, operation, request.source)
        ? { kind: 'counting', runs: 0 }
        : { kind: 'interpreted' };
      this.decisions.set(operation, decision);
    }
    if (decision.kind === 'interpreted' || ++decision.runs < this.compileAfter) return undefined;
    plan = this.compile(request, operation);
    if (!plan) {
      this.decisions.set(operation, { kind: 'interpreted' });
      return undefined;
    }
    // Evicted later, an operation counts its runs again from zero.
    this.decisions.delete(operation);
    this.plans.set(operation, plan);
    if (this.plans.size > MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }

  private compile(
    request: OperationRequest,
    operation: OperationDefinitionNode,
  ): CompiledPlan | undefined {
    // graphql-jit marks the nodes it compiles; Apollo's document is shared.
    const compiled = compileQuery(this.schema, parse(request.source), operation.name?.value);
    if (!isCompiledQuery(compiled)) {
      this.onCompile('failed');
      return undefined;
    }
    this.compiledCount += 1;
    this.onCompile('compiled');
    return { query: compiled, lineStarts: undefined };
  }
}

/** Names a compiled document may use that start with `__`. */
const DUNDER_ALLOWED = new Set(['__typename']);

/**
 * True when `operation` (of `document`, whose text is `source`) may be
 * compiled: a query, or a mutation of one root field; at most
 * MAX_COMPILED_FIELDS fields with its fragments written out,
 * MAX_COMPILED_VARIABLES variables and MAX_COMPILED_SOURCE characters; and
 * a document with no string or object literal, no directive and no name
 * starting with `__` but `__typename`.
 */
export function compilable(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  source: string,
): boolean {
  if (operation.operation === 'subscription') return false;
  if (source.length > MAX_COMPILED_SOURCE) return false;
  if ((operation.variableDefinitions?.length ?? 0) > MAX_COMPILED_VARIABLES) return false;
  let refused = false;
  visit(document, {
    enter(node) {
      const refuse =
        node.kind === Kind.STRING ||
        node.kind === Kind.OBJECT ||
        node.kind === Kind.DIRECTIVE ||
        (node.kind === Kind.NAME && node.value.startsWith('__') && !DUNDER_ALLOWED.has(node.value));
      if (!refuse) return undefined;
      refused = true;
      return BREAK;
    },
  });
  if (refused) return false;
  const size = measure(operation.selectionSet, measureMemo(fragmentsOf(document)));
  // graphql-jit runs a mutation's later fields after one has failed; graphql-js stops.
  if (operation.operation === 'mutation' && size.roots > 1) return false;
  return size.fields <= MAX_COMPILED_FIELDS;
}

/** A graphql-jit error as graphql-js would have raised it. */
function rebuild(error: GraphQLError, source: Source, lineStarts: number[]): GraphQLError {
  const locations = (error.locations ?? []) as readonly SourceLocation[];
  // graphql-js keeps only Errors as the original; it names any other value thrown.
  const raw: unknown = error.originalError ?? undefined;
  const original =
    raw === undefined || raw instanceof Error
      ? raw
      : new Error(`Unexpected error value: ${inspect(raw)}`);
  return new GraphQLError(original === raw ? error.message : original!.message, {
    source: locations.length > 0 ? source : undefined,
    positions: locations.length > 0 ? locations.map((l) => positionOf(l, lineStarts)) : undefined,
    path: error.path,
    originalError: original,
    extensions: original === raw ? error.extensions : undefined,
  });
}

/** Offsets at which each line of the text starts (lines end at \r\n, \n or \r, as in GraphQL). */
export function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

function positionOf(location: SourceLocation, lineStarts: number[]): number {
  return (lineStarts[location.line - 1] ?? 0) + location.column - 1;
}
