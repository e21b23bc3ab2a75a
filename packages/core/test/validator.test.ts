/*
 * validate(app): each check has a passing case (a conforming app goes through untouched) and
 * a failing case (ERR_APP_CONTRACT naming the broken rule).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  validate, createRequest, bufferedBodySource, HeaderList, GatehouseError,
  type Application, type GatewayRequest, type GatewayResponse, type RequestHead,
} from '../src/index.js';

function head(overrides: Partial<RequestHead> = {}): RequestHead {
  return {
    method: 'GET', target: '/a%20b?x=1', path: '/a b', query: 'x=1', httpVersion: '1.1',
    rawHeaders: ['host', 'example.test', 'accept', '*/*'], scheme: 'http',
    remote: { address: '127.0.0.1', port: 50000 }, server: { address: '127.0.0.1', port: 8000 }, bodyLength: 0,
    ...overrides,
  };
}

function request(overrides: Partial<RequestHead> = {}, body?: string): GatewayRequest {
  return createRequest(head(overrides), body === undefined ? null : bufferedBodySource(body), new AbortController().signal);
}

function respond(response: unknown): Application {
  return () => response as GatewayResponse;
}

async function violates(app: Application, req: GatewayRequest, pattern: RegExp): Promise<void> {
  await assert.rejects(validate(app)(req) as Promise<unknown>, (error: unknown) => {
    assert.ok(error instanceof GatehouseError, String(error));
    assert.equal(error.code, 'ERR_APP_CONTRACT');
    assert.equal(error.status, 500);
    assert.match(error.message, pattern);
    return true;
  });
}

async function conforms(app: Application, req: GatewayRequest = request()): Promise<GatewayResponse> {
  return validate(app)(req);
}

async function drain(body: unknown): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return chunks;
}

async function* chunks(...parts: unknown[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part as Uint8Array;
}

const ok = respond({ status: 200, headers: [['content-type', 'text/plain']], body: 'ok' });

describe('validate: the request side', { timeout: 5_000 }, () => {
  it('passes a well-formed request', async () => {
    assert.equal((await conforms(ok)).body, 'ok');
  });
  it('refuses something that is not an app', () => {
    assert.throws(() => validate('app' as unknown as Application), { code: 'ERR_APP_CONTRACT' });
  });
  it('refuses a method that is not a token', async () => {
    await violates(ok, request({ method: 'GE T' }), /request\.method "GE T" is not a token/);
  });
  it('refuses a target with whitespace', async () => {
    await violates(ok, request({ target: '/a b', path: '/a b', query: '' }), /request\.target/);
  });
  it('refuses a path that is not the target decoded', async () => {
    await violates(ok, request({ path: '/a%20b' }), /request\.path is "\/a%20b" but target .* decodes to "\/a b"/);
  });
  it('refuses a query that is not the raw query of the target', async () => {
    await violates(ok, request({ query: '?x=1' }), /request\.query/);
  });
  it('refuses an HTTP version other than 1.0, 1.1 and 2.0 (an HTTP/2 stream)', async () => {
    await violates(ok, request({ httpVersion: '3.0' as '1.1' }), /httpVersion/);
    await violates(ok, request({ httpVersion: '2' as '1.1' }), /httpVersion/);
    assert.equal((await conforms(ok, request({ httpVersion: '2.0' }))).body, 'ok');
  });
  it('refuses upper-case or non-token header names, and values with CR/LF/NUL', async () => {
    await violates(ok, request({ rawHeaders: ['Host', 'x'] }), /lower-case token/);
    await violates(ok, request({ rawHeaders: ['x-a', 'b\r\nc'] }), /CR, LF or NUL/);
  });
  it('refuses a bad scheme and bad addresses', async () => {
    await violates(ok, request({ scheme: 'ftp' as 'http' }), /scheme/);
    await violates(ok, request({ remote: { address: '127.0.0.1', port: 70000 } }), /request\.remote/);
  });
  it('refuses a body that was already read before the app was called', async () => {
    const req = request({ method: 'POST', bodyLength: 2 }, 'hi');
    await req.body.bytes();
    await violates(ok, req, /already read/);
  });
  it('refuses a request whose signal is not an AbortSignal', async () => {
    await violates(ok, { ...request(), signal: {} as AbortSignal }, /AbortSignal/);
  });
  it('lets the app read the body once, and the second read fails with ERR_HTTP_BODY_CONSUMED', async () => {
    const app: Application = async (req) => {
      const text = await req.body.text();
      await assert.rejects(req.body.text(), { code: 'ERR_HTTP_BODY_CONSUMED' });
      return { status: 200, body: text };
    };
    assert.equal((await conforms(app, request({ method: 'POST', bodyLength: 5 }, 'hello'))).body, 'hello');
  });
});

describe('validate: the response side', { timeout: 5_000 }, () => {
  it('refuses a response that is not an object', async () => {
    await violates(respond(undefined), request(), /returned undefined/);
    await violates(respond(null), request(), /returned null/);
    await violates(respond('hello'), request(), /returned string/);
    await violates(respond([200, {}, 'x']), request(), /returned an array/);
  });
  it('refuses a fetch Response and points at the fetch form', async () => {
    await violates(respond(new Response('x')), request(), /fetch Response.*export \{ fetch\(request\) \}/);
  });
  it('accepts every status from 200 to 599', async () => {
    for (const status of [200, 201, 301, 404, 418, 500, 599]) assert.equal((await conforms(respond({ status }))).status, status);
  });
  it('refuses a status that is not an integer', async () => {
    await violates(respond({ status: '200' }), request(), /"200", not an integer/);
    await violates(respond({ status: 200.5 }), request(), /not an integer/);
  });
  it('refuses 1xx statuses, including 101', async () => {
    for (const status of [100, 101, 103]) await violates(respond({ status }), request(), new RegExp(`status ${status}: an app returns a final response`));
  });
  it('refuses statuses outside 200-599', async () => {
    await violates(respond({ status: 99 }), request(), /outside 200-599/);
    await violates(respond({ status: 600 }), request(), /outside 200-599/);
  });

  it('accepts headers as pairs, as a record (with numbers and arrays), as a HeaderList, or none', async () => {
    await conforms(respond({ status: 200, headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }));
    await conforms(respond({ status: 200, headers: { 'Content-Type': 'text/plain', 'x-count': 3, 'set-cookie': ['a=1', 'b=2'] } }));
    await conforms(respond({ status: 200, headers: HeaderList.from([['x-a', '1']]) }));
    await conforms(respond({ status: 200, headers: Object.assign(Object.create(null), { 'x-a': '1' }) }));
    await conforms(respond({ status: 200 }));
  });
  it('refuses headers in another form (Map, fetch Headers) and malformed pairs', async () => {
    await violates(respond({ status: 200, headers: new Map([['x', 'y']]) }), request(), /is a Map/);
    await violates(respond({ status: 200, headers: new Headers({ x: 'y' }) }), request(), /a fetch Headers object/);
    await violates(respond({ status: 200, headers: [['x-a', 1]] }), request(), /headers\[0\].*two strings/);
    await violates(respond({ status: 200, headers: [['x-a']] }), request(), /headers\[0\]/);
    await violates(respond({ status: 200, headers: { 'x-a': { v: 1 } } }), request(), /x-a has value/);
  });
  it('refuses header names that are not tokens', async () => {
    await violates(respond({ status: 200, headers: [['bad name', 'x']] }), request(), /"bad name" is not a token/);
    await violates(respond({ status: 200, headers: [['x-a:', 'x']] }), request(), /not a token/);
    await violates(respond({ status: 200, headers: [['', 'x']] }), request(), /not a token/);
  });
  it('refuses values that would split the response (CR, LF, NUL)', async () => {
    for (const value of ['a\r\nset-cookie: evil=1', 'a\nb', 'a\0b']) {
      await violates(respond({ status: 200, headers: [['x-a', value]] }), request(), /contains CR, LF or NUL/);
    }
  });
  it('refuses other control characters but allows HTAB and latin1', async () => {
    await violates(respond({ status: 200, headers: [['x-a', 'a\x07b']] }), request(), /control character/);
    await conforms(respond({ status: 200, headers: [['x-a', 'a\tb'], ['x-b', 'caf\xe9']] }));
  });
  it('refuses characters above U+00FF in values', async () => {
    await violates(respond({ status: 200, headers: [['content-disposition', 'attachment; filename="日本.txt"']] }), request(), /above U\+00FF/);
  });
  it('refuses the hop-by-hop headers the server owns', async () => {
    for (const name of ['Transfer-Encoding', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection']) {
      await violates(respond({ status: 200, headers: [[name, 'x']] }), request(), /hop-by-hop and belongs to the server/);
    }
  });
  it('allows connection: close and refuses any other connection value', async () => {
    await conforms(respond({ status: 200, headers: [['Connection', 'close']] }));
    await violates(respond({ status: 200, headers: [['connection', 'keep-alive']] }), request(), /only value an app may send is "close"/);
  });
  it('allows the app to set date and server', async () => {
    await conforms(respond({ status: 200, headers: { date: 'Tue, 01 Jul 2025 00:00:00 GMT', server: 'mine' } }));
  });

  it('accepts string, bytes, async iterable, null and undefined bodies', async () => {
    await conforms(respond({ status: 200, body: 'x' }));
    await conforms(respond({ status: 200, body: new Uint8Array([1]) }));
    await conforms(respond({ status: 200, body: Buffer.from('x') }));
    await conforms(respond({ status: 200, body: null }));
    await conforms(respond({ status: 200, body: undefined }));
    const streamed = await conforms(respond({ status: 200, body: chunks(new Uint8Array([1, 2]), new Uint8Array([3])) }));
    assert.deepEqual((await drain(streamed.body)).map((c) => [...c]), [[1, 2], [3]]);
  });
  it('refuses other body types, naming what it was', async () => {
    await violates(respond({ status: 200, body: 42 }), request(), /body is a number/);
    await violates(respond({ status: 200, body: { a: 1 } }), request(), /body is an object \(Object\)/);
    await violates(respond({ status: 200, body: ['a', 'b'] }), request(), /body is an array/);
  });
  it('refuses a stream chunk that is not a Uint8Array, and closes the app\'s stream', async () => {
    let closed = false;
    async function* gen(): AsyncGenerator<unknown> {
      try { yield new Uint8Array([1]); yield 'text'; yield new Uint8Array([2]); } finally { closed = true; }
    }
    const response = await conforms(respond({ status: 200, body: gen() }));
    await assert.rejects(drain(response.body), { code: 'ERR_APP_CONTRACT', message: /yielded a string; chunks must be Uint8Array/ });
    assert.equal(closed, true);
  });
  it('forwards return() to the app\'s stream when the server stops early', async () => {
    let closed = false;
    async function* gen(): AsyncGenerator<Uint8Array> {
      try { for (;;) yield new Uint8Array([0]); } finally { closed = true; }
    }
    const response = await conforms(respond({ status: 200, body: gen() }));
    for await (const _chunk of response.body as AsyncIterable<Uint8Array>) break;
    assert.equal(closed, true);
  });
  it('refuses a server that iterates the body twice', async () => {
    const response = await conforms(respond({ status: 200, body: chunks(new Uint8Array([1])) }));
    await drain(response.body);
    await assert.rejects(drain(response.body), { code: 'ERR_APP_CONTRACT', message: /iterated the response body twice/ });
  });

  it('checks content-length against a string body in UTF-8 bytes', async () => {
    await conforms(respond({ status: 200, headers: { 'content-length': '5' }, body: 'hallo' }));
    await conforms(respond({ status: 200, headers: { 'content-length': '6' }, body: 'héllo' }));
    await violates(respond({ status: 200, headers: { 'content-length': '5' }, body: 'héllo' }), request(), /content-length is 5 but the body is 6 bytes \(strings are sent as UTF-8\)/);
  });
  it('checks content-length against a bytes body', async () => {
    await conforms(respond({ status: 200, headers: [['content-length', '3']], body: new Uint8Array(3) }));
    await violates(respond({ status: 200, headers: [['content-length', '4']], body: new Uint8Array(3) }), request(), /content-length is 4 but the body is 3 bytes/);
  });
  it('checks content-length against a streamed body, short and long', async () => {
    const exact = await conforms(respond({ status: 200, headers: { 'content-length': 3 }, body: chunks(new Uint8Array(2), new Uint8Array(1)) }));
    assert.equal((await drain(exact.body)).length, 2);
    const short = await conforms(respond({ status: 200, headers: { 'content-length': 4 }, body: chunks(new Uint8Array(3)) }));
    await assert.rejects(drain(short.body), { message: /content-length is 4 but the body yielded 3 bytes/ });
    const long = await conforms(respond({ status: 200, headers: { 'content-length': 2 }, body: chunks(new Uint8Array(3)) }));
    await assert.rejects(drain(long.body), { message: /content-length is 2 but the body yielded more/ });
  });
  it('refuses content-length that is not plain digits, or repeated', async () => {
    for (const value of ['+5', '0x5', '5 ', '5, 5', '']) {
      await violates(respond({ status: 200, headers: [['content-length', value]], body: 'hello' }), request(), /not a decimal number/);
    }
    await violates(respond({ status: 200, headers: [['content-length', '5'], ['Content-Length', '5']], body: 'hello' }), request(), /more than one content-length/);
  });
  it('refuses a non-zero content-length with no body', async () => {
    await violates(respond({ status: 200, headers: { 'content-length': '5' } }), request(), /content-length is 5 but the body is undefined/);
  });

  it('refuses a body on a response to HEAD, but allows its content-length', async () => {
    const head = request({ method: 'HEAD' });
    await conforms(respond({ status: 200, headers: { 'content-length': '13' }, body: null }), head);
    await violates(respond({ status: 200, body: 'Hello, World!' }), request({ method: 'HEAD' }), /a response to HEAD must not have a body \(got 13 bytes\)/);
    await violates(respond({ status: 200, body: chunks() }), request({ method: 'HEAD' }), /a response to HEAD must not have a body \(got an async iterable\)/);
  });
  it('refuses a body or a content-length on 204', async () => {
    await conforms(respond({ status: 204 }));
    await conforms(respond({ status: 204, body: '' }));
    await violates(respond({ status: 204, body: 'x' }), request(), /a 204 response must not have a body/);
    await violates(respond({ status: 204, headers: { 'content-length': '0' } }), request(), /204 response must not have a content-length/);
  });
  it('refuses a body on 304', async () => {
    await conforms(respond({ status: 304, headers: { etag: '"v1"' } }));
    await violates(respond({ status: 304, body: new Uint8Array(1) }), request(), /a 304 response must not have a body/);
  });
  it('lets an app error through unchanged (the server answers it with a 500)', async () => {
    const boom = new Error('boom');
    await assert.rejects(validate(() => { throw boom; })(request()) as Promise<unknown>, (error) => error === boom);
  });
});

describe('validate: interim responses and trailers (Gateway 1.1)', { timeout: 5_000 }, () => {
  /** A request whose sendInterim records what reached the server. */
  function interimRequest(): { req: GatewayRequest; sent: Array<[number, unknown]> } {
    const req = request();
    const sent: Array<[number, unknown]> = [];
    Object.defineProperty(req, 'sendInterim', { value: (status: number, headers: unknown) => { sent.push([status, headers]); }, configurable: true, writable: true });
    return { req, sent };
  }

  it('passes 103 with valid fields to the server', async () => {
    const { req, sent } = interimRequest();
    await conforms((r) => { r.sendInterim!(103, { link: '</a.css>; rel=preload' }); return { status: 200, body: 'ok' }; }, req);
    assert.deepEqual(sent, [[103, { link: '</a.css>; rel=preload' }]]);
  });

  it('refuses a status that is not an interim one, and fields that would split the head', async () => {
    for (const [status, pattern] of [[200, /status of an interim response is a 1xx/], [100, /100 Continue is the server's/], [101, /101 an accepted upgrade's/]] as const) {
      const { req, sent } = interimRequest();
      await violates((r) => { r.sendInterim!(status, []); return { status: 200 }; }, req, pattern);
      assert.deepEqual(sent, [], 'nothing reached the server');
    }
    const { req } = interimRequest();
    await violates((r) => { r.sendInterim!(103, [['link', 'a\r\nx: 1']]); return { status: 200 }; }, req, /interim header link: .* contains CR, LF or NUL/);
  });

  it('refuses sendInterim after the app returned its response', async () => {
    const { req, sent } = interimRequest();
    await conforms(() => ({ status: 200, body: 'ok' }), req);
    assert.throws(() => req.sendInterim!(103, []), { code: 'ERR_APP_CONTRACT', message: /after the app returned its response/ });
    assert.deepEqual(sent, []);
  });

  it('checks trailer fields: their form, splitting characters, and fields not allowed in trailers', async () => {
    await conforms(respond({ status: 200, body: 'ok', trailers: [['x-checksum', 'abc']] }));
    await violates(respond({ status: 200, body: 'ok', trailers: [['x-sum', 'a\nb']] }), request(), /trailer x-sum: .* contains CR, LF or NUL/);
    await violates(respond({ status: 200, body: 'ok', trailers: { 'Content-Length': '2' } }), request(), /trailer content-length is not allowed in trailers/);
    await violates(respond({ status: 200, body: 'ok', trailers: new Map() }), request(), /response.trailers is a Map/);
  });

  it('checks what a trailers function returns when the server calls it, after the body', async () => {
    const response = await conforms(respond({ status: 200, body: chunks(new Uint8Array([1])), trailers: () => [['set-cookie', 'a=1']] }));
    assert.equal(typeof response.trailers, 'function');
    await drain(response.body);
    await assert.rejects(Promise.resolve((response.trailers as () => unknown)()), { code: 'ERR_APP_CONTRACT', message: /trailer set-cookie is not allowed/ });
    const fine = await conforms(respond({ status: 200, body: 'ok', trailers: async () => ({ 'x-done': '1' }) }));
    assert.deepEqual(await (fine.trailers as () => unknown)(), { 'x-done': '1' });
  });
});
