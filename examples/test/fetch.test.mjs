// examples/fetch (a Hono app, unchanged) over real HTTP, under every engine (single, threaded,
// prefork, hybrid). Every route of the app is exercised.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENGINES, serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../fetch/app.js', import.meta.url));

for (const [name, Engine] of ENGINES) {
  describe(`examples/fetch (Hono) under the ${name} engine`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { engine: name, workers: 2, threads: 2, gracefulTimeout: 2 });

    it('GET / answers text', async () => {
      const response = await fetch(`${served.base}/`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type'), /^text\/plain/);
      assert.equal(await response.text(), 'Hello from Hono');
    });

    it('GET /users/:id answers JSON, 404 JSON for an unknown id', async () => {
      const found = await fetch(`${served.base}/users/2`);
      assert.equal(found.status, 200);
      assert.match(found.headers.get('content-type'), /^application\/json/);
      assert.deepEqual(await found.json(), { id: '2', name: 'Grace' });
      const missing = await fetch(`${served.base}/users/99`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'no such user' });
    });

    it('GET /search parses the query, repeated keys included', async () => {
      const response = await fetch(`${served.base}/search?q=gate%20house&tag=a&tag=b`);
      assert.deepEqual(await response.json(), { q: 'gate house', tags: ['a', 'b'] });
    });

    it('POST /echo reads a JSON body (201), and answers 400 for invalid JSON', async () => {
      const body = JSON.stringify({ hello: 'wörld', n: [1, 2, 3] });
      const response = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(response.status, 201);
      assert.deepEqual(await response.json(), { received: { hello: 'wörld', n: [1, 2, 3] }, bytes: Buffer.byteLength(body) });
      const bad = await fetch(`${served.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"unterminated' });
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), { error: 'body is not valid JSON' });
    });

    it('POST /upper reads a text body, large ones too', async () => {
      const small = await fetch(`${served.base}/upper`, { method: 'POST', body: 'make me loud' });
      assert.equal(await small.text(), 'MAKE ME LOUD');
      const big = 'abcdefghij'.repeat(50_000);
      const large = await fetch(`${served.base}/upper`, { method: 'POST', body: big });
      assert.equal(await large.text(), big.toUpperCase());
    });

    it('GET /stream sends its lines as a stream (no Content-Length), all of them, in order', async () => {
      const response = await fetch(`${served.base}/stream?n=4`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-length'), null);
      const reader = response.body.getReader();
      const first = Buffer.from((await reader.read()).value).toString();
      assert.match(first, /^line 1 of 4\n/);
      let rest = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
      assert.equal(first + rest, 'line 1 of 4\nline 2 of 4\nline 3 of 4\nline 4 of 4\n');
    });

    it('GET /whoami gives the client address through @hono/node-server\'s getConnInfo', async () => {
      const info = await (await fetch(`${served.base}/whoami`)).json();
      assert.equal(info.address, '127.0.0.1');
      assert.equal(info.addressType, 'IPv4');
      assert.ok(Number.isInteger(info.port) && info.port > 0, `port ${info.port}`);
    });

    it('GET /cookies sends two separate Set-Cookie fields', async () => {
      const response = await fetch(`${served.base}/cookies`);
      assert.deepEqual(response.headers.getSetCookie(), ['theme=dark; Path=/', 'lang=en; Path=/; HttpOnly']);
    });

    it('GET /error is answered by app.onError with a JSON 500', async () => {
      const response = await fetch(`${served.base}/error`);
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { error: 'something broke' });
    });

    it('HEAD answers the headers without a body; unknown paths get Hono\'s 404', async () => {
      const head = await fetch(`${served.base}/users/1`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.match(head.headers.get('content-type'), /^application\/json/);
      assert.equal(await head.text(), '');
      const missing = await fetch(`${served.base}/nowhere`);
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), '404 Not Found');
    });
  });
}

// fetchGlobals: the lightweight Response is installed where a fetch app runs (the process or
// the app threads), never in a process that only supervises, and not at all with fetchGlobals
// off. Each case runs in a fresh process (fixtures/fetch-globals-driver.mjs) that starts the
// engine, asks the app which Response it has, and reports its own global too (this test
// process ran the single engine above, so its own global proves nothing).
const DRIVER = fileURLToPath(new URL('./fixtures/fetch-globals-driver.mjs', import.meta.url));

function kindServed(engineName, overrides) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER, engineName, JSON.stringify(overrides)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('exit', (status) => {
      clearTimeout(timer);
      if (status !== 0) reject(new Error(`${engineName} engine process exited with ${status}: ${out}`));
      else resolve(JSON.parse(out));
    });
  });
}

const LIGHT = { kind: 'gatehouse', instanceOfResponse: true, tag: '[object Response]' };
const UNDICI = { kind: 'undici', instanceOfResponse: true, tag: '[object Response]' };

describe('fetchGlobals: which Response a fetch app gets', { timeout: 60_000 }, () => {
  for (const [name] of ENGINES) {
    it(`${name}: the lightweight one by default, and the supervising process keeps undici's`, async () => {
      const { served, here } = await kindServed(name, {});
      assert.deepEqual(served, LIGHT);
      // The single engine runs the app in its own process; the others run it elsewhere.
      assert.equal(here, name === 'single' ? 'gatehouse' : 'undici');
    });
  }
  for (const name of ['single', 'hybrid']) {
    it(`${name}: undici's with fetchGlobals off`, async () => {
      assert.deepEqual(await kindServed(name, { fetchGlobals: false }), { served: UNDICI, here: 'undici' });
    });
  }
});
