import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { serveGraphQLPost, takesRequest } from '../../../../src/api/http/graphql-post';

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

describe('serveGraphQLPost', () => {
  test('a client that goes away mid-upload is not reported as a server error', async () => {
    const onError = jest.fn();
    let served!: Promise<void>;
    const server = createServer((req, res) => {
      served = serveGraphQLPost(req, res, {
        apollo: {} as never, // never reached: the body does not arrive
        path: '/graphql',
        maxBodyBytes: 1 << 20,
        admit: () => true,
        context: async () => ({}),
        onError,
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n' +
        'content-length: 1000\r\n\r\n{"query":',
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await served;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(onError).not.toHaveBeenCalled();
  });
});
