/*
 * The HTTP/1.1 connection over real sockets: keep-alive, pipelining, HEAD, 204/304, streams,
 * 100-continue, Connection: close both ways, HTTP/1.0, app errors and bad headers, unread
 * bodies, diagnostics. Raw sockets (test/kit) where the bytes on the wire are the point,
 * fetch where an ordinary client is.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startServer, collect, type TestServer } from './kit/index.js';
import { channels, GatehouseError, type GatewayRequest, type GatewayResponse, type RequestEndMessage, type RequestErrorMessage, type RequestStartMessage, type ConnectionMessage } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** One app with a route per behaviour under test. */
async function app(request: GatewayRequest): Promise<GatewayResponse> {
  const url = new URL(request.target, 'http://t');
  const param = (name: string) => url.searchParams.get(name);
  switch (url.pathname) {
    case '/echo': {
      const body = await request.body.bytes();
      return { status: 200, headers: [['content-type', 'application/octet-stream'], ['x-method', request.method], ['x-version', request.httpVersion]], body };
    }
    case '/json': return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(await request.body.json()) };
    case '/slow': await sleep(Number(param('ms') ?? 100)); return { status: 200, body: `slow ${param('id')}` };
    case '/fast': return { status: 200, body: `fast ${param('id')}` };
    case '/status': return { status: Number(param('code')), headers: param('cl') ? [['content-length', param('cl')!]] : [], body: param('body') ?? null };
    case '/stream': {
      const parts = Number(param('parts') ?? 3);
      return {
        status: 200,
        body: (async function* () { for (let i = 0; i < parts; i++) { await sleep(1); yield Buffer.from(`part${i};`); } })(),
      };
    }
    case '/stream-wrong-length':
      return { status: 200, headers: [['content-length', '100']], body: (async function* () { yield Buffer.from('only ten b'); })() };
    case '/close': return { status: 200, headers: [['Connection', 'close']], body: 'bye' };
    case '/bad-header': return { status: 200, headers: [['x-evil', 'a\r\nset-cookie: stolen=1']], body: 'never' };
    case '/bad-name': return { status: 200, headers: [['bad name', 'x']], body: 'never' };
    case '/throw': throw new Error('boom in the app');
    case '/reject': return Promise.reject(new TypeError('rejected in the app'));
    case '/busy': throw new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', 'test');
    case '/ignore-body': return { status: 200, body: 'ignored your body' };
    case '/unicode': return { status: 200, body: 'h\u00e9llo \u2603' };
    case '/date': return { status: 200, headers: [['date', 'Sun, 06 Nov 1994 08:49:37 GMT']], body: '' };
    case '/upgrade': return { status: 200, body: `upgrade header: ${request.headers.get('upgrade')}` };
    default: return { status: 200, headers: [['content-type', 'text/plain']], body: `path ${request.path}` };
  }
}

describe('connection: persistence and framing', { timeout: 20_000 }, () => {
  let server: TestServer;
  before(async () => { server = await startServer({ app }); });
  after(() => server.close());

  it('keeps an HTTP/1.1 connection open across requests', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/a'));
      await client.readResponses(1);
      await client.write(GET('/b'));
      const responses = await client.readResponses(2);
      assert.deepEqual(responses.map((r) => r.text()), ['path /a', 'path /b']);
      assert.equal(responses[0]!.header('connection'), null);
      assert.equal(client.ended, false);
      assert.equal(server.sockets.length >= 1, true);
    } finally { client.destroy(); }
  });

  it('answers pipelined requests in order, in one write', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/1') + GET('/2') + GET('/3') + GET('/4'));
      const responses = await client.readResponses(4);
      assert.deepEqual(responses.map((r) => r.text()), ['path /1', 'path /2', 'path /3', 'path /4']);
    } finally { client.destroy(); }
  });

  it('keeps request order when the first pipelined request is slow and the second fast', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/slow?ms=150&id=1') + GET('/fast?id=2') + GET('/slow?ms=20&id=3') + GET('/fast?id=4'));
      const responses = await client.readResponses(4);
      assert.deepEqual(responses.map((r) => r.text()), ['slow 1', 'fast 2', 'slow 3', 'fast 4']);
    } finally { client.destroy(); }
  });

  it('parses pipelined requests split at every byte', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.writeInPieces(GET('/x') + 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc' + GET('/y'), 1);
      const responses = await client.readResponses(3);
      assert.deepEqual(responses.map((r) => r.text()), ['path /x', 'abc', 'path /y']);
    } finally { client.destroy(); }
  });

  it('reads a chunked request body and echoes it', async () => {
    const client = await RawClient.connect(server.port);
    try {
      const request = 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n';
      await client.writeInPieces(request, [10, 50, 60, 70, 80]);
      const [response] = await client.readResponses(1);
      assert.equal(response!.text(), 'hello world');
      assert.equal(response!.header('content-length'), '11');
    } finally { client.destroy(); }
  });

  it('HEAD: headers as for GET with Content-Length, no body bytes', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n' + GET('/after'));
      const responses = await client.readResponses(2, { methods: ['HEAD', 'GET'] });
      assert.equal(responses[0]!.status, 200);
      assert.equal(responses[0]!.header('content-length'), String('path /hello'.length));
      assert.equal(responses[0]!.body.length, 0);
      // The next response starts right after the HEAD response's head: no body bytes were sent.
      assert.equal(responses[1]!.text(), 'path /after');
    } finally { client.destroy(); }
  });

  it('204 and 304 carry no body and no added Content-Length or Transfer-Encoding', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/status?code=204&body=dropped') + GET('/status?code=304&body=dropped') + GET('/after'));
      const responses = await client.readResponses(3);
      for (const response of responses.slice(0, 2)) {
        assert.equal(response.header('content-length'), null);
        assert.equal(response.header('transfer-encoding'), null);
        assert.ok(response.raw.toString('latin1').endsWith('\r\n\r\n'));
      }
      assert.deepEqual(responses.map((r) => r.status), [204, 304, 200]);
      assert.equal(responses[2]!.text(), 'path /after');
    } finally { client.destroy(); }
  });

  it('counts Content-Length in bytes for a UTF-8 string body', async () => {
    const response = await fetch(`${server.origin}/unicode`);
    assert.equal(response.headers.get('content-length'), String(Buffer.byteLength('h\u00e9llo \u2603')));
    assert.equal(await response.text(), 'h\u00e9llo \u2603');
  });

  it('streams an async-iterable body chunked on HTTP/1.1', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/stream?parts=3') + GET('/after'));
      const responses = await client.readResponses(2);
      assert.equal(responses[0]!.framing, 'chunked');
      assert.equal(responses[0]!.text(), 'part0;part1;part2;');
      assert.equal(responses[1]!.text(), 'path /after');
    } finally { client.destroy(); }
  });

  it('streams to HTTP/1.0 by closing the connection at the end', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('GET /stream?parts=2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const [response] = await client.readUntilClose();
      assert.equal(response!.framing, 'close');
      assert.equal(response!.header('connection'), 'close');
      assert.equal(response!.text(), 'part0;part1;');
    } finally { client.destroy(); }
  });

  it('adds Date and Server, and keeps the app\'s own Date', async () => {
    const plain = await fetch(`${server.origin}/x`);
    assert.equal(plain.headers.get('server'), 'gatehouse');
    assert.ok(Math.abs(Date.parse(plain.headers.get('date')!) - Date.now()) < 3000);
    const own = await fetch(`${server.origin}/date`);
    assert.equal(own.headers.get('date'), 'Sun, 06 Nov 1994 08:49:37 GMT');
  });

  it('round-trips JSON and a 1 MiB body with fetch', async () => {
    const json = await fetch(`${server.origin}/json`, { method: 'POST', body: JSON.stringify({ a: [1, 2, 'three'] }), headers: { 'content-type': 'application/json' } });
    assert.deepEqual(await json.json(), { a: [1, 2, 'three'] });
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const echoed = await fetch(`${server.origin}/echo`, { method: 'POST', body: big });
    assert.ok(Buffer.from(await echoed.arrayBuffer()).equals(big));
  });

  it('serves an Upgrade request as an ordinary request (no 101)', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' + GET('/after'));
      const responses = await client.readResponses(2);
      assert.equal(responses[0]!.status, 200);
      assert.equal(responses[0]!.text(), 'upgrade header: websocket');
      assert.equal(responses[1]!.text(), 'path /after');
    } finally { client.destroy(); }
  });
});

describe('connection: closing', { timeout: 20_000 }, () => {
  let server: TestServer;
  before(async () => { server = await startServer({ app }); });
  after(() => server.close());

  it('closes after a request with Connection: close, and says so', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/a', 'Connection: close\r\n') + GET('/never'));
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.header('connection'), 'close');
      assert.equal(responses[0]!.text(), 'path /a');
    } finally { client.destroy(); }
  });

  it('closes after a response whose app set Connection: close, writing the field once', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/close') + GET('/never'));
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.deepEqual(responses[0]!.headerAll('connection'), ['close']);
      assert.equal(responses[0]!.text(), 'bye');
    } finally { client.destroy(); }
  });

  it('HTTP/1.0 without keep-alive: one response, then close', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('GET /one HTTP/1.0\r\n\r\n');
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.text(), 'path /one');
      assert.equal(responses[0]!.header('connection'), 'close');
    } finally { client.destroy(); }
  });

  it('HTTP/1.0 with Connection: keep-alive: echoes it and serves the next request', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const first = await client.readResponses(1);
      assert.equal(first[0]!.header('connection'), 'keep-alive');
      await client.write('GET /two HTTP/1.0\r\n\r\n');
      const responses = await client.readUntilClose();
      assert.deepEqual(responses.map((r) => r.text()), ['path /one', 'path /two']);
      assert.equal(responses[1]!.header('connection'), 'close');
    } finally { client.destroy(); }
  });

  it('answers a request whose client half-closed right after sending it', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/half'));
      client.end();
      const responses = await client.readUntilClose();
      assert.deepEqual(responses.map((r) => r.text()), ['path /half']);
    } finally { client.destroy(); }
  });
});

describe('connection: Expect: 100-continue', { timeout: 20_000 }, () => {
  let server: TestServer;
  before(async () => { server = await startServer({ app }); });
  after(() => server.close());

  it('sends 100 Continue when the app reads the body, and only then', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
      await client.waitForBytes(1);
      assert.equal(client.receivedText, 'HTTP/1.1 100 Continue\r\n\r\n');
      await client.write('body');
      const responses = await client.readResponses(1);
      assert.equal(responses[0]!.interim, true);
      assert.equal(responses[1]!.status, 200);
      assert.equal(responses[1]!.text(), 'body');
      assert.equal(responses[1]!.header('connection'), null, 'the connection stays usable');
    } finally { client.destroy(); }
  });

  it('sends no 100 when the app answers without reading, and closes the connection', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 200);
      assert.equal(responses[0]!.header('connection'), 'close');
      assert.doesNotMatch(client.receivedText, /100 Continue/);
    } finally { client.destroy(); }
  });
});

describe('connection: unread request bodies', { timeout: 20_000 }, () => {
  let server: TestServer;
  before(async () => { server = await startServer({ app }); });
  after(() => server.close());

  it('drops a small unread body and keeps the connection', async () => {
    const client = await RawClient.connect(server.port);
    try {
      const body = 'x'.repeat(1000);
      await client.write(`POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}` + GET('/after'));
      const responses = await client.readResponses(2);
      assert.equal(responses[0]!.header('connection'), null);
      assert.deepEqual(responses.map((r) => r.text()), ['ignored your body', 'path /after']);
    } finally { client.destroy(); }
  });

  it('drops an unread chunked body that arrives after the response', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write('POST /ignore-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
      await client.readResponses(1);
      await client.write('3\r\nabc\r\n0\r\n\r\n' + GET('/after'));
      const responses = await client.readResponses(2);
      assert.equal(responses[1]!.text(), 'path /after');
    } finally { client.destroy(); }
  });

  it('closes instead of reading a large unread body', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(`POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n` + 'x'.repeat(1000));
      const responses = await client.readUntilClose();
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.header('connection'), 'close');
    } finally { client.destroy(); }
  });
});

describe('connection: app errors', { timeout: 20_000 }, () => {
  let server: TestServer;
  let errors: ReturnType<typeof collect<RequestErrorMessage>>;
  before(async () => { server = await startServer({ app }); errors = collect<RequestErrorMessage>(channels.requestError); });
  after(() => { errors.stop(); return server.close(); });

  it('a header value with CRLF gets a 500, is reported, and the connection goes on', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/bad-header') + GET('/bad-name') + GET('/after'));
      const responses = await client.readResponses(3);
      assert.deepEqual(responses.map((r) => r.status), [500, 500, 200]);
      assert.doesNotMatch(client.receivedText, /stolen|never/);
      assert.equal(responses[0]!.header('connection'), null);
      assert.equal(responses[2]!.text(), 'path /after');
      const reported = errors.messages.filter((m) => m.request?.path === '/bad-header');
      assert.equal(reported.length, 1);
      assert.equal((reported[0]!.error as GatehouseError).code, 'ERR_APP_BAD_HEADER');
    } finally { client.destroy(); }
  });

  it('a throwing or rejecting app gets a 500 without its stack, reported with the request; the server goes on', async () => {
    const thrown = await fetch(`${server.origin}/throw`);
    assert.equal(thrown.status, 500);
    const text = await thrown.text();
    assert.match(text, /Application raised an error/);
    assert.doesNotMatch(text, /boom|at /);
    const rejected = await fetch(`${server.origin}/reject`);
    assert.equal(rejected.status, 500);
    assert.doesNotMatch(await rejected.text(), /rejected in the app/);
    const report = errors.messages.find((m) => m.request?.path === '/throw')!;
    assert.equal(report.request!.method, 'GET');
    assert.equal((report.error as Error).message, 'boom in the app');
    assert.equal(report.phase, 'app');
    assert.equal((await fetch(`${server.origin}/fine`)).status, 200);
  });

  it('a GatehouseError the app lets through answers with its own status', async () => {
    assert.equal((await fetch(`${server.origin}/busy`)).status, 503);
    const invalid = await fetch(`${server.origin}/json`, { method: 'POST', body: '{not json' });
    assert.equal(invalid.status, 400);
  });

  it('a stream that disagrees with its Content-Length aborts the connection', async () => {
    const client = await RawClient.connect(server.port);
    try {
      await client.write(GET('/stream-wrong-length'));
      await client.waitForClose();
      assert.equal(client.responses().length, 0, 'no complete response: the body was cut short');
      assert.ok(errors.messages.some((m) => m.request?.path === '/stream-wrong-length' && (m.error as GatehouseError).code === 'ERR_APP_BAD_RESPONSE'));
    } finally { client.destroy(); }
  });
});

describe('connection: debug mode', { timeout: 10_000 }, () => {
  it('sends the stack to the client when settings.debug is on', async () => {
    const server = await startServer({ app, settings: { debug: true } });
    try {
      const text = await (await fetch(`${server.origin}/throw`)).text();
      assert.match(text, /boom in the app/);
      assert.match(text, /at /);
    } finally { await server.close(); }
  });
});

describe('connection: diagnostics', { timeout: 10_000 }, () => {
  it('publishes requestStart, requestEnd (status, bytes, hrtime) and connection open/close', async () => {
    const starts = collect<RequestStartMessage>(channels.requestStart);
    const ends = collect<RequestEndMessage>(channels.requestEnd);
    const opens = collect<ConnectionMessage>(channels.connectionOpen);
    const closes = collect<ConnectionMessage>(channels.connectionClose);
    const server = await startServer({ app });
    try {
      const client = await RawClient.connect(server.port);
      await client.write(GET('/diag', 'Connection: close\r\n'));
      await client.readUntilClose();
      const end = await ends.next();
      const start = starts.messages.find((m) => m.request.path === '/diag')!;
      assert.equal(end.request.path, '/diag');
      assert.equal(end.status, 200);
      assert.equal(end.bytes, 'path /diag'.length);
      assert.equal(end.startedAt, start.startedAt);
      assert.ok(end.endedAt >= end.startedAt);
      // Channels are process-wide: pick this client's connection out by its address.
      const remote = `127.0.0.1:${client.socket.localPort}`;
      assert.ok(opens.messages.some((m) => m.remote === remote && m.open >= 1));
      for (let i = 0; i < 50 && !closes.messages.some((m) => m.remote === remote); i++) await sleep(10);
      assert.ok(closes.messages.some((m) => m.remote === remote));
      client.destroy();
    } finally {
      starts.stop(); ends.stop(); opens.stop(); closes.stop();
      await server.close();
    }
  });
});

describe('single engine', { timeout: 10_000 }, () => {
  it('serves through SingleEngine with this protocol layer', async () => {
    const server = await startServer({ app, engine: 'single' });
    try {
      const response = await fetch(`${server.origin}/hello`);
      assert.equal(await response.text(), 'path /hello');
      assert.equal(response.headers.get('server'), 'gatehouse');
    } finally { await server.close(); }
  });
});
