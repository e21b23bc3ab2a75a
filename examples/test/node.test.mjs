// examples/node (an Express app, unchanged) over real HTTP, under every engine (single,
// threaded, prefork, hybrid). Every route of the app is exercised, res.sendFile's conditional
// and range requests included.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { ENGINES, serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../node/app.js', import.meta.url));
const FILE = fs.readFileSync(new URL('../node/public/hello.txt', import.meta.url), 'utf8');

for (const [name, Engine] of ENGINES) {
  describe(`examples/node (Express) under the ${name} engine`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { engine: name, workers: 2, threads: 2, gracefulTimeout: 2 });

    it('GET / answers with res.send: text, Content-Length, Express\'s own headers', async () => {
      const response = await fetch(`${served.base}/`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(response.headers.get('content-length'), '18');
      assert.equal(response.headers.get('x-powered-by'), 'Express');
      assert.ok(response.headers.get('etag'));
      assert.equal(await response.text(), 'Hello from Express');
    });

    it('GET /users/:id routes with params: JSON, 404 JSON for an unknown id', async () => {
      const found = await fetch(`${served.base}/users/1`);
      assert.equal(found.status, 200);
      assert.deepEqual(await found.json(), { id: '1', name: 'Ada' });
      const missing = await fetch(`${served.base}/users/99`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'no such user' });
    });

    it('GET /search parses the query string, repeated keys as an array', async () => {
      assert.deepEqual(await (await fetch(`${served.base}/search?q=gate%20house&tag=a&tag=b`)).json(), { q: 'gate house', tag: ['a', 'b'] });
      assert.deepEqual(await (await fetch(`${served.base}/search`)).json(), { q: null, tag: null });
    });

    it('POST /echo parses JSON with express.json() (201); invalid JSON is a 400 from the error handler', async () => {
      const response = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'wörld', n: [1, 2] }) });
      assert.equal(response.status, 201);
      assert.deepEqual(await response.json(), { received: { hello: 'wörld', n: [1, 2] } });
      const bad = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"unterminated' });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /JSON/);
    });

    it('GET /file serves the file with res.sendFile, and honours If-None-Match (304) and Range (206)', async () => {
      const response = await fetch(`${served.base}/file`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(FILE)));
      assert.equal(response.headers.get('accept-ranges'), 'bytes');
      assert.ok(response.headers.get('last-modified'));
      assert.equal(await response.text(), FILE);
      const etag = response.headers.get('etag');
      assert.ok(etag);
      // fetch adds Cache-Control: no-cache to conditional requests unless one is given.
      const cached = await fetch(`${served.base}/file`, { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } });
      assert.equal(cached.status, 304);
      assert.equal(await cached.text(), '');
      const range = await fetch(`${served.base}/file`, { headers: { range: 'bytes=0-4' } });
      assert.equal(range.status, 206);
      assert.equal(range.headers.get('content-range'), `bytes 0-4/${Buffer.byteLength(FILE)}`);
      assert.equal(await range.text(), FILE.slice(0, 5));
    });

    it('GET /download pipes a file stream into res', async () => {
      const response = await fetch(`${served.base}/download`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-disposition'), 'attachment; filename="hello.txt"');
      assert.equal(await response.text(), FILE);
    });

    it('GET /whoami: req.ip, req.protocol and req.hostname come from the connection and Host', async () => {
      assert.deepEqual(await (await fetch(`${served.base}/whoami`)).json(), { ip: '127.0.0.1', protocol: 'http', hostname: '127.0.0.1' });
      // fetch will not send a Host of our choosing; node:http's client will.
      const named = await new Promise((resolve, reject) => {
        http.get(`${served.base}/whoami`, { headers: { host: 'shop.example:8080' } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk) => { text += chunk; }).on('end', () => resolve(JSON.parse(text)));
        }).on('error', reject);
      });
      assert.equal(named.hostname, 'shop.example');
    });

    it('GET /old redirects with res.redirect', async () => {
      const response = await fetch(`${served.base}/old`, { redirect: 'manual' });
      assert.equal(response.status, 301);
      assert.equal(response.headers.get('location'), '/');
    });

    it('GET /error and /async-error reach the error-handling middleware (JSON 500)', async () => {
      const sync = await fetch(`${served.base}/error`);
      assert.equal(sync.status, 500);
      assert.deepEqual(await sync.json(), { error: 'something broke' });
      const asyncFailure = await fetch(`${served.base}/async-error`);
      assert.equal(asyncFailure.status, 500);
      assert.deepEqual(await asyncFailure.json(), { error: 'async handler failed' });
    });

    it('HEAD /file sends the headers without a body; unknown paths get Express\'s 404', async () => {
      const head = await fetch(`${served.base}/file`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(FILE)));
      assert.equal(await head.text(), '');
      const missing = await fetch(`${served.base}/nowhere`);
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /Cannot GET \/nowhere/);
    });
  });
}
