/*
 * Malformed requests on the wire: one raw-socket test per class the parser rejects. Each must
 * get its status with `Connection: close`, the connection must close, and nothing after the
 * bad bytes may be served (a smuggled second request gets no response). The parser's own
 * tests cover each rule byte by byte; these check what the connection does with its verdict.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startServer, collect, type TestServer } from './kit/index.js';
import { channels, type GatewayRequest, type ProtocolErrorMessage } from '../src/index.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n';

describe('connection: protocol errors', { timeout: 30_000 }, () => {
  let server: TestServer;
  const served: string[] = [];
  let reported: ReturnType<typeof collect<ProtocolErrorMessage>>;
  before(async () => {
    reported = collect<ProtocolErrorMessage>(channels.protocolError);
    server = await startServer({
      app: async (request: GatewayRequest) => {
        served.push(request.path);
        await request.body.bytes();
        return { status: 200, body: `served ${request.path}` };
      },
      settings: { limitRequestLine: 256, limitRequestFields: 10, limitRequestFieldSize: 256, maxBodySize: 1024 },
    });
  });
  after(() => { reported.stop(); return server.close(); });

  const cases: Array<{ name: string; status: number; code: string; bytes: string }> = [
    { name: '400 bare LF line ending', status: 400, code: 'ERR_HTTP_BAD_REQUEST', bytes: 'GET /a HTTP/1.1\nHost: t\n\n' },
    { name: '400 Content-Length with Transfer-Encoding', status: 400, code: 'ERR_HTTP_BAD_REQUEST', bytes: 'POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
    { name: '400 missing Host on HTTP/1.1', status: 400, code: 'ERR_HTTP_BAD_REQUEST', bytes: 'GET /a HTTP/1.1\r\n\r\n' },
    { name: '400 whitespace before the colon', status: 400, code: 'ERR_HTTP_BAD_REQUEST', bytes: 'GET /a HTTP/1.1\r\nHost : t\r\n\r\n' },
    { name: '413 Content-Length over maxBodySize', status: 413, code: 'ERR_HTTP_BODY_TOO_LARGE', bytes: 'POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n' },
    { name: '414 request-line over limitRequestLine', status: 414, code: 'ERR_HTTP_URI_TOO_LONG', bytes: `GET /${'a'.repeat(400)} HTTP/1.1\r\nHost: t\r\n\r\n` },
    { name: '431 field over limitRequestFieldSize', status: 431, code: 'ERR_HTTP_HEADERS_TOO_LARGE', bytes: `GET /a HTTP/1.1\r\nHost: t\r\nX-Big: ${'b'.repeat(400)}\r\n\r\n` },
    { name: '431 more fields than limitRequestFields', status: 431, code: 'ERR_HTTP_HEADERS_TOO_LARGE', bytes: 'GET /a HTTP/1.1\r\nHost: t\r\n' + Array.from({ length: 12 }, (_, i) => `X-${i}: v\r\n`).join('') + '\r\n' },
    { name: '501 unknown transfer-coding', status: 501, code: 'ERR_HTTP_NOT_IMPLEMENTED', bytes: 'POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' },
    { name: '505 unsupported HTTP version', status: 505, code: 'ERR_HTTP_VERSION', bytes: 'GET /a HTTP/1.2\r\nHost: t\r\n\r\n' },
  ];

  for (const c of cases) {
    it(`${c.name}: status + Connection: close, then close; the smuggled request is not served`, async () => {
      served.length = 0;
      const before = reported.messages.length;
      const client = await RawClient.connect(server.port);
      try {
        await client.write(c.bytes + SMUGGLED);
        const responses = await client.readUntilClose();
        assert.equal(responses.length, 1, `exactly one response, got: ${JSON.stringify(client.receivedText)}`);
        assert.equal(responses[0]!.status, c.status);
        assert.equal(responses[0]!.header('connection'), 'close');
        assert.doesNotMatch(client.receivedText, /smuggled/);
        assert.deepEqual(served, [], 'the app saw neither request');
        const report = reported.messages.slice(before).find((m) => m.remote === `127.0.0.1:${client.socket.localPort}`);
        assert.equal(report?.code, c.code);
        assert.equal(report?.status, c.status);
      } finally { client.destroy(); }
    });
  }

  it('a bad request after a good one on the same connection: the good one is answered, then the error', async () => {
    served.length = 0;
    const client = await RawClient.connect(server.port);
    try {
      await client.write('GET /good HTTP/1.1\r\nHost: t\r\n\r\n' + 'GET /bad HTTP/1.1\nHost: t\n\n' + SMUGGLED);
      const responses = await client.readUntilClose();
      assert.deepEqual(responses.map((r) => r.status), [200, 400]);
      assert.deepEqual(served, ['/good']);
    } finally { client.destroy(); }
  });

  it('a framing error inside a chunked body the app is reading: 400, close, nothing after it served', async () => {
    served.length = 0;
    const client = await RawClient.connect(server.port);
    try {
      await client.write('POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
      await new Promise((r) => setTimeout(r, 30));
      await client.write('zz\r\nnot hex\r\n0\r\n\r\n' + SMUGGLED);
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 400);
      assert.equal(responses[0]!.header('connection'), 'close');
      assert.deepEqual(served, ['/upload']);
    } finally { client.destroy(); }
  });

  it('a chunked body that grows past maxBodySize while the app reads it: 413', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n' + 'a'.repeat(512) + '\r\n');
      await new Promise((r) => setTimeout(r, 30));
      await client.write('400\r\n' + 'b'.repeat(1024) + '\r\n0\r\n\r\n');
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 413);
    } finally { client.destroy(); }
  });

  it('the server still serves new connections afterwards', async () => {
    const response = await fetch(`${server.origin}/still-here`);
    assert.equal(await response.text(), 'served /still-here');
  });
});
