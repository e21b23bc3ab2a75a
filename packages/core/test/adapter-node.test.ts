/*
 * The node:http listener adapter: what a (req, res) app observes of the request and the
 * response, streamed bodies both ways with backpressure, the client going away, the APIs that
 * are refused with ERR_APP_ADAPTER_UNSUPPORTED, and the same over real HTTP. Expected values
 * come from node:http's documented behaviour (message.headers rules, writeHead merging,
 * 'finish' then 'close'), not from this adapter's output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable, pipeline } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import {
  adaptNodeListener, validate, GatehouseError, HeaderList,
  type GatewayResponse, type NodeListener,
} from '../src/index.js';
import { startServer, RawClient } from './kit/index.js';
import { gatewayRequest, manualSource, type TestRequestOptions } from './kit/requests.js';

function headersOf(response: GatewayResponse): HeaderList {
  return HeaderList.from(response.headers);
}

async function bodyBytes(response: GatewayResponse): Promise<Buffer> {
  const body = response.body;
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Runs `listener` (validated: both sides of the Gateway contract) on one request. */
function serve(listener: NodeListener, options: TestRequestOptions = {}): Promise<GatewayResponse> {
  return Promise.resolve(validate(adaptNodeListener(listener))(gatewayRequest(options)));
}

/** Resolves with what the listener hands to `capture` (for looking at req/res themselves). */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

function isUnsupported(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof GatehouseError, `expected a GatehouseError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_APP_ADAPTER_UNSUPPORTED');
    assert.match(error.message, pattern);
    assert.match(error.message, /not supported under Gatehouse/);
    return true;
  };
}

describe('node adapter: the request (req)', { timeout: 10_000 }, () => {
  it('is a real http.IncomingMessage with method, url (raw target), httpVersion and addresses on its socket', async () => {
    const seen = deferred<http.IncomingMessage>();
    await serve((req, res) => { seen.resolve(req); res.end(); }, { method: 'PATCH', target: '/a%20b/c?x=1&y=%2F' });
    const req = await seen.promise;
    assert.ok(req instanceof http.IncomingMessage);
    assert.equal(req.method, 'PATCH');
    assert.equal(req.url, '/a%20b/c?x=1&y=%2F');
    assert.equal(req.httpVersion, '1.1');
    assert.equal(req.httpVersionMajor, 1);
    assert.equal(req.httpVersionMinor, 1);
    assert.equal(req.socket.remoteAddress, '203.0.113.7');
    assert.equal(req.socket.remotePort, 50123);
    assert.equal(req.socket.remoteFamily, 'IPv4');
    assert.equal(req.socket.localAddress, '127.0.0.1');
    assert.equal(req.socket.localPort, 8080);
    assert.equal(req.connection, req.socket);
    assert.equal((req.socket as unknown as { encrypted?: boolean }).encrypted, undefined);
  });

  it('marks https with socket.encrypted (what Express reads for req.protocol) and reports HTTP/1.0', async () => {
    const seen = deferred<http.IncomingMessage>();
    await serve((req, res) => { seen.resolve(req); res.end(); }, { scheme: 'https', httpVersion: '1.0' });
    const req = await seen.promise;
    assert.equal((req.socket as unknown as { encrypted?: boolean }).encrypted, true);
    assert.equal(req.httpVersion, '1.0');
    assert.equal(req.httpVersionMinor, 0);
  });

  it('builds req.headers by node\'s rules: set-cookie an array, list fields joined with ", ", cookie with "; ", singletons keep the first', async () => {
    const seen = deferred<http.IncomingMessage>();
    await serve((req, res) => { seen.resolve(req); res.end(); }, {
      headers: [
        ['host', 'example.test'], ['accept', 'text/html'], ['set-cookie', 'a=1'], ['content-type', 'text/plain'],
        ['accept', 'application/json'], ['cookie', 'x=1'], ['set-cookie', 'b=2'], ['content-type', 'text/html'],
        ['cookie', 'y=2'], ['x-custom', 'one'], ['x-custom', 'two'], ['user-agent', 'first'], ['user-agent', 'second'],
      ],
    });
    const req = await seen.promise;
    assert.deepEqual({ ...req.headers }, {
      host: 'example.test',
      accept: 'text/html, application/json',
      'set-cookie': ['a=1', 'b=2'],
      'content-type': 'text/plain',
      cookie: 'x=1; y=2',
      'x-custom': 'one, two',
      'user-agent': 'first',
    });
    assert.deepEqual(req.headersDistinct['content-type'], ['text/plain', 'text/html']);
    // rawHeaders: arrival order; names lower-case because Gatehouse's parser lower-cases them.
    assert.deepEqual(req.rawHeaders.slice(0, 6), ['host', 'example.test', 'accept', 'text/html', 'set-cookie', 'a=1']);
    assert.equal(req.rawHeaders.length, 26);
  });

  it('streams the body as data events in order, then end, with complete set', async () => {
    const { source, push, end } = manualSource();
    const events: string[] = [];
    const response = serve((req, res) => {
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => events.push(`data:${chunk}`));
      req.on('end', () => { events.push(`end:complete=${req.complete}`); res.end('done'); });
    }, { method: 'POST', body: source });
    push('one '); push('two '); await tick(); push('three'); end();
    assert.equal((await bodyBytes(await response)).toString(), 'done');
    assert.deepEqual(events, ['data:one ', 'data:two ', 'data:three', 'end:complete=true']);
  });

  it('pulls the body only when the app reads: none for an app that does not read, a bounded read-ahead for a paused one', async () => {
    const idle = manualSource();
    const idleResponse = serve((req, res) => { res.end('ignored the body'); }, { method: 'POST', body: idle.source });
    for (let i = 0; i < 50; i++) idle.push(new Uint8Array(16 * 1024));
    await idleResponse;
    for (let i = 0; i < 10; i++) await tick();
    assert.equal(idle.log.pulls, 0, 'an app that never reads never makes the server pull');

    const paused = manualSource();
    for (let i = 0; i < 50; i++) paused.push(new Uint8Array(16 * 1024));
    const firstChunk = deferred<void>();
    const reqSeen = deferred<http.IncomingMessage>();
    const pausedResponse = serve((req, res) => {
      reqSeen.resolve(req);
      req.once('data', () => { req.pause(); firstChunk.resolve(); });
      setTimeout(() => res.end(), 50);
    }, { method: 'POST', body: paused.source });
    await firstChunk.promise;
    for (let i = 0; i < 20; i++) await tick();
    // 16 KiB chunks against a 16 KiB high-water mark: a couple of chunks ahead at most, not 50.
    assert.ok(paused.log.pulls <= 4, `pulled ${paused.log.pulls} chunks for a reader that took one`);
    await pausedResponse;
    (await reqSeen.promise).destroy();
  });

  it('is readable with for await and with stream.pipeline into a Writable', async () => {
    const payload = 'x'.repeat(100_000);
    const viaIteration = await serve(async (req, res) => {
      let total = '';
      for await (const chunk of req) total += chunk;
      res.end(String(total.length));
    }, { method: 'POST', body: payload });
    assert.equal((await bodyBytes(viaIteration)).toString(), '100000');

    const viaPipeline = await serve((req, res) => {
      const parts: Buffer[] = [];
      pipeline(req, new Writable({ write(chunk, _e, cb) { parts.push(chunk); cb(); } }), (error: Error | null | undefined) => {
        res.end(error ? `error ${error.message}` : Buffer.concat(parts).subarray(0, 5));
      });
    }, { method: 'POST', body: payload });
    assert.equal((await bodyBytes(viaPipeline)).toString(), 'xxxxx');
  });

  it('destroys req with the server\'s error and emits aborted when the body cannot be completed', async () => {
    const { source, push, fail } = manualSource();
    const events: string[] = [];
    const response = serve((req, res) => {
      req.on('data', () => events.push('data'));
      req.on('aborted', () => events.push('aborted'));
      req.on('error', (error: Error) => { events.push(`error:${error.message}`); res.statusCode = 400; res.end('bad upload'); });
    }, { method: 'POST', body: source });
    push('partial');
    await tick();
    fail(new Error('body read timed out'));
    const result = await response;
    assert.equal(result.status, 400);
    assert.deepEqual(events, ['data', 'aborted', 'error:body read timed out']);
  });
});

describe('node adapter: the response (res)', { timeout: 10_000 }, () => {
  it('is a real http.ServerResponse whose header methods behave as node\'s', async () => {
    const response = await serve((req, res) => {
      assert.ok(res instanceof http.ServerResponse);
      assert.equal(res.statusCode, 200);
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('X-Number', 42);
      res.appendHeader('X-List', 'a');
      res.appendHeader('X-List', 'b');
      res.setHeader('X-Gone', 'soon');
      res.removeHeader('x-gone');
      assert.equal(res.getHeader('content-type'), 'text/plain');
      assert.equal(res.hasHeader('X-GONE'), false);
      assert.deepEqual(res.getHeaderNames(), ['content-type', 'x-number', 'x-list']);
      assert.deepEqual({ ...res.getHeaders() }, { 'content-type': 'text/plain', 'x-number': 42, 'x-list': ['a', 'b'] });
      assert.equal(res.headersSent, false);
      res.statusCode = 202;
      res.statusMessage = 'Accepted for later';
      res.end('ok');
      assert.equal(res.headersSent, true);
      assert.throws(() => res.setHeader('x-late', '1'), { code: 'ERR_HTTP_HEADERS_SENT' });
    });
    assert.equal(response.status, 202);
    assert.deepEqual([...headersOf(response)].filter(([n]) => n.startsWith('x-') || n === 'content-type'),
      [['content-type', 'text/plain'], ['x-number', '42'], ['x-list', 'a'], ['x-list', 'b']]);
    assert.equal((await bodyBytes(response)).toString(), 'ok');
  });

  it('writeHead merges its headers over those set before, in each form node accepts', async () => {
    const forms: Array<[string, (res: http.ServerResponse) => void]> = [
      ['object', (res) => res.writeHead(201, { 'x-a': 'override', 'x-b': ['1', '2'] })],
      ['flat array', (res) => res.writeHead(201, ['x-a', 'override', 'x-b', '1'])],
    ];
    for (const [form, writeHead] of forms) {
      const response = await serve((req, res) => { res.setHeader('x-a', 'original'); res.setHeader('x-keep', 'kept'); writeHead(res); res.end(); });
      assert.equal(response.status, 201, form);
      const pairs = [...headersOf(response)];
      assert.deepEqual(pairs.filter(([n]) => n === 'x-a'), [['x-a', 'override']], form);
      assert.deepEqual(pairs.filter(([n]) => n === 'x-b'), form === 'object' ? [['x-b', '1'], ['x-b', '2']] : [['x-b', '1']], form);
      assert.deepEqual(pairs.filter(([n]) => n === 'x-keep'), [['x-keep', 'kept']], form);
    }
    const pairsOnly = await serve((req, res) => { res.writeHead(200, 'Fine', [['X-Pair', 'p'], ['Set-Cookie', 'c=1']] as never); res.end(); });
    assert.deepEqual([...headersOf(pairsOnly)], [['x-pair', 'p'], ['set-cookie', 'c=1']]);
  });

  it('sends each Set-Cookie value as its own field, in order', async () => {
    const response = await serve((req, res) => { res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly']); res.appendHeader('set-cookie', 'c=3'); res.end(); });
    assert.deepEqual(headersOf(response).getAll('set-cookie'), ['a=1; Path=/', 'b=2; HttpOnly', 'c=3']);
  });

  it('throws node\'s own errors to the app for invalid header names and values', async () => {
    await serve((req, res) => {
      assert.throws(() => res.setHeader('x-bad', 'a\r\nInjected: 1'), { code: 'ERR_INVALID_CHAR' });
      assert.throws(() => res.setHeader('bad name', 'v'), { code: 'ERR_INVALID_HTTP_TOKEN' });
      assert.throws(() => res.writeHead(200, { 'x-split': 'a\nb' }), { code: 'ERR_INVALID_CHAR' });
      res.end();
    });
  });

  it('drops fields the server owns (transfer-encoding, keep-alive, connection: keep-alive) and keeps connection: close', async () => {
    const kept = await serve((req, res) => {
      res.setHeader('Transfer-Encoding', 'chunked');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('Connection', 'keep-alive');
      res.write('a');
      res.end();
    });
    assert.deepEqual([...headersOf(kept)], []);
    const close = await serve((req, res) => { res.setHeader('Connection', 'close'); res.end(); });
    assert.deepEqual([...headersOf(close)], [['connection', 'close']]);
  });

  it('delivers the response before end(): chunks arrive as they are written', async () => {
    const gate = deferred<void>();
    const response = await serve(async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      await gate.promise;
      res.end('last');
    });
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(Buffer.from(first.value!).toString(), 'first ');
    gate.resolve();
    const rest: Buffer[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(Buffer.from(r.value));
    assert.equal(Buffer.concat(rest).toString(), 'last');
  });

  it('write() returns false past the high-water mark, and drain follows once the server has taken the data', async () => {
    const log: string[] = [];
    const response = await serve((req, res) => {
      const big = Buffer.alloc(64 * 1024, 0x61);
      const accepted = res.write(big);
      log.push(`write:${accepted}`, `needDrain:${res.writableNeedDrain}`);
      res.once('drain', () => { log.push('drain'); res.end(); });
    });
    assert.deepEqual(log, ['write:false', 'needDrain:true']);
    assert.equal((await bodyBytes(response)).length, 64 * 1024);
    await tick();
    assert.deepEqual(log, ['write:false', 'needDrain:true', 'drain']);
  });

  it('is a pipe target: fs.createReadStream(file).pipe(res) and stream.pipeline(source, res) deliver everything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-adapter-'));
    const file = path.join(dir, 'data.bin');
    const content = Buffer.alloc(300_000);
    for (let i = 0; i < content.length; i++) content[i] = i % 251;
    fs.writeFileSync(file, content);
    try {
      const piped = await serve((req, res) => { fs.createReadStream(file).pipe(res); });
      assert.ok((await bodyBytes(piped)).equals(content));

      const done = deferred<Error | null | undefined>();
      const viaPipeline = await serve((req, res) => { pipeline(Readable.from(['alpha ', 'beta ', 'gamma']), res, (error: Error | null | undefined) => done.resolve(error)); });
      assert.equal((await bodyBytes(viaPipeline)).toString(), 'alpha beta gamma');
      assert.equal(await done.promise, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('emits finish then close, runs the end() callback, and reports writableEnded / writableFinished', async () => {
    const log: string[] = [];
    const closed = deferred<void>();
    const response = await serve((req, res) => {
      res.on('finish', () => log.push(`finish:writableFinished=${res.writableFinished}`));
      res.on('close', () => { log.push('close'); closed.resolve(); });
      res.write('a');
      res.end('b', () => log.push('end callback'));
      log.push(`after end:writableEnded=${res.writableEnded}`);
    });
    assert.equal((await bodyBytes(response)).toString(), 'ab');
    await closed.promise;
    assert.deepEqual(log, ['after end:writableEnded=true', 'finish:writableFinished=true', 'end callback', 'close']);
  });

  it('answers HEAD, 204 and 304 without a body, keeping the headers', async () => {
    const head = await serve((req, res) => { res.setHeader('content-length', '5'); res.end('hello'); }, { method: 'HEAD' });
    assert.equal(head.body ?? null, null);
    assert.equal(headersOf(head).get('content-length'), '5');
    const noContent = await serve((req, res) => { res.statusCode = 204; res.write('ignored'); res.end(); });
    assert.equal(noContent.status, 204);
    assert.equal((await bodyBytes(noContent)).length, 0);
    const notModified = await serve((req, res) => { res.writeHead(304, { etag: '"v1"' }); res.end('ignored'); });
    assert.equal(notModified.status, 304);
    assert.equal((await bodyBytes(notModified)).length, 0);
  });

  it('keeps working when a framework swaps the prototypes of req and res, as Express does', async () => {
    const requestProto = Object.create(http.IncomingMessage.prototype);
    requestProto.framework = function framework() { return 'request helper'; };
    const responseProto = Object.create(http.ServerResponse.prototype);
    responseProto.send = function send(this: http.ServerResponse, text: string) {
      this.setHeader('content-type', 'text/plain');
      this.setHeader('content-length', Buffer.byteLength(text));
      this.end(text);
    };
    const { source, push, end } = manualSource();
    const response = serve((req, res) => {
      Object.setPrototypeOf(req, requestProto);
      Object.setPrototypeOf(res, responseProto);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => { body += chunk; });
      req.on('end', () => res.send(`${req.framework()} read ${body}`));
    }, { method: 'POST', body: source });
    push('the body'); end();
    const result = await response;
    assert.equal((await bodyBytes(result)).toString(), 'request helper read the body');
    assert.equal(headersOf(result).get('content-length'), String('request helper read the body'.length));
  });

  it('tells the app when the client goes away: req aborted and close, res close without finish, the body stream fails', async () => {
    const controller = new AbortController();
    const log: string[] = [];
    const closed = deferred<void>();
    const { source } = manualSource();
    const response = await serve((req, res) => {
      req.on('aborted', () => log.push('req aborted'));
      req.on('close', () => log.push('req close'));
      req.on('error', () => log.push('req error'));
      res.on('finish', () => log.push('res finish'));
      res.on('close', () => { log.push('res close'); closed.resolve(); });
      res.write('streaming...');
    }, { method: 'POST', body: source, signal: controller.signal });
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    assert.equal(Buffer.from((await iterator.next()).value!).toString(), 'streaming...');
    const pending = iterator.next();
    controller.abort(new Error('client closed the connection'));
    await assert.rejects(pending);
    await closed.promise;
    await tick();
    assert.ok(log.includes('req aborted') && log.includes('req close') && log.includes('req error'), log.join(', '));
    assert.ok(!log.includes('res finish'), log.join(', '));
  });

  it('emits close without finish when the server stops taking the body (the write failed)', async () => {
    const log: string[] = [];
    const closed = deferred<void>();
    const response = await serve((req, res) => {
      res.on('finish', () => log.push('finish'));
      res.on('close', () => { log.push('close'); closed.resolve(); });
      res.write('part');
    });
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return!();
    await closed.promise;
    assert.deepEqual(log, ['close']);
  });

  it('emits timeout on the response after socket.setTimeout / res.setTimeout', async (t) => {
    // The stand-in's timer is unref'd like any idle timer; a real server's listener keeps the loop alive.
    const keepAlive = setInterval(() => {}, 1000);
    t.after(() => clearInterval(keepAlive));
    const response = await serve((req, res) => {
      res.setTimeout(20, () => { res.statusCode = 503; res.end('timed out'); });
    });
    assert.equal(response.status, 503);
    assert.equal((await bodyBytes(response)).toString(), 'timed out');
  });

  it('rejects (the server answers 500) when the listener throws or its promise rejects before responding', async () => {
    await assert.rejects(serve(() => { throw new Error('sync failure'); }), /sync failure/);
    await assert.rejects(serve(async () => { await tick(); throw new Error('async failure'); }), /async failure/);
  });

  it('res.destroy() before the response rejects; after streaming began it fails the body stream', async () => {
    await assert.rejects(serve((req, res) => { res.destroy(new Error('dropped')); }), /dropped/);
    const response = await serve((req, res) => { res.write('begun'); setImmediate(() => res.destroy()); });
    await assert.rejects(bodyBytes(response));
  });
});

describe('node adapter: APIs Gatehouse does not provide', { timeout: 10_000 }, () => {
  it('throws ERR_APP_ADAPTER_UNSUPPORTED naming the API: 102, upgrade by writeHead, raw socket I/O', async () => {
    await serve((req, res) => {
      assert.throws(() => res.writeProcessing(), isUnsupported(/res\.writeProcessing\(\)/));
      assert.throws(() => res.writeHead(101, { upgrade: 'websocket' }), isUnsupported(/res\.writeHead\(101\)/));
      assert.throws(() => req.socket.write('raw bytes'), isUnsupported(/socket\.write\(\)/));
      assert.throws(() => res.socket!.end('HTTP/1.1 200 OK\r\n\r\n'), isUnsupported(/socket\.end\(data\)/));
      assert.throws(() => req.socket.pipe(new Writable()), isUnsupported(/socket\.pipe\(\)/));
      // Nothing was sent: the app can still answer (node's writeHead left statusCode at 101).
      assert.equal(res.headersSent, false);
      res.statusCode = 200;
      res.end('still fine');
    });
  });

  it('accepts writeContinue (100 Continue goes out when the body is first read)', async () => {
    const called = deferred<void>();
    await serve((req, res) => { res.writeContinue(() => called.resolve()); res.end(); });
    await called.promise;
  });
});

describe('node adapter over HTTP', { timeout: 15_000 }, () => {
  async function start(listener: NodeListener) {
    return startServer({ app: { app: adaptNodeListener(listener), interface: 'node' } });
  }

  it('sends res.end(body) with Content-Length, and write() streams with chunked framing', async (t) => {
    const server = await start((req, res) => {
      if (req.url === '/whole') return res.end('one piece');
      res.write('a');
      setTimeout(() => { res.write('b'); res.end('c'); }, 5);
    });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.socket.destroy());
    await client.write('GET /whole HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    const [whole, streamed] = await client.readResponses(2);
    assert.equal(whole!.framing, 'length');
    assert.equal(whole!.header('content-length'), '9');
    assert.equal(whole!.text(), 'one piece');
    assert.equal(streamed!.framing, 'chunked');
    assert.equal(streamed!.text(), 'abc');
  });

  it('echoes a 1 MiB upload piped straight back (req.pipe(res)) and keeps Set-Cookie fields separate', async (t) => {
    const server = await start((req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      req.pipe(res);
    });
    t.after(() => server.close());
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 256;
    const response = await fetch(server.url, { method: 'POST', body: payload });
    assert.equal(response.status, 200);
    assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(payload));
  });

  it('answers HEAD without a body on a connection that keeps going', async (t) => {
    const server = await start((req, res) => { res.setHeader('content-type', 'text/plain'); res.setHeader('content-length', '11'); res.end(req.method === 'HEAD' ? undefined : 'hello world'); });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.socket.destroy());
    await client.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [head, get] = await client.readResponses(2, { methods: ['HEAD', 'GET'] });
    assert.equal(head!.header('content-length'), '11');
    assert.equal(head!.body.length, 0);
    assert.equal(get!.text(), 'hello world');
  });

  it('answers 500 when the app uses an unsupported API, and goes on serving', async (t) => {
    const server = await start((req, res) => {
      if (req.url === '/processing') res.writeProcessing();
      res.end('ok');
    });
    t.after(() => server.close());
    assert.equal((await fetch(`${server.origin}/processing`)).status, 500);
    const next = await fetch(`${server.origin}/fine`);
    assert.equal(next.status, 200);
    assert.equal(await next.text(), 'ok');
  });

  it('tells the app when a real client disconnects mid-response: res close without finish', async (t) => {
    const events: string[] = [];
    const closed = deferred<void>();
    const server = await start((req, res) => {
      res.on('finish', () => events.push('finish'));
      res.on('close', () => { events.push('close'); closed.resolve(); });
      res.write('first chunk');
    });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.waitForBytes(20);
    client.socket.destroy();
    await closed.promise;
    assert.deepEqual(events, ['close']);
  });
});
