// examples/fastify (a Fastify instance, exported instead of listened on) over real HTTP, under
// every engine (single, threaded, prefork, hybrid); and, in this process, the order in which
// Gatehouse runs the instance's ready() and close() around the module's own hooks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadApp, createRequest } from '../../packages/core/dist/src/index.js';
import { ENGINES, serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../fastify/app.js', import.meta.url));
const LIFECYCLE = fileURLToPath(new URL('./fixtures/fastify-lifecycle.mjs', import.meta.url));

for (const [name, Engine] of ENGINES) {
  describe(`examples/fastify under the ${name} engine`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { engine: name, workers: 2, threads: 2, gracefulTimeout: 2 });

    it('GET / answers fastify\'s JSON, and the onReady hook ran before the first request', async () => {
      const response = await fetch(`${served.base}/`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.deepEqual(await response.json(), { hello: 'from Fastify' });
      assert.deepEqual(await (await fetch(`${served.base}/ready`)).json(), { ready: true });
    });

    it('GET /users/:id: the params schema coerces the id; 404 JSON for an unknown id, 400 for a bad one', async () => {
      const found = await fetch(`${served.base}/users/2`);
      assert.equal(found.status, 200);
      assert.deepEqual(await found.json(), { id: 2, name: 'Grace' });
      const missing = await fetch(`${served.base}/users/99`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'no such user' });
      const bad = await fetch(`${served.base}/users/ada`);
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).code, 'FST_ERR_VALIDATION');
    });

    it('POST /echo: a JSON body round trip (201); a body the schema rejects is fastify\'s 400, invalid JSON too', async () => {
      const body = { name: 'wörld', tags: ['a', 'b'] };
      const response = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(response.status, 201);
      assert.deepEqual(await response.json(), { received: body });
      const invalid = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: [] }) });
      assert.equal(invalid.status, 400);
      assert.match((await invalid.json()).message, /required property 'name'/);
      const broken = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name"' });
      assert.equal(broken.status, 400);
      assert.equal((await broken.json()).code, 'FST_ERR_CTP_INVALID_JSON_BODY');
    });

    it('GET /stream sends a Node stream through reply.send', async () => {
      const response = await fetch(`${served.base}/stream?n=4`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'line 1\nline 2\nline 3\nline 4\n');
    });

    it('GET /whoami: request.ip, protocol and host come from the connection and Host', async () => {
      assert.deepEqual(await (await fetch(`${served.base}/whoami`)).json(), { ip: '127.0.0.1', protocol: 'http', host: `127.0.0.1:${served.port}` });
    });

    it('an unknown route gets fastify\'s own 404 JSON', async () => {
      const response = await fetch(`${served.base}/nowhere`);
      assert.equal(response.status, 404);
      assert.deepEqual(await response.json(), { message: 'Route GET:/nowhere not found', error: 'Not Found', statusCode: 404 });
    });
  });
}

describe('a Fastify instance\'s lifecycle under Gatehouse', { timeout: 10_000 }, () => {
  it('is a node listener; startup() runs the module\'s startup then fastify\'s ready(), shutdown() its close() then the module\'s shutdown', async () => {
    const events = globalThis.fastifyLifecycle = [];
    const loaded = await loadApp({ kind: 'module', spec: LIFECYCLE });
    assert.equal(loaded.interface, 'node');
    assert.deepEqual(events, []);
    await loaded.startup();
    assert.deepEqual(events, ['module startup', 'fastify onReady']);
    const request = createRequest({
      method: 'GET', target: '/', path: '/', query: '', httpVersion: '1.1', rawHeaders: ['host', 'test'], scheme: 'http',
      remote: { address: '127.0.0.1', port: 50000 }, server: { address: '127.0.0.1', port: 8000 }, bodyLength: 0,
    }, null, new AbortController().signal);
    const response = await loaded.app(request);
    assert.equal(response.status, 200);
    await loaded.shutdown();
    assert.deepEqual(events, ['module startup', 'fastify onReady', 'request', 'fastify onClose', 'module shutdown']);
  });
});
