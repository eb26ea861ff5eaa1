/**
 * A keep-alive GraphQL-over-HTTP client for load: bodies are serialised
 * before the clock starts, sockets are reused, and every request has a
 * timeout so that no load loop can hang.
 */
import { Agent, request } from 'node:http';

export interface GraphQLAnswer {
  data?: Record<string, any>;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export class GraphQLHttp {
  private readonly agent: Agent;
  private readonly target: URL;

  constructor(
    url: string,
    maxSockets = 256,
    private readonly timeoutMs = 10_000,
  ) {
    this.target = new URL(url);
    if (!['127.0.0.1', 'localhost'].includes(this.target.hostname)) {
      throw new Error(`the bench only sends traffic to 127.0.0.1, not ${this.target.hostname}`);
    }
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** A request body, serialised once. */
  static body(query: string, variables?: Record<string, unknown>): string {
    return JSON.stringify({ query, variables });
  }

  /**
   * POSTs a serialised body, with `headers` added; rejects on HTTP errors
   * and on GraphQL errors.
   */
  post(body: string, headers?: Record<string, string>): Promise<GraphQLAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let answer: GraphQLAnswer;
            try {
              answer = JSON.parse(text) as GraphQLAnswer;
            } catch {
              return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            }
            if (res.statusCode !== 200 || answer.errors?.length) {
              const first = answer.errors?.[0];
              return reject(
                new Error(`HTTP ${res.statusCode}: ${first?.message ?? text.slice(0, 200)}`),
              );
            }
            resolve(answer);
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  query(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer> {
    return this.post(GraphQLHttp.body(query, variables));
  }

  close(): void {
    this.agent.destroy();
  }
}
