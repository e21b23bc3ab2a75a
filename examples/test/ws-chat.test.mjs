// examples/node/ws-chat.js (an http.Server with Express and a `ws` WebSocketServer, exported)
// with the `ws` client over real sockets: the server's 'upgrade' listener takes the connection,
// its request listener (Express) answers the rest, and a graceful stop closes each WebSocket
// with 1001 Going Away. Each process (or app thread) holds its own room: under the matrix one
// address's clients share one unit; without --sticky a client is sure to hear only itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { serveForSuite } from './engines.mjs';
import { UPGRADE_ENGINES, UNSTICKY } from './upgrade-engines.mjs';

const APP = fileURLToPath(new URL('../node/ws-chat.js', import.meta.url));

/** Opens a WebSocket and resolves with it and its first message (the welcome). */
async function join(url) {
  const socket = new WebSocket(url);
  const messages = [];
  const waiters = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(message); else messages.push(message);
  });
  socket.next = () => messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve));
  await once(socket, 'open');
  return socket;
}

for (const [label, Engine, settings] of UPGRADE_ENGINES) {
  describe(`examples/node/ws-chat.js under ${label}`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { ...settings, gracefulTimeout: 3 });
    const wsUrl = (path) => `${served.base.replace(/^http/, 'ws')}${path}`;

    it('two clients join /chat; what one sends reaches both', async () => {
      const alice = await join(wsUrl('/chat'));
      assert.equal((await alice.next()).type, 'welcome');
      const bob = await join(wsUrl('/chat'));
      assert.deepEqual(await bob.next(), { type: 'welcome', clients: 2 });
      alice.send('hello from alice');
      assert.deepEqual(await alice.next(), { type: 'chat', text: 'hello from alice' });
      assert.deepEqual(await bob.next(), { type: 'chat', text: 'hello from alice' });
      bob.send('x'.repeat(70_000));
      assert.equal((await alice.next()).text.length, 70_000);
      alice.close();
      bob.close();
      await Promise.all([once(alice, 'close'), once(bob, 'close')]);
    });

    it('ordinary requests go to the Express app on the same server', async () => {
      const page = await fetch(`${served.base}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /new WebSocket/);
      const stats = await fetch(`${served.base}/stats`);
      assert.equal(stats.headers.get('x-powered-by'), 'Express');
      assert.equal(typeof (await stats.json()).clients, 'number');
    });

    it('an upgrade ws does not handle is refused by ws itself (400), and the server goes on', async () => {
      const socket = new WebSocket(wsUrl('/elsewhere'));
      socket.on('error', () => {});
      const [request, response] = await once(socket, 'unexpected-response');
      assert.equal(response.statusCode, 400);
      request.destroy();
      assert.equal((await fetch(`${served.base}/stats`)).status, 200);
    });
  });

  describe(`examples/node/ws-chat.js under ${label}: stopping`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { ...settings, gracefulTimeout: 2 });

    it('a graceful stop closes an open WebSocket with 1001 Going Away before its timeout', async () => {
      const socket = await join(`${served.base.replace(/^http/, 'ws')}/chat`);
      await socket.next();
      const closed = once(socket, 'close');
      const started = Date.now();
      const stopped = served.engine.stop({ graceful: true });
      const [code] = await closed;
      assert.equal(code, 1001);
      await stopped;
      assert.ok(Date.now() - started < 10_000, 'the stop ended within its graceful timeout and a margin');
    });
  });
}

const [unstickyLabel, UnstickyEngine, unstickySettings] = UNSTICKY;
describe(`examples/node/ws-chat.js under ${unstickyLabel} (no --sticky)`, { timeout: 30_000 }, () => {
  const served = serveForSuite(APP, UnstickyEngine, { ...unstickySettings, gracefulTimeout: 2 });

  it('clients join wherever they land, and each hears what it sends', async () => {
    const clients = [];
    for (let i = 0; i < 4; i++) {
      const client = await join(`${served.base.replace(/^http/, 'ws')}/chat`);
      assert.equal((await client.next()).type, 'welcome');
      clients.push(client);
    }
    for (const [i, client] of clients.entries()) {
      client.send(`from ${i}`);
      let heard;
      do heard = await client.next(); while (heard.text !== `from ${i}`);
    }
    for (const client of clients) client.close();
    await Promise.all(clients.map((client) => once(client, 'close')));
  });
});
