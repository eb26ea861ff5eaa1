/**
 * The response cache in front of an operation runner (CompiledExecution).
 *
 * A query is answered from the cache only when its answer depends on one
 * user's features and on the shared lists, nothing else: every root field
 * is `recommendations` (aliased or not) or `__typename`, none has a
 * directive, and every `recommendations` field asks for the same user, by
 * literal or by variable. Anything else runs as it always did.
 *
 * An answer is kept when it has no errors and no resolver marked it
 * degraded (a source was down: the next request should try again). A
 * request that asks for a fresh answer (`Cache-Control: no-cache`) is
 * computed, and its answer kept for the next.
 */
import { type ExecutionResult, Kind, type OperationDefinitionNode } from 'graphql';
import type { OperationRequest } from './compiled-execution';
import type { ResponseCache } from './response-cache';

export interface OperationRunner {
  run(request: OperationRequest): Promise<ExecutionResult>;
}

/** What a request's context tells the cache. */
export interface CacheHints {
  /** The client asked for a fresh answer: the cache is not read. */
  readonly bypassCache: boolean;
  /** Set by a resolver whose answer fell back: the answer is not kept. */
  degraded: boolean;
}

export type Lookup = 'hit' | 'miss' | 'bypass';

/** Where a cacheable operation takes its user from. */
type UserSource = { literal: string } | { variable: string; fallback: string | undefined };

/** The field whose answers the cache holds. */
const CACHED_FIELD = 'recommendations';

/**
 * Longest key (operation name, variables and text) the cache keeps an
 * answer under: a key lives as long as its answer, and a body may be
 * megabytes long.
 */
export const MAX_CACHED_KEY = 4096;

export class CachedExecution implements OperationRunner {
  /** Per operation (Apollo's shared node): its user sources, or null when not cacheable. */
  private readonly analysed = new WeakMap<OperationDefinitionNode, UserSource[] | null>();

  constructor(
    private readonly inner: OperationRunner,
    private readonly cache: ResponseCache<ExecutionResult>,
    private readonly onLookup: (lookup: Lookup) => void = () => undefined,
  ) {}

  async run(request: OperationRequest): Promise<ExecutionResult> {
    const userId = this.cache.enabled ? this.userOf(request) : undefined;
    if (userId === undefined) return this.inner.run(request);
    const key = keyOf(request);
    if (key.length > MAX_CACHED_KEY) return this.inner.run(request);
    const hints = request.context as CacheHints;
    if (hints.bypassCache) {
      this.onLookup('bypass');
    } else {
      const kept = this.cache.get(userId, key);
      if (kept !== undefined) {
        this.onLookup('hit');
        // A copy, so that nothing done to one answer reaches the next.
        return { ...kept };
      }
      this.onLookup('miss');
    }
    const ticket = this.cache.begin(userId);
    let result: ExecutionResult | undefined;
    try {
      result = await this.inner.run(request);
      return result;
    } finally {
      const clean = result !== undefined && result.errors === undefined && !hints.degraded;
      this.cache.finish(ticket, key, clean ? { ...result } : undefined);
    }
  }

  /** The one user a cacheable operation is for, or undefined. */
  private userOf(request: OperationRequest): string | undefined {
    const { operation } = request;
    if (operation === undefined) return undefined;
    let sources = this.analysed.get(operation);
    if (sources === undefined) {
      sources = userSources(operation);
      this.analysed.set(operation, sources);
    }
    if (sources === null) return undefined;
    let user: string | undefined;
    for (const source of sources) {
      const value =
        'literal' in source
          ? source.literal
          : (idOf(request.variables?.[source.variable]) ?? source.fallback);
      if (value === undefined || (user !== undefined && value !== user)) return undefined;
      user = value;
    }
    return user;
  }
}

/**
 * Where each `recommendations` field of a cacheable query takes its user
 * from; null when the query is not cacheable.
 */
export function userSources(operation: OperationDefinitionNode): UserSource[] | null {
  if (operation.operation !== 'query' || operation.directives?.length) return null;
  const sources: UserSource[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length) return null;
    const name = selection.name.value;
    if (name === '__typename') continue;
    if (name !== CACHED_FIELD) return null;
    const argument = selection.arguments?.find((a) => a.name.value === 'userId');
    if (argument === undefined) return null;
    const { value } = argument;
    if (value.kind === Kind.STRING || value.kind === Kind.INT) {
      sources.push({ literal: value.value });
    } else if (value.kind === Kind.VARIABLE) {
      const variable = value.name.value;
      const declared = operation.variableDefinitions?.find(
        (d) => d.variable.name.value === variable,
      );
      const fallback = declared?.defaultValue;
      sources.push({
        variable,
        fallback:
          fallback?.kind === Kind.STRING || fallback?.kind === Kind.INT
            ? fallback.value
            : undefined,
      });
    } else {
      return null;
    }
  }
  return sources.length > 0 ? sources : null;
}

/** An ID variable's value as GraphQL coerces it, or undefined. */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

/** One key per operation text, name and variables, within a user's answers. */
function keyOf(request: OperationRequest): string {
  const variables = request.variables === undefined ? '' : JSON.stringify(request.variables);
  return `${request.operationName ?? ''}\u0000${variables}\u0000${request.source}`;
}
