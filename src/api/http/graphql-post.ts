/**
 * GraphQL over HTTP POST on `node:http`, straight into Apollo Server.
 *
 * Almost all traffic is `POST <path>` with a JSON body. Served through
 * Express, each such request cost about twice the CPU of Apollo behind
 * `node:http`, and left 6-10 KB per request that outlived a young-generation
 * collection (Express re-parents every request and response, and its router
 * keeps closures on them), so the gateway ran a major GC every few seconds
 * under load. See README "Query path".
 *
 * This handler takes only the requests it can serve exactly as the Express
 * route did: POST to the GraphQL path, a JSON content type and no content
 * encoding. Everything else (GET, the Sandbox page, compressed bodies, other
 * content types, the probes) goes on to Express, unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';
import { ErrorCode } from '../../domain/errors';

export interface GraphQLPostOptions<Context extends BaseContext> {
  apollo: ApolloServer<Context>;
  /** The GraphQL path, e.g. `/graphql`. */
  path: string;
  maxBodyBytes: number;
  /**
   * Refuses the request when it must not run (draining, auth, rate limit),
   * answering it; true when it may go on.
   */
  admit: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The request's context, made before Apollo parses `body` (the parsed JSON). */
  context: (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<Context>;
  /** An error no answer was written for (the request is then answered with 500). */
  onError: (error: unknown) => void;
}

/** `application/json`, with no parameter but an optional UTF-8 charset. */
const JSON_UTF8 = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** A body that cannot be read, answered the same way on both HTTP paths. */
export interface BodyRefusal {
  status: number;
  error: string;
}

export const NOT_JSON: BodyRefusal = { status: 400, error: 'the request body is not valid JSON' };

export function tooLarge(limit: number): BodyRefusal {
  return { status: 413, error: `the request body exceeds ${limit} bytes` };
}

export function refuseBody(res: ServerResponse, refusal: BodyRefusal): void {
  sendError(res, refusal.status, ErrorCode.BAD_REQUEST, refusal.error);
}

/** A request target's path and its query string (with its `?`, or empty). */
function splitUrl(url = ''): { path: string; search: string } {
  const at = url.indexOf('?');
  return at === -1 ? { path: url, search: '' } : { path: url.slice(0, at), search: url.slice(at) };
}

/** True when this path serves the request; false to hand it to the next handler. */
export function takesRequest(req: IncomingMessage, path: string): boolean {
  if (req.method !== 'POST') return false;
  if (splitUrl(req.url).path !== path) return false;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  return JSON_UTF8.test(req.headers['content-type'] ?? '');
}

/** Serves one request that `takesRequest` accepted. Never rejects. */
export async function serveGraphQLPost<Context extends BaseContext>(
  req: IncomingMessage,
  res: ServerResponse,
  options: GraphQLPostOptions<Context>,
): Promise<void> {
  try {
    if (!options.admit(req, res)) {
      req.resume();
      return;
    }
    const body = await readJson(req, options.maxBodyBytes);
    if ('error' in body) return refuseBody(res, body);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: 'POST',
        headers,
        search: splitUrl(req.url).search,
        body: body.value,
      },
      context: () => options.context(req, res, body.value),
    });
    for (const [key, value] of answer.headers) res.setHeader(key, value);
    res.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(answer.body.string));
      res.end(answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
  } catch (error) {
    // A client that went away mid-upload leaves nobody to answer.
    if (req.destroyed) {
      res.destroy();
      return;
    }
    options.onError(error);
    if (!res.headersSent) {
      sendError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
    } else {
      res.destroy();
    }
  }
}

type ReadBody = { value: unknown } | BodyRefusal;

/**
 * The body parsed as JSON, as Express's `json()` would accept it: at most
 * `limit` bytes, UTF-8, and an object or array at the top.
 */
function readJson(req: IncomingMessage, limit: number): Promise<ReadBody> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.resolve(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (length > limit) return resolve(tooLarge(limit));
      // Like Express's json(): an empty body is an empty object (Apollo then
      // says what is missing).
      if (length === 0) return resolve({ value: {} });
      const text = Buffer.concat(chunks, length).toString('utf8');
      try {
        // A leading byte-order mark is allowed, as Express's json() allows it.
        const value: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
        if (typeof value === 'object' && value !== null) return resolve({ value });
      } catch {
        // Answered below, as for any body that is not a JSON object or array.
      }
      resolve(NOT_JSON);
    });
  });
}

/** A GraphQL-shaped error answer with a stable code, as every HTTP error of the gateway. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: object = {},
): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code, ...extra } }] });
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
