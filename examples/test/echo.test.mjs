// examples/echo served by the single engine: each field of the echo, over real HTTP (fetch
// for the ordinary cases, a raw socket where fetch would rewrite the request).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadApp, validate, createRequest, bufferedBodySource } from '../../packages/core/dist/src/index.js';
import { serveForSuite } from './engines.mjs';


const APP = fileURLToPath(new URL('../echo/', import.meta.url));

/** Sends raw bytes; resolves with the head and the parsed JSON body of the one response (sized or close-delimited). */
function raw(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (complete) => {
      if (done) return;
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) { if (complete) { done = true; reject(new Error(`no response head in ${JSON.stringify(text)}`)); } return; }
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split));
      const body = text.slice(split + 4);
      if (!complete && !(length && body.length >= Number(length[1]))) return;
      done = true;
      socket.destroy();
      try { resolve({ head: text.slice(0, split), json: JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) }); } catch (error) { reject(error); }
    };
    socket.setTimeout(5000, () => { socket.destroy(); if (!done) { done = true; reject(new Error('raw request timed out')); } });
    socket.on('data', (chunk) => { chunks.push(chunk); finish(false); });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error) => { if (!done) { done = true; reject(error); } });
    socket.write(bytes);
  });
}

describe('examples/echo', { timeout: 20_000 }, () => {
  const served = serveForSuite(APP);

  it('GET with a query: 200 application/json with method, target, path, query, version', async () => {
    const response = await fetch(`${served.base}/items/42?sort=desc&tag=a&tag=b`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const echo = await response.json();
    assert.equal(echo.method, 'GET');
    assert.equal(echo.target, '/items/42?sort=desc&tag=a&tag=b');
    assert.equal(echo.path, '/items/42');
    assert.equal(echo.query, 'sort=desc&tag=a&tag=b');
    assert.equal(echo.httpVersion, '1.1');
    assert.equal(echo.body, '');
    assert.equal(echo.bodyLength, 0);
  });

  it('percent-encoded path: target raw, path decoded as UTF-8, query left raw', async () => {
    const echo = await (await fetch(`${served.base}/caf%C3%A9/a%20b%2Fc?q=%20x+y`)).json();
    assert.equal(echo.target, '/caf%C3%A9/a%20b%2Fc?q=%20x+y');
    assert.equal(echo.path, '/café/a b/c');
    assert.equal(echo.query, 'q=%20x+y');
  });

  it('headers: lower-cased names, arrival order, repeated fields kept as separate entries', async () => {
    const { json } = await raw(served.port, 'GET /h HTTP/1.1\r\nHost: echo.test\r\nX-Repeat: one\r\nAccept: */*\r\nx-repeat: two\r\nX-Empty: \r\nConnection: close\r\n\r\n');
    assert.deepEqual(json.headers, [['host', 'echo.test'], ['x-repeat', 'one'], ['accept', '*/*'], ['x-repeat', 'two'], ['x-empty', ''], ['connection', 'close']]);
  });

  it('POST body: echoed with its length', async () => {
    const echo = await (await fetch(`${served.base}/submit`, { method: 'POST', body: 'name=gatehouse&x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).json();
    assert.equal(echo.method, 'POST');
    assert.equal(echo.body, 'name=gatehouse&x=1');
    assert.equal(echo.bodyLength, 18);
    assert.ok(echo.headers.some(([name, value]) => name === 'content-type' && value === 'application/x-www-form-urlencoded'));
  });

  it('body is decoded as latin1: every byte is one character, 0x80-0xFF included', async () => {
    const bytes = new Uint8Array([0x00, 0x41, 0x80, 0x9f, 0xc3, 0xa9, 0xff]);
    const echo = await (await fetch(`${served.base}/bin`, { method: 'PUT', body: bytes })).json();
    assert.equal(echo.bodyLength, 7);
    assert.equal(echo.body, '\u0000A\u0080\u009f\u00c3\u00a9\u00ff');
  });

  it('chunked request body is echoed whole', async () => {
    const { json } = await raw(served.port, 'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    assert.equal(json.body, 'hello world');
    assert.equal(json.bodyLength, 11);
  });

  it('HTTP/1.0 is reported as "1.0"', async () => {
    const { json } = await raw(served.port, 'GET /old HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.equal(json.httpVersion, '1.0');
  });

  it('HEAD gets 200 application/json and no body', async () => {
    const response = await fetch(`${served.base}/h`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '');
  });

  it('keeps to the Gateway Interface contract (under validate) for GET, HEAD and POST', async () => {
    const app = validate((await loadApp({ kind: 'module', spec: APP })).app);
    for (const [method, body] of [['GET', null], ['HEAD', null], ['POST', 'abc']]) {
      const head = { method, target: '/v?x', path: '/v', query: 'x', httpVersion: '1.1', rawHeaders: ['host', 'x'], scheme: 'http', remote: { address: '127.0.0.1', port: 1 }, server: { address: '127.0.0.1', port: 2 }, bodyLength: body ? body.length : 0 };
      const response = await app(createRequest(head, body ? bufferedBodySource(body) : null, new AbortController().signal));
      assert.equal(response.status, 200);
      if (method === 'POST') assert.equal(JSON.parse(response.body).body, 'abc');
    }
  });
});
