/**
 * An HTTP server for an Express app whose requests and responses are born
 * with the app's prototypes.
 *
 * Express 5 re-parents every request and response it handles onto its
 * app's prototypes (`Object.setPrototypeOf` in `app.handle`). On V8 the
 * re-parented objects, and what they reference, tend to survive the next
 * young-generation collection and get promoted, though the request is long
 * over: measured on Node 20 at 1,000 req/s, a bare Express app promoted
 * 5-12 KB per request against almost nothing for `node:http` alone, and the
 * old generation then filled every few seconds, each time with a major GC
 * pause in the request path.
 *
 * Node's server takes the classes it builds requests and responses from.
 * These build them directly with the prototypes Express would set, so
 * Express's call finds the prototype already in place and changes nothing.
 * Everything else about them (fields, methods, the prototype chain) is what
 * Express would have made.
 */
import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express } from 'express';

export function createExpressServer(app: Express): Server {
  return createServer(
    {
      IncomingMessage: bornWith<typeof IncomingMessage>(IncomingMessage, app.request),
      ServerResponse: bornWith<typeof ServerResponse>(ServerResponse, app.response),
    },
    app,
  );
}

/**
 * A constructor that builds `Base` instances whose prototype is
 * `prototype` (which must inherit from `Base.prototype`).
 */
function bornWith<T extends new (...args: never[]) => object>(Base: T, prototype: object): T {
  function Born(...args: unknown[]): object {
    return Reflect.construct(Base, args, Born);
  }
  Born.prototype = prototype;
  return Born as unknown as T;
}
