/**
 * The gateway's HTTP surface, on one port:
 *
 *   POST/GET <path>   GraphQL over HTTP (Apollo Server); GET from a browser
 *                     serves Apollo Sandbox outside production
 *   WS <path>         GraphQL subscriptions (graphql-ws protocol, websockets.ts)
 *   GET /health       liveness
 *   GET /ready        readiness: dependencies and consumer
 *   GET /metrics      Prometheus
 *
 * Shutdown runs in a fixed order (see `drain`): stop accepting, finish
 * in-flight requests, then (after the caller drained the consumer) close
 * the WebSockets with code 1001.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import * as landingPage from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  type ExecutionResult,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type ValidationRule,
} from 'graphql';
import { WebSocketServer } from 'ws';
import type { Config } from '../../config/config';
import { ErrorCode } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { type RequestContext, type Services, createContext } from '../graphql/context';
import { errorFormatter, errorRequestPlugin, noteErrorRequest } from '../graphql/errors';
import { CompiledExecution } from '../graphql/compiled-execution';
import { CachedExecution } from '../graphql/cached-operations';
import type { ResponseCache } from '../graphql/response-cache';
import { documentShapeError, subscriptionsOverHttpPlugin } from '../graphql/document-shape';
import { compiledOperations } from './compiled-operations';
import { DEFAULT_OPERATION_LIMITS, operationLimitsRule } from '../graphql/operation-limits';
import { ApiKeys, clientIdentity } from './auth';
import { asksFresh } from './cache-control';
import {
  type GraphQLPostOptions,
  NOT_JSON,
  refuseBody,
  sendError,
  serveGraphQLPost,
  takesRequest,
  tooLarge,
} from './graphql-post';
import { mountProbes, type Readiness } from './probes';
import { RateLimiter } from './rate-limit';
import { requestIdFrom } from './request-id';
import { mountWebSockets } from './websockets';

export interface HttpDeps {
  config: Config;
  schema: GraphQLSchema;
  services: Services;
  log: Logger;
  metrics: Metrics;
  readiness: () => Promise<Readiness>;
  /** Answers kept per user (response-cache.ts); none when absent. */
  responses?: ResponseCache<ExecutionResult>;
}

export class HttpGateway {
  private readonly app = express();
  private readonly keys: ApiKeys;
  private readonly limiter: RateLimiter;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly apollo: ApolloServer<RequestContext>;
  private closeSubscriptions?: () => Promise<void>;
  private draining = false;
  private inFlight = 0;
  private idle?: () => void;
  /** The direct POST path (graphql-post.ts), once Apollo has started. */
  private graphqlPost?: GraphQLPostOptions<RequestContext>;

  constructor(private readonly deps: HttpDeps) {
    this.server = createServer((req, res) => this.handle(req, res));
    // Node closes an idle keep-alive connection after 5 s by default: a
    // client (or balancer) that reuses it at that moment gets a reset, as a
    // load test that paused between phases did. Node's header timeout (60 s,
    // against slow senders) is left as it is: it does not cut idle
    // keep-alive connections short.
    this.server.keepAliveTimeout = deps.config.http.keepAliveMs;
    // A connection that never sends a byte is otherwise kept for good. The
    // ws library clears this timeout on the sockets it upgrades.
    this.server.timeout = deps.config.http.idleTimeoutMs;
    this.keys = new ApiKeys(deps.config.http.apiKeys);
    this.limiter = new RateLimiter(
      deps.config.http.rateLimitPerSecond,
      deps.config.http.rateLimitBurst,
    );
    // A WebSocket message has the same ceiling as a request body: ws would
    // otherwise take messages of up to 100 MiB, and one such document froze
    // a gateway for minutes and then ran it out of memory. A message over it
    // closes the socket with 1009 (message too big) before it is parsed.
    this.wss = new WebSocketServer({
      server: this.server,
      path: deps.config.http.path,
      maxPayload: deps.config.http.maxBodyBytes,
    });
    // Operations run with CompiledExecution, through a plugin and Apollo's
    // gateway interface together (compiled-operations.ts says why both).
    // The response cache, when there is one, is asked first.
    const execution = new CompiledExecution(deps.schema, deps.config.http.compileAfter, (result) =>
      deps.metrics.operationCompiles.inc({ result }),
    );
    const compiled = compiledOperations<RequestContext>(
      deps.schema,
      deps.responses
        ? new CachedExecution(execution, deps.responses, (result) =>
            deps.metrics.responseCache.inc({ result }),
          )
        : execution,
    );
    this.apollo = new ApolloServer<RequestContext>({
      gateway: compiled.gateway,
      introspection: deps.config.env !== 'production',
      includeStacktraceInErrorResponses: false,
      // recflow owns the shutdown order (src/app/app.ts); Apollo must not race it.
      stopOnTerminationSignals: false,
      formatError: errorFormatter(deps.log),
      validationRules: this.validationRules(),
      plugins: [
        deps.config.env === 'production'
          ? ApolloServerPluginLandingPageDisabled()
          : landingPage.ApolloServerPluginLandingPageLocalDefault({
              embed: true,
              includeCookies: false,
            }),
        compiled.plugin,
        subscriptionsOverHttpPlugin(deps.config.http.path),
        metricsPlugin(deps.metrics),
        errorRequestPlugin(),
        // recflow sets no cache hints (lists are per user and change with
        // every event); without this, Apollo wraps every field's resolver
        // to collect hints, on every request.
        ApolloServerPluginCacheControlDisabled(),
      ],
    });
    this.routes(this.app);
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://${this.deps.config.http.host}:${address.port}${this.deps.config.http.path}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    await this.apollo.start();
    this.mountGraphQL();
    this.closeSubscriptions = mountWebSockets({
      wss: this.wss,
      schema: this.deps.schema,
      services: this.deps.services,
      log: this.deps.log,
      keys: this.keys,
      limiter: this.limiter,
      validationRules: this.validationRules(),
      draining: () => this.draining,
    });
    const { host, port } = this.deps.config.http;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  /** Steps 1 and 2 of shutdown: refuse new work, wait for in-flight requests. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.idle = resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
    }
  }

  /** Step 4: close every WebSocket (code 1001, going away), then the server. */
  async close(): Promise<void> {
    this.deps.services.streams.closeAll();
    await this.closeSubscriptions?.();
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await this.apollo.stop();
    this.server.closeAllConnections();
  }

  /**
   * Every HTTP request: a correlation id, then GraphQL POSTs straight to
   * Apollo (graphql-post.ts) and everything else through Express.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const direct = this.graphqlPost;
    if (direct && takesRequest(req, direct.path)) void serveGraphQLPost(req, res, direct);
    else this.app(req, res);
  }

  /**
   * Whether a GraphQL request may run: not while draining, only with a valid
   * key when keys are set, and within the caller's rate. Answers it when not.
   */
  private admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.draining) {
      sendError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, 'the server is shutting down');
      return false;
    }
    const key = (req.headers.authorization ?? req.headers['x-api-key']) as string | undefined;
    if (!this.keys.allows(key)) {
      sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'a valid API key is required');
      return false;
    }
    const wait = this.limiter.take(clientIdentity(this.keys, key, req.socket.remoteAddress));
    if (wait > 0) {
      res.setHeader('retry-after', Math.ceil(wait / 1000));
      sendError(res, 429, ErrorCode.RATE_LIMITED, 'too many requests', { retryAfterMs: wait });
      return false;
    }
    this.track(res);
    return true;
  }

  private routes(app: express.Express): void {
    app.disable('x-powered-by');
    // Express would hash every response body for an ETag; GraphQL answers are
    // POSTs, never revalidated, so that is CPU spent for nothing.
    app.set('etag', false);
    mountProbes(app, {
      metrics: this.deps.metrics,
      readiness: this.deps.readiness,
      draining: () => this.draining,
    });
  }

  private mountGraphQL(): void {
    const { config, services, log } = this.deps;
    const path = config.http.path;
    // The context is made before Apollo parses the document, and what it
    // throws Apollo answers with the error's own status: the place to refuse
    // a document whose shape would exhaust the parser (document-shape.ts).
    const context = (req: IncomingMessage, res: ServerResponse, source: unknown) => {
      const requestId = String(res.getHeader('x-request-id'));
      try {
        const refused = typeof source === 'string' ? documentShapeError(source) : null;
        if (refused) throw refused;
        return createContext(services, requestId, log, asksFresh(req.headers));
      } catch (error) {
        noteErrorRequest(error, requestId);
        throw error;
      }
    };

    this.graphqlPost = {
      apollo: this.apollo,
      path,
      maxBodyBytes: config.http.maxBodyBytes,
      admit: (req, res) => this.admit(req, res),
      context: async (req, res, body) => context(req, res, queryOf(body)),
      onError: (error) => log.error({ err: error }, 'unhandled HTTP error'),
    };
    // What the direct path does not take: GET (and the Sandbox page), other
    // content types and compressed bodies.
    this.app.use(
      path,
      (req: Request, res: Response, next: NextFunction) => {
        const page =
          req.method === 'GET' && req.accepts(['text/html', 'application/json']) === 'text/html';
        if ((page && !this.draining) || this.admit(req, res)) next();
      },
      express.json({ limit: config.http.maxBodyBytes }),
      expressMiddleware(this.apollo, {
        context: async ({ req, res }) =>
          context(req, res, req.method === 'GET' ? queryOfUrl(req.url) : queryOf(req.body)),
      }),
    );
    this.app.use(
      (
        error: Error & { type?: string; status?: number },
        _req: Request,
        res: Response,
        next: NextFunction,
      ) => {
        if (res.headersSent) return next(error);
        // The client went away mid-upload: nobody to answer, nothing to log.
        if (error.type === 'request.aborted') return void res.destroy();
        if (error.type === 'entity.parse.failed') return refuseBody(res, NOT_JSON);
        if (error.type === 'entity.too.large') {
          return refuseBody(res, tooLarge(config.http.maxBodyBytes));
        }
        // The body parser's other refusals are the caller's too (a charset
        // other than UTF-8: 415; a body that does not decompress: 400), and
        // their messages are written to be shown (`expose`).
        const status = error.status ?? 500;
        if (status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
          log.debug({ err: error }, 'request body refused');
          return refuseBody(res, { status, error: error.message });
        }
        log.error({ err: error }, 'unhandled HTTP error');
        return sendError(
          res,
          error.status ?? 500,
          ErrorCode.INTERNAL_SERVER_ERROR,
          'Internal server error',
        );
      },
    );
  }

  /** Our limits, and in production no introspection: the same for HTTP and WebSocket. */
  private validationRules(): ValidationRule[] {
    const rules = [operationLimitsRule(DEFAULT_OPERATION_LIMITS)];
    if (this.deps.config.env === 'production') rules.push(NoSchemaIntrospectionCustomRule);
    return rules;
  }

  private track(res: ServerResponse): void {
    this.inFlight += 1;
    res.once('close', () => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle?.();
    });
  }
}

function metricsPlugin(metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, errors }) {
          const name = operation?.operation ?? 'unknown';
          metrics.httpRequests.inc({ operation: name, outcome: errors?.length ? 'error' : 'ok' });
          metrics.httpLatency.observe(
            { operation: name },
            Number(process.hrtime.bigint() - started) / 1e9,
          );
        },
      };
    },
  };
}

/**
 * The `query` of a GET, read from the URL as Apollo reads it (Express's own
 * parser stops at 1,000 parameters, so a query after them would go
 * unchecked); every copy of it, since Apollo refuses a repeated one anyway.
 */
function queryOfUrl(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : new URLSearchParams(url.slice(at)).getAll('query').join('\n');
}

/** The `query` of a GraphQL request body, when it has one. */
function queryOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null
    ? (body as { query?: unknown }).query
    : undefined;
}
