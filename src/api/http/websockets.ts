/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the gateway's
 * server, held to what HTTP requests are held to: the same API keys, the
 * same rate budget per client, the same validation rules, the same refusal
 * of documents whose shape would exhaust graphql-js (document-shape.ts),
 * and errors with the codes Apollo gives them over HTTP.
 */
import {
  GraphQLError,
  type GraphQLSchema,
  specifiedRules,
  validate,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';
import { ErrorCode, RecflowError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import { type RequestContext, type Services, createContext } from '../graphql/context';
import { documentShapeError, syntaxError } from '../graphql/document-shape';
import { errorFormatter, requestErrorCode } from '../graphql/errors';
import { type ApiKeys, clientIdentity } from './auth';
import type { RateLimiter } from './rate-limit';
import { requestIdFrom } from './request-id';

export interface WebSocketDeps {
  wss: WebSocketServer;
  schema: GraphQLSchema;
  services: Services;
  log: Logger;
  keys: ApiKeys;
  limiter: RateLimiter;
  /** Run after graphql-js's own rules, as over HTTP. */
  validationRules: readonly ValidationRule[];
  /** True once the gateway drains: new sockets are refused. */
  draining: () => boolean;
}

/** Serves graphql-ws on `wss`; returns what closes every socket it serves. */
export function mountWebSockets(deps: WebSocketDeps): () => Promise<void> {
  const { services, log, schema, keys, limiter } = deps;
  const rules = [...specifiedRules, ...deps.validationRules];
  const format = errorFormatter(log);
  // graphql-ws sends graphql-js's request errors without the codes Apollo gives them over HTTP.
  const formatWs = (error: GraphQLError, requestId?: string) => {
    const coded = requestErrorCode(error);
    return format(coded.toJSON(), coded, requestId);
  };
  const clients = new WeakMap<object, string>();
  const cleanup = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      validate: (s, document) => validate(s, document, rules),
      onConnect: (ctx) => {
        if (deps.draining()) return false;
        const params = ctx.connectionParams ?? {};
        const key = (params.authorization ?? params.apiKey) as string | undefined;
        clients.set(ctx, clientIdentity(keys, key, ctx.extra.request.socket.remoteAddress));
        return keys.allows(key);
      },
      // Every operation on a socket spends from the same budget as HTTP requests.
      onSubscribe: (ctx, _id, payload) => {
        const wait = limiter.take(clients.get(ctx) ?? 'unknown');
        if (wait === 0) {
          // Refused before graphql-ws parses it, as over HTTP (document-shape.ts);
          // a subscribe is not the hot path, so parsing it twice costs little.
          const query = String(payload.query);
          const refused = documentShapeError(query) ?? syntaxError(query);
          return refused ? [refused] : undefined;
        }
        const limited = new RecflowError(ErrorCode.RATE_LIMITED, 'too many requests', {
          retryAfterMs: wait,
        });
        return [new GraphQLError(limited.message, { originalError: limited })];
      },
      context: () => createContext(services, requestIdFrom(undefined), log),
      onNext: (_ctx, _id, _payload, args, result) => {
        if ('errors' in result && result.errors) {
          const { requestId } = args.contextValue as RequestContext;
          return {
            ...result,
            errors: result.errors.map((e) => formatWs(e, requestId)),
          };
        }
        return result;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatWs(e)) as never,
    },
    deps.wss,
  );
  // graphql-ws reports a socket's errors (a message over the size limit, a
  // bad frame) with console.error and a stack trace, outside recflow's log.
  // They come from clients, and ws has already begun closing the socket
  // (1002, 1007 or 1009) when it emits one, at most once per socket: each is
  // one line of recflow's log instead. This listener runs after graphql-ws's.
  deps.wss.on('connection', (socket, request) => {
    socket.removeAllListeners('error');
    socket.once('error', (error: Error) => {
      log.info(
        { error: error.message, client: request.socket.remoteAddress },
        'WebSocket closed on a bad message from the client',
      );
    });
  });
  return async () => {
    await cleanup.dispose();
  };
}
