/*
 * The response serializer on its own: status lines, which framing fields the server adds and
 * when, what it refuses from the app, and the per-second Date value.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseSerializer, newFraming, chunkHeader } from '../src/http/serializer.js';
import { httpDate } from '../src/http/date.js';
import { HeaderList, GatehouseError } from '../src/index.js';
import type { ResponseHeaders } from '../src/index.js';

const serializer = new ResponseSerializer('gatehouse');

interface Call { status?: number; headers?: ResponseHeaders; http11?: boolean; isHead?: boolean; keepAlive?: boolean; bodyLength?: number }
function head(call: Call = {}) {
  const framing = newFraming();
  const text = serializer.serializeHead(call.status ?? 200, call.headers, call.http11 ?? true, call.isHead ?? false, call.keepAlive ?? true, call.bodyLength ?? 0, framing);
  const lines = text.split('\r\n');
  assert.equal(lines.at(-1), '', 'head ends with CRLF CRLF');
  assert.equal(lines.at(-2), '');
  const fields = lines.slice(1, -2).map((line) => { const i = line.indexOf(': '); return [line.slice(0, i), line.slice(i + 2)] as const; });
  const all = (name: string) => fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return { text, statusLine: lines[0], fields, all, get: (name: string) => all(name)[0] ?? null, framing };
}

function throwsCode(fn: () => unknown, code: string) {
  assert.throws(fn, (error: unknown) => error instanceof GatehouseError && error.code === code);
}

describe('ResponseSerializer: status line', { timeout: 5_000 }, () => {
  it('writes HTTP/1.1, the code and its reason phrase', () => {
    assert.equal(head({ status: 200 }).statusLine, 'HTTP/1.1 200 OK');
    assert.equal(head({ status: 404 }).statusLine, 'HTTP/1.1 404 Not Found');
    assert.equal(head({ status: 413 }).statusLine, 'HTTP/1.1 413 Content Too Large');
  });
  it('answers HTTP/1.0 clients with HTTP/1.1 too (RFC 9110 §6.2)', () => {
    assert.equal(head({ http11: false }).statusLine, 'HTTP/1.1 200 OK');
  });
  it('leaves the reason empty for an unregistered code', () => {
    assert.equal(head({ status: 599 }).statusLine, 'HTTP/1.1 599 ');
  });
  it('refuses statuses that are not three-digit integers', () => {
    for (const status of [99, 1000, 200.5, NaN, -1]) throwsCode(() => head({ status }), 'ERR_APP_BAD_RESPONSE');
  });
});

describe('ResponseSerializer: framing fields', { timeout: 5_000 }, () => {
  it('adds Content-Length for a body of known length', () => {
    const h = head({ bodyLength: 13 });
    assert.deepEqual(h.all('content-length'), ['13']);
    assert.equal(h.get('transfer-encoding'), null);
    assert.equal(h.framing.contentLength, 13);
    assert.equal(h.framing.sendBody, true);
  });
  it('sends Content-Length: 0 for a response with no body', () => {
    assert.deepEqual(head({ bodyLength: 0 }).all('content-length'), ['0']);
  });
  it('uses chunked for a stream on HTTP/1.1 and keeps the connection', () => {
    const h = head({ bodyLength: -1 });
    assert.equal(h.get('transfer-encoding'), 'chunked');
    assert.equal(h.get('content-length'), null);
    assert.equal(h.framing.chunked, true);
    assert.equal(h.framing.keepAlive, true);
  });
  it('delimits a stream by closing on HTTP/1.0 (no chunked there)', () => {
    const h = head({ bodyLength: -1, http11: false });
    assert.equal(h.get('transfer-encoding'), null);
    assert.equal(h.get('content-length'), null);
    assert.equal(h.get('connection'), 'close');
    assert.equal(h.framing.keepAlive, false);
  });
  it('honours the app\'s Content-Length for a stream', () => {
    const h = head({ bodyLength: -1, headers: [['Content-Length', '5']] });
    assert.deepEqual(h.all('content-length'), ['5']);
    assert.equal(h.get('transfer-encoding'), null);
    assert.equal(h.framing.chunked, false);
    assert.equal(h.framing.contentLength, 5);
  });
  it('refuses an app Content-Length that disagrees with the body', () => {
    throwsCode(() => head({ bodyLength: 3, headers: [['content-length', '5']] }), 'ERR_APP_BAD_RESPONSE');
  });
  it('refuses a Content-Length that is not digits, and two different ones', () => {
    for (const value of ['+5', '0x5', '5, 5', '', '-1']) throwsCode(() => head({ bodyLength: -1, headers: [['content-length', value]] }), 'ERR_APP_BAD_HEADER');
    throwsCode(() => head({ bodyLength: -1, headers: [['content-length', '5'], ['content-length', '6']] }), 'ERR_APP_BAD_HEADER');
  });
  it('adds no Content-Length or Transfer-Encoding to 1xx, 204 and 304, and sends no body', () => {
    for (const status of [103, 204, 304]) {
      for (const bodyLength of [0, 5, -1]) {
        const h = head({ status, bodyLength });
        assert.equal(h.get('content-length'), null, `${status}/${bodyLength}`);
        assert.equal(h.get('transfer-encoding'), null, `${status}/${bodyLength}`);
        assert.equal(h.framing.sendBody, false);
      }
    }
  });
  it('drops an app Content-Length on 204 (MUST NOT) but keeps it on 304', () => {
    assert.equal(head({ status: 204, headers: [['content-length', '0']] }).get('content-length'), null);
    assert.equal(head({ status: 304, headers: [['content-length', '42']] }).get('content-length'), '42');
  });
  it('HEAD: Content-Length of the body the GET would get, no body bytes', () => {
    const h = head({ isHead: true, bodyLength: 13 });
    assert.equal(h.get('content-length'), '13');
    assert.equal(h.framing.sendBody, false);
    assert.equal(head({ isHead: true, bodyLength: 0 }).get('content-length'), null, 'a HEAD answered without body says nothing about length');
    assert.equal(head({ isHead: true, bodyLength: 0, headers: { 'content-length': 99 } }).get('content-length'), '99');
    assert.equal(head({ isHead: true, bodyLength: -1 }).get('transfer-encoding'), null);
  });
  it('drops the app\'s Transfer-Encoding: the server frames the body', () => {
    const h = head({ bodyLength: 4, headers: [['transfer-encoding', 'gzip, chunked']] });
    assert.equal(h.get('transfer-encoding'), null);
    assert.equal(h.get('content-length'), '4');
  });
});

describe('ResponseSerializer: Connection', { timeout: 5_000 }, () => {
  it('says nothing on a persistent HTTP/1.1 response', () => {
    assert.equal(head().get('connection'), null);
  });
  it('says close when the connection will close', () => {
    const h = head({ keepAlive: false });
    assert.deepEqual(h.all('connection'), ['close']);
    assert.equal(h.framing.keepAlive, false);
  });
  it('echoes keep-alive to an HTTP/1.0 client it keeps', () => {
    assert.deepEqual(head({ http11: false }).all('connection'), ['keep-alive']);
    assert.deepEqual(head({ http11: false, keepAlive: false }).all('connection'), ['close']);
  });
  it('honours an app Connection: close (any case, in a list) and writes the field once', () => {
    for (const value of ['close', 'Close', 'foo, CLOSE']) {
      const h = head({ headers: [['Connection', value]] });
      assert.deepEqual(h.all('connection'), ['close'], value);
      assert.equal(h.framing.keepAlive, false);
    }
  });
  it('does not copy other Connection options from the app', () => {
    const h = head({ headers: [['connection', 'keep-alive, upgrade']] });
    assert.equal(h.get('connection'), null);
    assert.equal(h.framing.keepAlive, true);
  });
  it('cannot be kept alive by the app when the server will close', () => {
    assert.equal(head({ keepAlive: false, headers: [['connection', 'keep-alive']] }).framing.keepAlive, false);
  });
});

describe('ResponseSerializer: Date and Server', { timeout: 5_000 }, () => {
  it('adds both, Date as IMF-fixdate', () => {
    const h = head();
    assert.equal(h.get('server'), 'gatehouse');
    assert.match(h.get('date')!, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.ok(Math.abs(Date.parse(h.get('date')!) - Date.now()) < 2000);
  });
  it('keeps the app\'s own Date or Server and adds the other, never twice', () => {
    const withDate = head({ headers: [['Date', 'Sun, 06 Nov 1994 08:49:37 GMT']] });
    assert.deepEqual(withDate.all('date'), ['Sun, 06 Nov 1994 08:49:37 GMT']);
    assert.deepEqual(withDate.all('server'), ['gatehouse']);
    const withServer = head({ headers: { server: 'mine' } });
    assert.deepEqual(withServer.all('server'), ['mine']);
    assert.equal(withServer.all('date').length, 1);
  });
  it('sends no Server when the setting is empty', () => {
    const framing = newFraming();
    const text = new ResponseSerializer('').serializeHead(200, [], true, false, true, 0, framing);
    assert.doesNotMatch(text, /^server:/im);
    assert.match(text, /^date: /im);
  });
  it('httpDate formats a given instant and changes with the second', () => {
    assert.equal(httpDate(Date.UTC(1994, 10, 6, 8, 49, 37, 999)), 'Sun, 06 Nov 1994 08:49:37 GMT');
    assert.equal(httpDate(Date.UTC(1994, 10, 6, 8, 49, 38, 0)), 'Sun, 06 Nov 1994 08:49:38 GMT');
  });
});

describe('ResponseSerializer: app fields', { timeout: 5_000 }, () => {
  it('copies names as given, in order, from pairs, records (with arrays) and HeaderLists', () => {
    const fromPairs = head({ headers: [['X-A', '1'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']] });
    assert.deepEqual(fromPairs.fields.slice(0, 3), [['X-A', '1'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
    const fromRecord = head({ headers: { 'x-n': 5, 'set-cookie': ['a=1', 'b=2'] } });
    assert.deepEqual(fromRecord.fields.slice(0, 3), [['x-n', '5'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
    const fromList = head({ headers: new HeaderList(['x-a', '1', 'x-b', '2']) });
    assert.deepEqual(fromList.fields.slice(0, 2), [['x-a', '1'], ['x-b', '2']]);
  });
  it('refuses names that are not tokens', () => {
    for (const name of ['', 'a b', 'a:b', 'a\r\nb', 'é', '(x)']) throwsCode(() => head({ headers: [[name, 'v']] }), 'ERR_APP_BAD_HEADER');
  });
  it('refuses values with CR, LF, NUL or other controls (response splitting)', () => {
    for (const value of ['a\r\nx-injected: 1', 'a\nb', 'a\rb', 'a\0b', 'a\x7fb', 'a\x01b']) {
      throwsCode(() => head({ headers: [['x-v', value]] }), 'ERR_APP_BAD_HEADER');
      throwsCode(() => head({ headers: { 'x-v': value } }), 'ERR_APP_BAD_HEADER');
    }
  });
  it('refuses characters that do not fit in a byte', () => {
    throwsCode(() => head({ headers: [['x-v', 'snow\u2603man']] }), 'ERR_APP_BAD_HEADER');
  });
  it('allows HTAB and obs-text (0x80-0xFF), and marks such a head as not 7-bit', () => {
    const h = head({ headers: [['x-v', 'caf\u00e9\tok']] });
    assert.equal(h.get('x-v'), 'caf\u00e9\tok');
    assert.equal(h.framing.ascii, false);
    assert.equal(head({ headers: [['x-v', 'plain']] }).framing.ascii, true);
  });
  it('refuses header shapes that are not pairs', () => {
    throwsCode(() => head({ headers: [['only-name']] as unknown as ResponseHeaders }), 'ERR_APP_BAD_HEADER');
  });
  it('refuses a Map or a fetch Headers instead of sending none of their fields', () => {
    throwsCode(() => head({ headers: new Map([['x-a', '1']]) as unknown as ResponseHeaders }), 'ERR_APP_BAD_HEADER');
    throwsCode(() => head({ headers: new Headers([['x-a', '1']]) as unknown as ResponseHeaders }), 'ERR_APP_BAD_HEADER');
  });
});

describe('ResponseSerializer: simple responses and chunks', { timeout: 5_000 }, () => {
  it('builds a complete text response with close', () => {
    const framing = newFraming();
    const text = serializer.simpleResponse(400, 'Malformed request\n', true, false, false, framing);
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(text, /\r\ncontent-length: 18\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.ok(text.endsWith('\r\n\r\nMalformed request\n'));
  });
  it('chunk sizes are lower-case hex', () => {
    assert.equal(chunkHeader(255), 'ff\r\n');
    assert.equal(chunkHeader(1), '1\r\n');
  });
});
