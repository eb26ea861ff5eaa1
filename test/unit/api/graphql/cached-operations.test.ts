/**
 * CachedExecution: which operations the response cache answers, for which
 * user, and which answers it keeps.
 */
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type OperationDefinitionNode,
  parse,
} from 'graphql';
import {
  CachedExecution,
  type Lookup,
  MAX_CACHED_KEY,
} from '../../../../src/api/graphql/cached-operations';
import type { OperationRequest } from '../../../../src/api/graphql/compiled-execution';
import { ResponseCache } from '../../../../src/api/graphql/response-cache';

const LIST = 'query List($u: ID!) { recommendations(userId: $u) { items { score } } }';

/** What Apollo would hand the runner for `source`, parsed as `document`. */
function requestFor(
  document: DocumentNode,
  source: string,
  variables?: Record<string, unknown>,
  hints: { bypassCache?: boolean; degraded?: boolean } = {},
): OperationRequest {
  const operation = document.definitions[0] as OperationDefinitionNode;
  return {
    document,
    source,
    operation,
    operationName: operation.name?.value ?? null,
    variables,
    context: { bypassCache: hints.bypassCache ?? false, degraded: hints.degraded ?? false },
  };
}

/** A runner that counts its runs and answers what `answer` says. */
function setUp(answer: (request: OperationRequest) => ExecutionResult = () => ({ data: {} })) {
  const cache = new ResponseCache<ExecutionResult>({ ttlMs: 60_000, maxEntries: 100 });
  const runs: OperationRequest[] = [];
  const lookups: Lookup[] = [];
  const inner = {
    run: async (request: OperationRequest) => {
      runs.push(request);
      return answer(request);
    },
  };
  const execution = new CachedExecution(inner, cache, (lookup) => lookups.push(lookup));
  /** Parsed once per text, like Apollo's document store. */
  const documents = new Map<string, DocumentNode>();
  const run = (
    source: string,
    variables?: Record<string, unknown>,
    hints: { bypassCache?: boolean; degraded?: boolean } = {},
  ) => {
    let document = documents.get(source);
    if (!document) documents.set(source, (document = parse(source)));
    return execution.run(requestFor(document, source, variables, hints));
  };
  return { cache, runs, lookups, run };
}

describe('CachedExecution', () => {
  it('answers the same query for the same user from the cache', async () => {
    const { runs, lookups, run } = setUp(() => ({ data: { n: 1 } }));
    const first = await run(LIST, { u: 'u1' });
    const second = await run(LIST, { u: 'u1' });
    expect(runs).toHaveLength(1);
    expect(second).toEqual(first);
    expect(lookups).toEqual(['miss', 'hit']);
  });

  it('keeps users, variables and texts apart', async () => {
    const { runs, run } = setUp();
    await run(LIST, { u: 'u1' });
    await run(LIST, { u: 'u2' });
    await run('query List($u: ID!) { recommendations(userId: $u, limit: 5) { items { score } } }', {
      u: 'u1',
    });
    await run(LIST, { u: 'u1', unused: 1 });
    expect(runs).toHaveLength(4);
  });

  it("drops an answer when its user's features change", async () => {
    const { cache, runs, run } = setUp();
    await run(LIST, { u: 'u1' });
    await run(LIST, { u: 'u2' });
    cache.forgetUser('u1');
    await run(LIST, { u: 'u1' });
    await run(LIST, { u: 'u2' });
    expect(runs.map((r) => r.variables?.u)).toEqual(['u1', 'u2', 'u1']);
  });

  it('takes the user from a literal, a number or a default value', async () => {
    const { cache, runs, run } = setUp();
    await run('{ recommendations(userId: "7") { strategy } }');
    await run('query($u: ID!) { recommendations(userId: $u) { strategy } }', { u: 7 });
    await run('query($u: ID! = 7) { recommendations(userId: $u) { strategy } }', {});
    expect(runs).toHaveLength(3);
    cache.forgetUser('7');
    expect(cache.size).toBe(0);
  });

  it('answers aliased fields for one user, and not for two', async () => {
    const { runs, run } = setUp();
    const one =
      '{ a: recommendations(userId: "u1") { strategy } ' +
      'b: recommendations(userId: "u1", limit: 3) { strategy } __typename }';
    const two =
      '{ a: recommendations(userId: "u1") { strategy } ' +
      'b: recommendations(userId: "u2") { strategy } }';
    await run(one);
    await run(one);
    await run(two);
    await run(two);
    expect(runs.map((r) => r.source)).toEqual([one, two, two]);
  });

  it.each([
    ['another root field', '{ recommendations(userId: "u1") { strategy } item(id: "i1") { id } }'],
    ['only other fields', '{ item(id: "i1") { id } }'],
    ['a mutation', 'mutation { recommendations(userId: "u1") { strategy } }'],
    [
      'a directive on the field',
      '{ recommendations(userId: "u1") @include(if: true) { strategy } }',
    ],
    ['a directive on the operation', 'query @x { recommendations(userId: "u1") { strategy } }'],
    [
      'a fragment at the root',
      '{ ...F } fragment F on Query { recommendations(userId: "u1") { strategy } }',
    ],
    ['a user from an object', '{ recommendations(userId: {a: 1}) { strategy } }'],
    ['a missing user', 'query($u: ID) { recommendations(userId: $u) { strategy } }'],
  ])('runs every time: %s', async (_case, source) => {
    const { runs, lookups, run } = setUp();
    await run(source);
    await run(source);
    expect(runs).toHaveLength(2);
    expect(lookups).toEqual([]);
  });

  it('does not keep an answer with errors, or one a resolver marked degraded', async () => {
    let errors = true;
    const { runs, run } = setUp(() =>
      errors ? { data: null, errors: [new GraphQLError('down')] } : { data: {} },
    );
    await run(LIST, { u: 'u1' });
    errors = false;
    await run(LIST, { u: 'u1' }, { degraded: true });
    await run(LIST, { u: 'u1' });
    await run(LIST, { u: 'u1' });
    expect(runs).toHaveLength(3);
  });

  it('does not keep anything when the operation throws', async () => {
    const { cache, run } = setUp(() => {
      throw new Error('broke');
    });
    await expect(run(LIST, { u: 'u1' })).rejects.toThrow('broke');
    expect(cache.size).toBe(0);
  });

  it('computes when the client asks for a fresh answer, and keeps it for the next', async () => {
    let n = 0;
    const { runs, lookups, run } = setUp(() => ({ data: { n: (n += 1) } }));
    await run(LIST, { u: 'u1' });
    const fresh = await run(LIST, { u: 'u1' }, { bypassCache: true });
    const next = await run(LIST, { u: 'u1' });
    expect(runs).toHaveLength(2);
    expect(fresh.data).toEqual({ n: 2 });
    expect(next.data).toEqual({ n: 2 });
    expect(lookups).toEqual(['miss', 'bypass', 'hit']);
  });

  it('does not keep an answer read before a change that arrived while it ran', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { cache, runs, run } = setUp(() => ({ data: {} }));
    const inner = {
      run: async () => {
        await gate;
        return { data: { stale: true } };
      },
    };
    const execution = new CachedExecution(inner, cache);
    const pending = execution.run(requestFor(parse(LIST), LIST, { u: 'u1' }));
    cache.forgetUser('u1');
    release();
    await pending;
    expect(cache.size).toBe(0);
    await run(LIST, { u: 'u1' });
    expect(runs).toHaveLength(1);
  });

  it('hands out copies, so that a change to one answer does not reach the next', async () => {
    const { run } = setUp(() => ({ data: { n: 1 } }));
    const first = await run(LIST, { u: 'u1' });
    (first as { extensions?: unknown }).extensions = { touched: true };
    const second = await run(LIST, { u: 'u1' });
    (second as { extensions?: unknown }).extensions = { touched: true };
    const third = await run(LIST, { u: 'u1' });
    expect(third.extensions).toBeUndefined();
  });

  it('runs every time a query whose key would be too long', async () => {
    const { runs, lookups, run } = setUp();
    const long = { u: 'u1', padding: 'x'.repeat(MAX_CACHED_KEY) };
    await run(LIST, long);
    await run(LIST, long);
    expect(runs).toHaveLength(2);
    expect(lookups).toEqual([]);
    // Just under the bound, it is kept.
    const fits = { u: 'u1', padding: 'x'.repeat(MAX_CACHED_KEY - LIST.length - 40) };
    await run(LIST, fits);
    await run(LIST, fits);
    expect(runs).toHaveLength(3);
  });

  it('runs everything when the cache is off', async () => {
    const cache = new ResponseCache<ExecutionResult>({ ttlMs: 0, maxEntries: 100 });
    let runs = 0;
    const execution = new CachedExecution({ run: async () => ((runs += 1), { data: {} }) }, cache);
    const request = requestFor(parse(LIST), LIST, { u: 'u1' });
    await execution.run(request);
    await execution.run(request);
    expect(runs).toBe(2);
  });
});
