/*
 * The fetch-handler adapter: the Request a handler receives (URL, method, headers, body read
 * every way the Fetch standard offers, signal), the env and ctx it gets beside it, and how its
 * Response goes out (status, Set-Cookie fields, streamed ReadableStream bodies, cancellation,
 * HEAD), plus the errors for what is not a Response; the lightweight Response installed for
 * fetch apps (fetchGlobals) and where it is installed. In memory first, then over real HTTP.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  adaptFetchHandler, validate, channels,
  GatehouseError, HeaderList, loadApp, type GatewayRequest, type GatewayResponse,
} from '../src/index.js';
import { isFetchHandler } from '../src/gateway/adapters/fetch.js';
import { fetchGlobalsInstalled } from '../src/gateway/adapters/fetch-globals.js';
import { GatewayFetchResponse } from '../src/gateway/adapters/fetch-light-response.js';
import { startServer, collect, RawClient } from './kit/index.js';
import { gatewayRequest as testRequest, manualSource, type TestRequestOptions } from './kit/requests.js';

const encoder = new TextEncoder();

/** The fetch tests' requests: Host example.test:8080, from an IPv6 client. */
function gatewayRequest(options: TestRequestOptions = {}): GatewayRequest {
  return testRequest({ headers: [['host', 'example.test:8080']], remote: { address: '2001:db8::7', port: 50123 }, ...options });
}

type Handler = (request: Request, env: Record<string, unknown>, ctx: { waitUntil(p: Promise<unknown>): void }) => Response | Promise<Response>;

function serve(handler: Handler, options: TestRequestOptions = {}): Promise<GatewayResponse> {
  return Promise.resolve(validate(adaptFetchHandler({ fetch: handler as never }))(gatewayRequest(options)));
}

async function bodyText(response: GatewayResponse): Promise<string> {
  const body = response.body;
  if (body === null || body === undefined) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString();
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** A stream the app returns: `first` at once, `second` only after release(), then the end. */
function gatedStream(first: string, second: string): { stream: ReadableStream<Uint8Array>; release: () => void } {
  const gate = deferred<void>();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(first));
      await gate.promise;
      controller.enqueue(encoder.encode(second));
      controller.close();
    },
  });
  return { stream, release: () => gate.resolve() };
}

/** Pulls a gatedStream's body as the protocol layer does: each chunk is there before the next is released. */
async function assertStreamedAsProduced(response: GatewayResponse, gated: ReturnType<typeof gatedStream>, first: string, second: string): Promise<void> {
  const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  assert.equal(Buffer.from((await iterator.next()).value!).toString(), first);
  gated.release();
  assert.equal(Buffer.from((await iterator.next()).value!).toString(), second);
  assert.equal((await iterator.next()).done, true);
}

describe('fetch adapter: the Request', { timeout: 10_000 }, () => {
  it('is a Request with the URL from scheme, Host and target, the method, and every header field', async () => {
    const seen = deferred<Request>();
    await serve((request) => { seen.resolve(request); return new Response('ok'); }, {
      method: 'PUT', target: '/items/7?draft=1&tag=a%20b', scheme: 'https',
      headers: [['host', 'shop.example:8443'], ['accept', 'text/html'], ['accept', 'application/json'], ['x-trace', 'abc']],
      body: 'x',
    });
    const request = await seen.promise;
    assert.ok(request instanceof Request);
    assert.equal(request.method, 'PUT');
    assert.equal(request.url, 'https://shop.example:8443/items/7?draft=1&tag=a%20b');
    const url = new URL(request.url);
    assert.equal(url.searchParams.get('tag'), 'a b');
    assert.equal(request.headers.get('accept'), 'text/html, application/json');
    assert.equal(request.headers.get('X-Trace'), 'abc');
    assert.equal(request.headers.get('host'), 'shop.example:8443');
  });

  it('upper-cases the methods fetch normalizes and keeps others as sent; uses the local address without Host', async () => {
    const seen: Request[] = [];
    await serve((request) => { seen.push(request); return new Response(null); }, { method: 'get', headers: [] });
    await serve((request) => { seen.push(request); return new Response(null); }, { method: 'PURGE', target: '*' });
    assert.equal(seen[0]!.method, 'GET');
    assert.equal(seen[0]!.url, 'http://127.0.0.1:8080/');
    assert.equal(seen[1]!.method, 'PURGE');
    assert.equal(seen[1]!.url, 'http://example.test:8080/*');
  });

  it('reads the body with text(), json(), arrayBuffer(), blob() and formData()', async () => {
    const json = { name: 'Ada', tags: ['x'] };
    const cases: Array<[string, string, string, (r: Request) => Promise<unknown>, unknown]> = [
      ['text', 'text/plain', 'héllo', (r) => r.text(), 'héllo'],
      ['json', 'application/json', JSON.stringify(json), (r) => r.json(), json],
      ['arrayBuffer', 'application/octet-stream', 'bytes!', async (r) => Buffer.from(await r.arrayBuffer()).toString(), 'bytes!'],
      ['blob', 'text/csv', 'a,b', async (r) => { const b = await r.blob(); return [b.type, await b.text()]; }, ['text/csv', 'a,b']],
      ['formData', 'application/x-www-form-urlencoded', 'a=1&b=two+words', async (r) => Object.fromEntries(await r.formData()), { a: '1', b: 'two words' }],
    ];
    for (const [name, type, body, read, expected] of cases) {
      const result = deferred<unknown>();
      await serve(async (request) => { result.resolve(await read(request)); return new Response('ok'); }, {
        method: 'POST', body, headers: [['host', 'x'], ['content-type', type], ['content-length', String(Buffer.byteLength(body))]],
      });
      assert.deepEqual(await result.promise, expected, name);
    }
  });

  it('throws a SyntaxError from json() for invalid JSON, as Request.json() does', async () => {
    const response = await serve(async (request) => {
      try { await request.json(); return new Response('parsed'); } catch (error) { return new Response((error as Error).name, { status: 400 }); }
    }, { method: 'POST', body: '{nope' });
    assert.equal(response.status, 400);
    assert.equal(await bodyText(response), 'SyntaxError');
  });

  it('reads the body once: bodyUsed turns true and a second read is a TypeError', async () => {
    const response = await serve(async (request) => {
      const before = request.bodyUsed;
      await request.text();
      const after = request.bodyUsed;
      const second = await request.text().then(() => 'read again', (error: Error) => error.constructor.name);
      return Response.json({ before, after, second });
    }, { method: 'POST', body: 'once' });
    assert.deepEqual(JSON.parse(await bodyText(response)), { before: false, after: true, second: 'TypeError' });
  });

  it('streams request.body chunk by chunk, pulling from the server only as the handler reads', async () => {
    const { source, log, push, end } = manualSource();
    const received: string[] = [];
    const pullsAtFirstChunk = deferred<number>();
    const responsePromise = serve(async (request) => {
      const reader = request.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (received.length === 0) pullsAtFirstChunk.resolve(log.pulls);
        received.push(Buffer.from(value).toString());
      }
      return new Response(received.join('|'));
    }, { method: 'POST', body: source });
    await tick();
    push('one');
    assert.ok(await pullsAtFirstChunk.promise <= 2, 'no read-ahead beyond what the handler asked for');
    push('two'); end();
    assert.equal(await bodyText(await responsePromise), 'one|two');
  });

  it('has no body for GET, and never touches the server body for a handler that ignores it', async () => {
    const { source, log } = manualSource(5);
    const response = await serve((request) => new Response(String(request.body)), { method: 'POST', body: source, headers: [['host', 'x']] });
    await bodyText(response);
    const get = await serve((request) => new Response(String(request.body)));
    assert.equal(await bodyText(get), 'null');
    assert.equal(log.pulls, 0);
  });

  it('clone() gives two readable copies, and the rest of the Request API works (mode, cache, redirect...)', async () => {
    const response = await serve(async (request) => {
      const copy = request.clone();
      const [a, b] = await Promise.all([request.text(), copy.text()]);
      return Response.json({ a, b, mode: request.mode, cache: request.cache, redirect: request.redirect, duplex: (request as unknown as { duplex: string }).duplex });
    }, { method: 'POST', body: 'twice' });
    assert.deepEqual(JSON.parse(await bodyText(response)), { a: 'twice', b: 'twice', mode: 'cors', cache: 'default', redirect: 'follow', duplex: 'half' });
  });

  it('gives the handler the request\'s abort signal: it aborts when the client goes away', async () => {
    const controller = new AbortController();
    const aborted = deferred<boolean>();
    const response = serve((request) => new Promise<Response>((_resolve, reject) => {
      request.signal.addEventListener('abort', () => { aborted.resolve(request.signal.aborted); reject(request.signal.reason); });
    }), { signal: controller.signal });
    await tick();
    controller.abort(new Error('client gone'));
    assert.equal(await aborted.promise, true);
    await assert.rejects(response, /client gone/);
  });
});

describe('fetch adapter: env and ctx', { timeout: 10_000 }, () => {
  it('env.incoming is a node:http IncomingMessage whose socket has the client address (Hono\'s getConnInfo reads it)', async () => {
    const response = await serve((_request, env) => {
      const incoming = env.incoming as { socket: { remoteAddress: string; remotePort: number; remoteFamily: string; localPort: number }; method: string; url: string; headers: Record<string, string> };
      const { remoteAddress, remotePort, remoteFamily, localPort } = incoming.socket;
      return Response.json({ remoteAddress, remotePort, remoteFamily, localPort, method: incoming.method, url: incoming.url, host: incoming.headers.host });
    }, { target: '/where?x=1' });
    assert.deepEqual(JSON.parse(await bodyText(response)), {
      remoteAddress: '2001:db8::7', remotePort: 50123, remoteFamily: 'IPv6', localPort: 8080, method: 'GET', url: '/where?x=1', host: 'example.test:8080',
    });
  });

  it('env.outgoing throws ERR_APP_ADAPTER_UNSUPPORTED: a fetch handler answers with a Response', async () => {
    const thrown = deferred<unknown>();
    await serve((_request, env) => {
      try { void env.outgoing; } catch (error) { thrown.resolve(error); }
      return new Response('ok');
    });
    const error = await thrown.promise;
    assert.ok(error instanceof GatehouseError);
    assert.equal(error.code, 'ERR_APP_ADAPTER_UNSUPPORTED');
    assert.match(error.message, /env\.outgoing.*not supported under Gatehouse/);
  });

  it('ctx.waitUntil lets work run on after the response; a rejection is reported on gatehouse:request:error', async (t) => {
    const errors = collect<{ error: unknown; phase: string }>(channels.requestError);
    t.after(() => errors.stop());
    const response = await serve((_request, _env, ctx) => {
      ctx.waitUntil(new Promise((_resolve, reject) => setTimeout(() => reject(new Error('background job failed')), 5)));
      return new Response('answered first');
    });
    assert.equal(await bodyText(response), 'answered first');
    const message = await errors.next();
    assert.equal((message.error as Error).message, 'background job failed');
    assert.equal(message.phase, 'app');
  });
});

describe('fetch adapter: the Response', { timeout: 10_000 }, () => {
  it('passes status and headers, each Set-Cookie as its own field, and drops fields the server owns', async () => {
    const response = await serve(() => {
      const headers = new Headers({ 'content-type': 'application/json', 'x-request-id': 'r1' });
      headers.append('set-cookie', 'a=1; Path=/');
      headers.append('set-cookie', 'b=2; HttpOnly');
      headers.append('connection', 'keep-alive');
      headers.append('transfer-encoding', 'chunked');
      return new Response('{"created":true}', { status: 201, headers });
    });
    assert.equal(response.status, 201);
    const headers = HeaderList.from(response.headers);
    assert.deepEqual(headers.getAll('set-cookie'), ['a=1; Path=/', 'b=2; HttpOnly']);
    assert.equal(headers.get('content-type'), 'application/json');
    assert.equal(headers.get('x-request-id'), 'r1');
    assert.equal(headers.get('connection'), null);
    assert.equal(headers.get('transfer-encoding'), null);
    assert.equal(await bodyText(response), '{"created":true}');
  });

  it('streams a ReadableStream body: each chunk is available before the stream closes', async () => {
    const gated = gatedStream('event 1\n', 'event 2\n');
    const response = await serve(() => new Response(gated.stream, { headers: { 'content-type': 'text/event-stream' } }));
    await assertStreamedAsProduced(response, gated, 'event 1\n', 'event 2\n');
  });

  it('cancels the Response stream when the server stops reading (client gone)', async () => {
    const cancelled = deferred<unknown>();
    const response = await serve(() => new Response(new ReadableStream<Uint8Array>({
      pull(controller) { controller.enqueue(encoder.encode('tick\n')); },
      cancel(reason) { cancelled.resolve(reason ?? 'cancelled'); },
    })));
    const iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return!();
    assert.ok(await cancelled.promise);
  });

  it('answers HEAD with the headers and no body, cancelling the body stream', async () => {
    const cancelled = deferred<void>();
    const response = await serve(() => new Response(new ReadableStream({ cancel() { cancelled.resolve(); } }), { headers: { 'content-length': '12' } }), { method: 'HEAD' });
    assert.equal(response.body, null);
    assert.equal(HeaderList.from(response.headers).get('content-length'), '12');
    await cancelled.promise;
  });

  it('fails with ERR_APP_BAD_RESPONSE for a handler that returns something other than a Response, or Response.error()', async () => {
    const bad: Array<[string, () => unknown, RegExp]> = [
      ['undefined', () => undefined, /returned undefined/],
      ['plain object', () => ({ status: 200, body: 'x' }), /returned an object \(Object\)/],
      ['string', () => 'hello', /returned a string/],
      ['Response.error()', () => Response.error(), /Response\.error\(\)/],
    ];
    for (const [name, handler, pattern] of bad) {
      await assert.rejects(serve(handler as Handler), (error: unknown) => {
        assert.ok(error instanceof GatehouseError, name);
        assert.equal(error.code, 'ERR_APP_BAD_RESPONSE', name);
        assert.match(error.message, pattern, name);
        return true;
      });
    }
  });

  it('accepts a bare function as the handler, and isFetchHandler tells the forms apart', async () => {
    const app = adaptFetchHandler((request: Request) => new Response(`bare ${new URL(request.url).pathname}`));
    assert.equal(await bodyText(await app(gatewayRequest({ target: '/fn' }))), 'bare /fn');
    assert.equal(isFetchHandler({ fetch() {} }), true);
    assert.equal(isFetchHandler({ fetch: 'no' }), false);
    assert.equal(isFetchHandler(() => {}), false);
    assert.equal(isFetchHandler(null), false);
    assert.throws(() => adaptFetchHandler({} as never), { code: 'ERR_APP_NOT_AN_APP' });
  });
});

describe('fetch adapter over HTTP', { timeout: 15_000 }, () => {
  async function start(handler: (request: Request) => Response | Promise<Response>) {
    return startServer({ app: { app: adaptFetchHandler({ fetch: handler }), interface: 'fetch' } });
  }

  it('echoes a 1 MiB upload streamed through request.body into the Response', async (t) => {
    const server = await start((request) => new Response(request.body, { headers: { 'content-type': 'application/octet-stream' } }));
    t.after(() => server.close());
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) % 256;
    const response = await fetch(server.url, { method: 'POST', body: payload });
    assert.equal(response.status, 200);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(payload));
  });

  it('sends two Set-Cookie fields and a streamed body that the client sees as it is produced', async (t) => {
    const server = await start(() => {
      let n = 0;
      const headers = new Headers([['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
      return new Response(new ReadableStream({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 5));
          if (++n > 3) controller.close(); else controller.enqueue(encoder.encode(`line ${n}\n`));
        },
      }), { headers });
    });
    t.after(() => server.close());
    const response = await fetch(server.url);
    assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(await response.text(), 'line 1\nline 2\nline 3\n');
  });

  it('answers HEAD without a body on a connection that keeps going, and 500 for a handler that throws', async (t) => {
    const server = await start((request) => {
      if (new URL(request.url).pathname === '/throw') throw new Error('handler failed');
      return new Response('hello world', { headers: { 'content-length': '11' } });
    });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.socket.destroy());
    await client.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [head, thrown, get] = await client.readResponses(3, { methods: ['HEAD', 'GET', 'GET'] });
    assert.equal(head!.status, 200);
    assert.equal(head!.body.length, 0);
    assert.equal(thrown!.status, 500);
    assert.equal(get!.text(), 'hello world');
  });
});

describe('fetch adapter: the lightweight Response (fetchGlobals)', { timeout: 10_000 }, () => {
  // The class installed as the global Response where a fetch app runs; used here by name so
  // this test process keeps undici's global.
  const Light = GatewayFetchResponse as unknown as typeof Response;

  it('is a Response: instanceof both ways, toStringTag, name, subclasses', async () => {
    const light = new Light('x');
    assert.ok(light instanceof Light);
    assert.ok(light instanceof Response);
    assert.ok(new Response('x') instanceof Light, 'undici\'s Responses are Responses too once this is the global');
    assert.ok(!({} instanceof Light));
    assert.equal(Object.prototype.toString.call(light), '[object Response]');
    assert.equal(Light.name, 'Response');
    class Mine extends Light { readonly mine = true; }
    const mine = new Mine('sub', { status: 202 });
    assert.ok(mine instanceof Mine && mine instanceof Light);
    assert.ok(!(light instanceof Mine));
    assert.equal(mine.status, 202);
    assert.equal(await mine.text(), 'sub');
  });

  it('has status, statusText, ok, headers (with text/plain for a string), type, url, redirected', () => {
    const plain = new Light('hello');
    assert.deepEqual([plain.status, plain.statusText, plain.ok, plain.type, plain.url, plain.redirected], [200, '', true, 'default', '', false]);
    assert.equal(plain.headers.get('content-type'), 'text/plain;charset=UTF-8');
    const made = new Light(new Uint8Array([1]), { status: 404, statusText: 'Nope', headers: [['X-One', '1'], ['x-two', '2']] });
    assert.deepEqual([made.status, made.statusText, made.ok], [404, 'Nope', false]);
    assert.deepEqual([...made.headers], [['x-one', '1'], ['x-two', '2']]);
    assert.equal(new Light(null, { status: 204 }).headers.get('content-type'), null);
  });

  it('reads a body with text(), json(), arrayBuffer(), bytes(), blob() and formData(), once', async () => {
    assert.equal(await new Light('héllo').text(), 'héllo');
    assert.deepEqual(await new Light('{"a":[1]}').json(), { a: [1] });
    assert.deepEqual([...new Uint8Array(await new Light(new Uint8Array([7, 8])).arrayBuffer())], [7, 8]);
    assert.deepEqual([...await (new Light('ab') as unknown as { bytes(): Promise<Uint8Array> }).bytes()], [97, 98]);
    const blob = await new Light('a,b', { headers: { 'content-type': 'text/csv' } }).blob();
    assert.deepEqual([blob.type, await blob.text()], ['text/csv', 'a,b']);
    const form = await new Light('a=1&b=two+words', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }).formData();
    assert.deepEqual(Object.fromEntries(form), { a: '1', b: 'two words' });
    assert.equal(await new Light(null).text(), '');
    await assert.rejects(new Light('{nope').json(), SyntaxError);
    const once = new Light('once');
    assert.equal(once.bodyUsed, false);
    await once.text();
    assert.equal(once.bodyUsed, true);
    await assert.rejects(once.text(), TypeError);
  });

  it('keeps what it was given: a Uint8Array and an init Headers are copied, as undici copies them', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const headers = new Headers({ 'x-a': '1' });
    const response = await serve(() => {
      const made = new Light(bytes, { headers });
      bytes[0] = 9;
      headers.set('x-a', 'changed');
      return made;
    });
    assert.deepEqual([...(response.body as Uint8Array)], [1, 2, 3]);
    assert.equal(HeaderList.from(response.headers).get('x-a'), '1');
  });

  it('hands anything unusual to undici: its bodies, its errors, its header normalization', async () => {
    assert.equal(new Light(new URLSearchParams('a=1')).headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
    const blob = new Light(new Blob(['b'], { type: 'x/y' }));
    assert.deepEqual([blob.headers.get('content-type'), await blob.text()], ['x/y', 'b']);
    assert.equal(new Light('x', { headers: { 'x-pad': '  v  ' } }).headers.get('x-pad'), 'v');
    // Each error is undici's own (its class and message), compared with undici's Response.
    const bad: Array<[string, unknown, unknown]> = [
      ['null-body status with a body', 'x', { status: 204 }],
      ['status out of range', 'x', { status: 99 }],
      ['invalid field name', 'x', { headers: { 'a b': '1' } }],
      ['CR in a field value', 'x', { headers: [['x', 'a\r\nb']] }],
      ['locked stream', (() => { const s = new ReadableStream(); s.getReader(); return s; })(), undefined],
    ];
    for (const [name, body, init] of bad) {
      let expected: Error | undefined;
      try { new Response(body as never, init as never); } catch (error) { expected = error as Error; }
      assert.ok(expected, `undici refuses: ${name}`);
      assert.throws(() => new Light(body as never, init as never), (error: Error) => error.constructor === expected!.constructor && error.message === expected!.message, name);
    }
  });

  it('clone(), body and formData() make the real undici Response, and the adapter then sends that', async () => {
    const response = await serve(async () => {
      const made = new Light('cloned', { status: 201, headers: { 'x-kept': 'yes' } });
      const copy = made.clone();
      assert.equal(Object.getPrototypeOf(copy), Response.prototype, 'the clone is undici\'s own Response');
      assert.equal(await copy.text(), 'cloned');
      made.headers.set('x-after', 'real');
      return made;
    });
    assert.equal(response.status, 201);
    const headers = HeaderList.from(response.headers);
    assert.deepEqual([headers.get('x-kept'), headers.get('x-after')], ['yes', 'real']);
    assert.equal(await bodyText(response), 'cloned');
  });

  it('Response.json, Response.redirect and Response.error behave as undici\'s', async () => {
    const json = Light.json({ a: 1 }, { status: 400 });
    assert.equal(Object.getPrototypeOf(json), GatewayFetchResponse.prototype, 'a lightweight one, not undici\'s');
    assert.deepEqual([json.status, json.headers.get('content-type'), await json.json()], [400, 'application/json', { a: 1 }]);
    assert.equal(Light.json(1, { headers: { 'content-type': 'application/vnd.x+json' } }).headers.get('content-type'), 'application/vnd.x+json');
    assert.throws(() => Light.json(undefined), TypeError);
    const redirect = Light.redirect('https://example.test/a b', 301);
    assert.deepEqual([redirect.status, redirect.headers.get('location')], [301, 'https://example.test/a%20b']);
    assert.throws(() => Light.redirect('https://example.test/', 200 as 301), RangeError);
    assert.throws(() => Light.redirect('/relative', 302), TypeError);
    assert.equal(Light.error().type, 'error');
  });

  it('sends status, header fields in order, each Set-Cookie its own field, without server-owned fields', async () => {
    const fromPairs = await serve(() => new Light('{}', {
      status: 201, headers: [['content-type', 'application/json'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['connection', 'keep-alive'], ['transfer-encoding', 'chunked']],
    }));
    assert.equal(fromPairs.status, 201);
    assert.deepEqual(HeaderList.from(fromPairs.headers).raw, ['content-type', 'application/json', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
    const fromHeaders = await serve(() => {
      const made = new Light('x', { headers: new Headers([['set-cookie', 'c=3'], ['set-cookie', 'd=4']]) });
      made.headers.append('set-cookie', 'e=5');
      return made;
    });
    assert.deepEqual(HeaderList.from(fromHeaders.headers).getAll('set-cookie'), ['c=3', 'd=4', 'e=5']);
    assert.equal(await bodyText(fromHeaders), 'x');
  });

  it('sends a string or bytes body whole, and nothing for HEAD', async () => {
    const text = await serve(() => new Light('whole'));
    assert.equal(text.body, 'whole');
    const head = await serve(() => new Light('whole'), { method: 'HEAD' });
    assert.equal(head.body, null);
    assert.equal(HeaderList.from(head.headers).get('content-type'), 'text/plain;charset=UTF-8');
  });

  it('streams a ReadableStream body as the app produces it, and cancels it when the client goes away or for HEAD', async () => {
    const gated = gatedStream('one\n', 'two\n');
    const streamed = await serve(() => new Light(gated.stream));
    await assertStreamedAsProduced(streamed, gated, 'one\n', 'two\n');

    const cancelled = deferred<string>();
    const endless = await serve(() => new Light(new ReadableStream<Uint8Array>({
      pull(controller) { controller.enqueue(encoder.encode('tick\n')); },
      cancel() { cancelled.resolve('client gone'); },
    })));
    const ticks = (endless.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await ticks.next();
    await ticks.return!();
    assert.equal(await cancelled.promise, 'client gone');

    const headCancelled = deferred<string>();
    const head = await serve(() => new Light(new ReadableStream({ cancel() { headCancelled.resolve('head'); } })), { method: 'HEAD' });
    assert.equal(head.body, null);
    assert.equal(await headCancelled.promise, 'head');
  });

  it('gives the handler the abort signal, and a handler that rejects on abort fails the request', async () => {
    const controller = new AbortController();
    const response = serve((request) => new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => resolve(new Light('late')), 5_000);
      request.signal.addEventListener('abort', () => { clearTimeout(timer); reject(request.signal.reason); });
    }), { signal: controller.signal });
    await tick();
    controller.abort(new Error('client gone'));
    await assert.rejects(response, /client gone/);
  });

  it('over HTTP: Set-Cookie fields, a streamed body, HEAD and a pipelined GET on one connection', async (t) => {
    const server = await startServer({ app: { app: adaptFetchHandler({ fetch: (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === '/stream') {
        let n = 0;
        return new Light(new ReadableStream<Uint8Array>({ pull(c) { if (++n > 3) c.close(); else c.enqueue(encoder.encode(`line ${n}\n`)); } })) as Response;
      }
      return new Light('hello world', { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }) as Response;
    } }), interface: 'fetch' } });
    t.after(() => server.close());
    const cookies = await fetch(server.url);
    assert.deepEqual(cookies.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(cookies.headers.get('content-length'), '11');
    assert.equal(await cookies.text(), 'hello world');
    assert.equal(await (await fetch(`${server.url.replace(/\/$/, '')}/stream`)).text(), 'line 1\nline 2\nline 3\n');
    const client = await RawClient.connect(server.port);
    t.after(() => client.socket.destroy());
    await client.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [head, get] = await client.readResponses(2, { methods: ['HEAD', 'GET'] });
    assert.equal(head!.status, 200);
    assert.equal(head!.body.length, 0);
    assert.equal(get!.text(), 'hello world');
  });
});

describe('fetch adapter: where the lightweight Response is installed', { timeout: 10_000 }, () => {
  const undiciGlobal = () => Object.getPrototypeOf(globalThis.Response) === Function.prototype;

  it('the loader installs nothing for a Gateway or node app, nor for a fetch app with fetchGlobals off', async () => {
    assert.ok(undiciGlobal());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-globals-'));
    const write = (name: string, code: string) => { fs.writeFileSync(path.join(dir, name), code); return path.join(dir, name); };
    const gateway = write('gateway.mjs', 'export default (request) => ({ status: 200, headers: [], body: "g" });');
    const node = write('node.mjs', 'export default (req, res) => res.end("n");');
    const fetchApp = write('fetch.mjs', 'export default { fetch: () => new Response("f") };');
    assert.equal((await loadApp({ kind: 'module', spec: gateway }, { fetchGlobals: true })).interface, 'gateway');
    assert.equal((await loadApp({ kind: 'module', spec: node }, { fetchGlobals: true })).interface, 'node');
    assert.equal((await loadApp({ kind: 'module', spec: fetchApp }, { fetchGlobals: false })).interface, 'fetch');
    assert.equal((await loadApp({ kind: 'module', spec: fetchApp })).interface, 'fetch');
    assert.ok(undiciGlobal(), 'the global Response is still undici\'s');
    assert.equal(fetchGlobalsInstalled(), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
