// node:http upgrade and connect listeners under Gatehouse, beyond the chat examples: Hono's
// WebSockets in the server form (examples/fetch/ws-server.js with @hono/node-ws, and
// @hono/node-server's own support), a 'connect' listener tunnelling CONNECT over a raw socket,
// an Upgrade request to a server with no 'upgrade' listener served as an ordinary request, and
// the one warning for an app that exports the Express app instead of the server ws is on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { channels } from '../../packages/core/dist/src/index.js';
import { serveForSuite } from './engines.mjs';
import { UPGRADE_ENGINES } from './upgrade-engines.mjs';

const HONO_EXAMPLE = fileURLToPath(new URL('../fetch/ws-server.js', import.meta.url));
const fixture = (name) => fileURLToPath(new URL(`./fixtures/upgrades/${name}`, import.meta.url));
const wsBase = (served) => served.base.replace(/^http/, 'ws');

/** Sends `text` on a fresh WebSocket and resolves with [first message, reply]. */
async function echo(url, text) {
  const socket = new WebSocket(url);
  const received = [];
  const done = new Promise((resolve, reject) => {
    socket.on('message', (data) => { received.push(data.toString()); if (received.length === 2) resolve(received); });
    socket.on('error', reject);
  });
  await once(socket, 'open');
  socket.send(text);
  try { return await done; } finally { socket.close(); }
}

/** Writes `request` on a raw connection and collects what comes back until `until` matches. */
function rawExchange(port, request, until) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no match for ${until} in ${JSON.stringify(data)}`)); }, 10_000);
    socket.on('data', (chunk) => {
      data += chunk;
      if (until.test(data)) { clearTimeout(timer); resolve({ socket, data }); }
    });
    socket.on('error', reject);
  });
}

for (const [label, Engine, settings] of UPGRADE_ENGINES) {
  describe(`upgrade and connect listeners under ${label}`, { timeout: 30_000 }, () => {
    describe('examples/fetch/ws-server.js (Hono + @hono/node-ws, the server exported)', () => {
      const served = serveForSuite(HONO_EXAMPLE, Engine, { ...settings, gracefulTimeout: 2 });
      it('echoes over /ws, and Hono answers ordinary requests', async () => {
        assert.deepEqual(await echo(`${wsBase(served)}/ws`, 'hi'), ['welcome', 'echo: hi']);
        const page = await fetch(`${served.base}/`);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /Hello from Hono/);
      });
      it('refuses an upgrade to a route without upgradeWebSocket with that route\'s status', async () => {
        const socket = new WebSocket(`${wsBase(served)}/nowhere`);
        socket.on('error', () => {});
        const [request, response] = await once(socket, 'unexpected-response');
        assert.equal(response.statusCode, 404);
        request.destroy();
      });
    });

    describe('a \'connect\' listener (connect-proxy fixture)', () => {
      const served = serveForSuite(fixture('connect-proxy.mjs'), Engine, { ...settings, gracefulTimeout: 2 });
      it('takes the CONNECT with the bytes sent after its head, and tunnels both ways', async () => {
        const { socket, data } = await rawExchange(served.port,
          'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\nearly', /head "early"\n/);
        assert.match(data, /^HTTP\/1\.1 200 Connection Established\r\n\r\ntunnel to example\.test:443; head "early"\n$/);
        socket.write('ping');
        const [reply] = await once(socket, 'data');
        assert.equal(reply.toString(), 'PING');
        socket.end();
        await once(socket, 'close');
      });
      it('serves an Upgrade request as an ordinary request when the server has no \'upgrade\' listener', async () => {
        const { socket, data } = await rawExchange(served.port,
          'GET /x HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: something\r\n\r\n', /upgrade=something$/);
        assert.match(data, /^HTTP\/1\.1 200 OK\r\n/);
        socket.destroy();
      });
    });
  });
}

describe('@hono/node-server\'s own WebSocket support (server exported), single engine', { timeout: 30_000 }, () => {
  const served = serveForSuite(fixture('hono-builtin-ws.mjs'));
  it('echoes over /ws', async () => {
    assert.deepEqual(await echo(`${wsBase(served)}/ws`, 'built in'), ['welcome', 'echo: built in']);
  });
});

describe('exporting the Express app while ws is attached to its server', { timeout: 30_000 }, () => {
  const served = serveForSuite(fixture('express-beside-ws.mjs'));
  const warnings = [];
  const onWarning = (message) => warnings.push(message);
  before(() => channels.appWarning.subscribe(onWarning));
  after(() => channels.appWarning.unsubscribe(onWarning));

  it('answers the WebSocket as Express does (404) and warns once, naming the fix', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const socket = new WebSocket(`${wsBase(served)}/chat`);
      socket.on('error', () => {});
      const [request, response] = await once(socket, 'unexpected-response');
      assert.equal(response.statusCode, 404);
      assert.equal(response.headers['x-powered-by'], 'Express');
      request.destroy();
    }
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].error.code, 'ERR_APP_UPGRADE_UNREACHABLE');
    assert.match(warnings[0].error.message, /GET \/chat .*export default server/);
    assert.equal(await (await fetch(`${served.base}/`)).text(), 'express');
  });
});
