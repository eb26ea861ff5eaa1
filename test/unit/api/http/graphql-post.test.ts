import type { IncomingMessage } from 'node:http';
import { takesRequest } from '../../../../src/api/http/graphql-post';

function request(method: string, url: string, headers: Record<string, string> = {}) {
  return { method, url, headers } as unknown as IncomingMessage;
}

describe('takesRequest (which requests skip Express)', () => {
  const json = { 'content-type': 'application/json' };

  test.each([
    ['a JSON POST to the path', request('POST', '/graphql', json)],
    ['with a query string', request('POST', '/graphql?op=x', json)],
    [
      'with a UTF-8 charset',
      request('POST', '/graphql', { 'content-type': 'application/json; charset=UTF-8' }),
    ],
    [
      'with an identity encoding',
      request('POST', '/graphql', { ...json, 'content-encoding': 'identity' }),
    ],
  ])('takes %s', (_what, req) => {
    expect(takesRequest(req, '/graphql')).toBe(true);
  });

  test.each([
    ['a GET', request('GET', '/graphql', json)],
    ['another path', request('POST', '/graphqlx', json)],
    ['a sub-path', request('POST', '/graphql/x', json)],
    ['no content type', request('POST', '/graphql')],
    ['another content type', request('POST', '/graphql', { 'content-type': 'text/plain' })],
    [
      'another charset',
      request('POST', '/graphql', { 'content-type': 'application/json; charset=latin1' }),
    ],
    ['a compressed body', request('POST', '/graphql', { ...json, 'content-encoding': 'gzip' })],
  ])('leaves %s to Express', (_what, req) => {
    expect(takesRequest(req, '/graphql')).toBe(false);
  });
});
