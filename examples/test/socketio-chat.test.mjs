// examples/node/socketio-chat.js (socket.io attached to an exported http.Server that also
// serves Express) with socket.io-client's default transports: the session opens with HTTP
// long-polling (engine.io's request listener) and upgrades to WebSocket (its 'upgrade'
// listener). Polling needs every request of a session in one process, so prefork runs one
// worker here; several workers need sticky sessions (the commented line below, once --sticky
// exists).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { serveForSuite } from './engines.mjs';
import { UPGRADE_ENGINES } from './upgrade-engines.mjs';

const APP = fileURLToPath(new URL('../node/socketio-chat.js', import.meta.url));

/** Connects with the default transports and waits until the session runs over WebSocket. */
async function connectAndUpgrade(base) {
  const client = io(base, { reconnection: false, forceNew: true });
  // The manager opens its engine at once: the first transport, and the upgrade to come.
  const engine = client.io.engine;
  const firstTransport = engine.transport.name;
  const upgraded = once(engine, 'upgrade');
  await once(client, 'connect');
  const [transport] = await upgraded;
  return { client, firstTransport, upgradedTo: transport.name };
}

const ENGINES = [
  ...UPGRADE_ENGINES,
  // ['prefork --workers 2 --sticky', PreforkEngine, { engine: 'prefork', workers: 2, sticky: true }],
];

for (const [label, Engine, settings] of ENGINES) {
  describe(`examples/node/socketio-chat.js under ${label}`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { ...settings, gracefulTimeout: 2 });

    it('connects over polling, upgrades to WebSocket, and broadcasts to every client', async () => {
      const alice = await connectAndUpgrade(served.base);
      const bob = await connectAndUpgrade(served.base);
      try {
        assert.equal(alice.firstTransport, 'polling');
        assert.equal(alice.upgradedTo, 'websocket');
        assert.equal(bob.upgradedTo, 'websocket');
        assert.equal(alice.client.io.engine.transport.name, 'websocket');
        assert.equal(bob.client.io.engine.transport.name, 'websocket');
        const heard = Promise.all([once(alice.client, 'chat'), once(bob.client, 'chat')]);
        alice.client.emit('chat', 'hello over websocket');
        assert.deepEqual(await heard, [['hello over websocket'], ['hello over websocket']]);
      } finally {
        alice.client.disconnect();
        bob.client.disconnect();
      }
    });

    it('a session that stays on polling works too', async () => {
      const client = io(served.base, { reconnection: false, forceNew: true, transports: ['polling'] });
      try {
        await once(client, 'connect');
        assert.equal(client.io.engine.transport.name, 'polling');
        const heard = once(client, 'chat');
        client.emit('chat', 'polled');
        assert.deepEqual(await heard, ['polled']);
      } finally {
        client.disconnect();
      }
    });

    it('Express answers what is not socket.io, and serves the client script through socket.io', async () => {
      const page = await fetch(`${served.base}/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('x-powered-by'), 'Express');
      const script = await fetch(`${served.base}/socket.io/socket.io.js`);
      assert.equal(script.status, 200);
      assert.match(script.headers.get('content-type'), /javascript/);
      assert.ok((await script.text()).length > 1000);
    });
  });
}
