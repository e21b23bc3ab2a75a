// examples/hello served by the single engine on a real loopback port.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadApp, validate } from '../../packages/core/dist/src/index.js';
import { serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../hello/', import.meta.url));

describe('examples/hello', { timeout: 20_000 }, () => {
  const served = serveForSuite(APP);

  it('GET / answers 200 "Hello, World!" as text/plain', async () => {
    const response = await fetch(`${served.base}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.equal(await response.text(), 'Hello, World!');
  });

  it('answers hello on any path and method, like the benchmark apps it is compared with', async () => {
    for (const [method, path] of [['GET', '/other'], ['POST', '/'], ['PUT', '/x?y=1']]) {
      const response = await fetch(`${served.base}${path}`, { method, body: method === 'GET' ? undefined : 'ignored' });
      assert.equal(response.status, 200, `${method} ${path}`);
      assert.equal(await response.text(), 'Hello, World!');
    }
  });

  it('HEAD / gets the headers and the length, without a body', async () => {
    const response = await fetch(`${served.base}/`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.equal(response.headers.get('content-length'), '13');
    assert.equal(await response.text(), '');
  });

  it('keeps to the Gateway Interface contract (under validate) for GET and HEAD', async () => {
    const app = validate((await loadApp({ kind: 'module', spec: APP })).app);
    const { createRequest } = await import('../../packages/core/dist/src/index.js');
    for (const method of ['GET', 'HEAD']) {
      const head = { method, target: '/', path: '/', query: '', httpVersion: '1.1', rawHeaders: ['host', 'x'], scheme: 'http', remote: { address: '127.0.0.1', port: 1 }, server: { address: '127.0.0.1', port: 2 }, bodyLength: 0 };
      const response = await app(createRequest(head, null, new AbortController().signal));
      assert.equal(response.status, 200);
    }
  });
});
