/**
 * How Apollo Server runs recflow's operations with CompiledExecution (or
 * with the response cache in front of it, cached-operations.ts).
 *
 * Apollo Server 5 takes a custom executor only as a "gateway". For every
 * request it hands to a gateway, it first builds an old-style request
 * context whose `response.http` has accessors of its own. Those keep the
 * whole request alive through every young-generation collection until the
 * next full one: about 1 MB promoted per scavenge at 1,000 req/s, where
 * Apollo's own executor promotes a tenth of that (bench/RESULTS.md, "A fifth
 * machine").
 *
 * So each operation runs in a plugin's `responseForOperation`, before Apollo
 * would call the gateway, and an answer without errors goes out from there.
 * An answer with errors, or a thrown error, is handed to the gateway's
 * executor, which gives it back unchanged. Apollo then reports and formats
 * the errors exactly as it did when the gateway ran every operation. No
 * operation runs twice. (Answers with errors still pay for the gateway's
 * context, so under a failure-heavy load the old cost comes back.)
 *
 * This relies on no plugin needing Apollo's execution hooks
 * (`executionDidStart`, `willResolveField`, `executionDidEnd`). For a clean
 * answer they never run, and for one with errors they run after the
 * operation has. recflow installs no such plugin; Apollo's usage reporting,
 * which it adds when APOLLO_KEY is set, would report operations without
 * field traces. The plugin must come first in the server's list.
 */
import { type ApolloServerPlugin, type GraphQLRequestListener, HeaderMap } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import type { OperationRequest } from '../graphql/compiled-execution';
import type { OperationRunner } from '../graphql/cached-operations';

/** What an operation that did not answer cleanly left for the gateway to return. */
type Outcome = { result: ExecutionResult } | { thrown: unknown };

export function compiledOperations<Context extends object>(
  schema: GraphQLSchema,
  execution: OperationRunner,
): { plugin: ApolloServerPlugin<Context>; gateway: GatewayInterface } {
  // Keyed by the request's context object, which Apollo passes to both.
  const handedOver = new WeakMap<object, Outcome>();

  const listener: GraphQLRequestListener<Context> = {
    async responseForOperation(requestContext) {
      const request: OperationRequest = {
        document: requestContext.document,
        source: requestContext.source,
        operation: requestContext.operation ?? undefined,
        operationName: requestContext.request.operationName ?? null,
        variables: requestContext.request.variables,
        context: requestContext.contextValue,
      };
      let result: ExecutionResult;
      try {
        result = await execution.run(request);
      } catch (thrown) {
        handedOver.set(requestContext.contextValue, { thrown });
        return null;
      }
      if (result.errors !== undefined) {
        handedOver.set(requestContext.contextValue, { result });
        return null;
      }
      return {
        http: { status: undefined, headers: new HeaderMap() },
        body: { kind: 'single', singleResult: result },
      };
    },
  };

  const gateway: GatewayInterface = {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (request) => {
          const context = request.context as object;
          const outcome = handedOver.get(context);
          if (outcome === undefined) {
            // The plugin runs every operation first; without it, nothing has.
            throw new Error('compiled operations: the plugin is missing from the server');
          }
          handedOver.delete(context);
          if ('thrown' in outcome) throw outcome.thrown;
          return outcome.result;
        },
      };
    },
    async stop() {},
  };

  return { plugin: { requestDidStart: async () => listener }, gateway };
}
