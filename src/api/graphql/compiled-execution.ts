/**
 * Runs GraphQL operations for Apollo Server: the ones a gateway sees again
 * and again are compiled to JavaScript by graphql-jit, everything else is
 * interpreted by graphql-js, as Apollo would.
 *
 * Why: in a profile of `recordEvents` with 1,000 events per call,
 * graphql-js took 24 % of the gateway's CPU, two thirds of it coercing the
 * events variable (about 3 µs per event: every input object is built as a
 * null-prototype dictionary). Compiled, the call costs a third less CPU per
 * event (README, "Performance").
 *
 * Rules, each for a reason:
 * - An operation is compiled on its `compileAfter`-th run (0: never), so a
 *   one-off document never pays for a compile (a few milliseconds).
 * - Only queries and mutations, and only documents with no string and no
 *   object literal anywhere. graphql-jit writes literal argument values into
 *   the code it generates, and it turns a string that starts with its date
 *   marker into code: a crafted literal would run on the server (a test
 *   shows it). Numbers, booleans, enums and variables are safe: names in a
 *   document are letters, digits and underscores. Clients that send their
 *   inputs as variables, as generated clients do, get the compiled path.
 * - A compile that fails leaves the operation to graphql-js for good.
 * - When variables do not coerce, graphql-js runs the request instead, so
 *   the errors (and Apollo's BAD_USER_INPUT for them) are exactly its own.
 * - Errors raised while executing are rebuilt as graphql-js GraphQLErrors
 *   with the same message, path, locations and original error, which is
 *   what Apollo and the error formatter expect.
 *
 * Subscriptions over WebSocket do not come here: graphql-ws runs them with
 * graphql-js.
 */
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  Source,
  type SourceLocation,
  execute,
  visit,
  BREAK,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/** What Apollo hands an executor (a subset of its GatewayGraphQLRequestContext). */
export interface OperationRequest {
  readonly document: DocumentNode;
  /** The document's text, for error locations. */
  readonly source: string;
  /** The operation to run, as the request named it. */
  readonly operationName: string | null;
  readonly variables: Record<string, unknown> | undefined;
  readonly context: unknown;
}

type Plan =
  | { kind: 'counting'; runs: number }
  | { kind: 'interpreted' }
  | { kind: 'compiled'; query: CompiledQuery; lineStarts: number[] | undefined };

export class CompiledExecution {
  /** Per document (Apollo keeps one object per query text), per operation name. */
  private readonly plans = new WeakMap<DocumentNode, Map<string, Plan>>();
  private compiledCount = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    /** Runs of an operation before it is compiled; 0 never compiles. */
    private readonly compileAfter: number,
  ) {}

  /** Operations compiled so far (for tests and metrics). */
  get compiled(): number {
    return this.compiledCount;
  }

  async run(request: OperationRequest): Promise<ExecutionResult> {
    const plan = this.planFor(request);
    if (plan.kind !== 'compiled') return this.interpret(request);
    const result = await plan.query.query(undefined, request.context, request.variables ?? {});
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

  private planFor(request: OperationRequest): Plan {
    let byName = this.plans.get(request.document);
    if (!byName) {
      byName = new Map();
      this.plans.set(request.document, byName);
    }
    const name = request.operationName ?? '';
    let plan = byName.get(name);
    if (!plan) {
      plan =
        this.compileAfter > 0 && compilable(request.document, request.operationName)
          ? { kind: 'counting', runs: 0 }
          : { kind: 'interpreted' };
      byName.set(name, plan);
    }
    if (plan.kind === 'counting' && ++plan.runs >= this.compileAfter) {
      plan = this.compile(request);
      byName.set(name, plan);
    }
    return plan;
  }

  private compile(request: OperationRequest): Plan {
    const compiled = compileQuery(
      this.schema,
      request.document,
      request.operationName ?? undefined,
    );
    if (!isCompiledQuery(compiled)) return { kind: 'interpreted' };
    this.compiledCount += 1;
    return { kind: 'compiled', query: compiled, lineStarts: undefined };
  }
}

/**
 * True when the document may be compiled: it has no string or object
 * literal anywhere, and the operation to run is a query or a mutation.
 */
export function compilable(document: DocumentNode, operationName: string | null): boolean {
  let literal = false;
  visit(document, {
    enter(node) {
      if (node.kind === Kind.STRING || node.kind === Kind.OBJECT) {
        literal = true;
        return BREAK;
      }
      return undefined;
    },
  });
  if (literal) return false;
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation =
    operationName === null
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((o) => o.name?.value === operationName);
  return operation !== undefined && operation.operation !== 'subscription';
}

/** A graphql-jit error as graphql-js would have raised it. */
function rebuild(error: GraphQLError, source: Source, lineStarts: number[]): GraphQLError {
  const locations = (error.locations ?? []) as readonly SourceLocation[];
  return new GraphQLError(error.message, {
    source: locations.length > 0 ? source : undefined,
    positions: locations.length > 0 ? locations.map((l) => positionOf(l, lineStarts)) : undefined,
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
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
