// examples/node/socketio-chat.js (socket.io attached to an exported http.Server that also
// serves Express) with socket.io-client's default transports: the session opens with HTTP
// long-polling (engine.io's request listener) and upgrades to WebSocket (its 'upgrade'
// listener). Polling needs every request of a session on the unit that holds it, so several
// units need --sticky: the matrix runs each engine that way, with clients from two loopback
// addresses (each address is one unit, so clients of one address hear each other's
// broadcasts). Without --sticky, under prefork with two workers, a session's requests that
// reach the other worker are refused as the docs say, and the remedies they name work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { serveForSuite } from './engines.mjs';
import { UPGRADE_ENGINES, UNSTICKY } from './upgrade-engines.mjs';

const APP = fileURLToPath(new URL('../node/socketio-chat.js', import.meta.url));
const ENGINES_DOC = readFileSync(new URL('../../docs/engines.md', import.meta.url), 'utf8');

/**
 * A socket.io client from `localAddress` (its polls go through an agent bound to it, its
 * WebSocket too), collecting the 'welcome' the server sends on connection.
 */
function connect(base, { localAddress = '127.0.0.1', ...options } = {}) {
  const agent = new http.Agent({ keepAlive: true, localAddress });
  const client = io(base, { reconnection: false, forceNew: true, timeout: 10_000, agent, ...options });
  client.welcome = once(client, 'welcome').then(([welcome]) => welcome);
  client.on('disconnect', () => agent.destroy());
  return client;
}

/** Connects with the default transports and waits until the session runs over WebSocket. */
async function connectAndUpgrade(base, localAddress) {
  const client = connect(base, { localAddress });
  // The manager opens its engine at once: the first transport, and the upgrade to come.
  const engine = client.io.engine;
  client.firstTransport = engine.transport.name;
  const upgraded = once(engine, 'upgrade');
  await once(client, 'connect');
  client.upgradedTo = (await upgraded)[0].name;
  return client;
}

/** Resolves once `client` gets the chat message `text` (a unit shared by both groups sends it the other's too). */
const hears = (client, text) => new Promise((resolve) => {
  const listener = (message) => { if (message === text) { client.off('chat', listener); resolve(); } };
  client.on('chat', listener);
});

const GROUPS = { '127.0.0.1': 3, '127.0.0.2': 2 };

for (const [label, Engine, settings] of UPGRADE_ENGINES) {
  describe(`examples/node/socketio-chat.js under ${label}`, { timeout: 60_000 }, () => {
    const served = serveForSuite(APP, Engine, { ...settings, gracefulTimeout: 2 });

    it('clients connect over polling, upgrade to WebSocket, and hear the broadcasts of their unit', async () => {
      const groups = {};
      for (const [address, size] of Object.entries(GROUPS)) {
        groups[address] = [];
        for (let i = 0; i < size; i++) groups[address].push(await connectAndUpgrade(served.base, address));
      }
      const clients = Object.values(groups).flat();
      try {
        for (const client of clients) {
          assert.equal(client.firstTransport, 'polling');
          assert.equal(client.upgradedTo, 'websocket');
          assert.equal(client.io.engine.transport.name, 'websocket');
          assert.deepEqual(await client.welcome, { transport: 'polling' }, 'the server spoke first, over polling');
        }
        for (const [address, members] of Object.entries(groups)) {
          const text = `hello over websocket from ${address}`;
          const heard = Promise.all(members.map((member) => hears(member, text)));
          members[0].emit('chat', text);
          await heard;
        }
      } finally {
        for (const client of clients) client.disconnect();
      }
    });

    it('a session that stays on polling works too', async () => {
      const client = connect(served.base, { transports: ['polling'] });
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

/** One HTTP/1.1 request on a connection of its own (closed after), resolving { status, body }. */
function request(base, path, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent: false, headers: { connection: 'close', 'content-type': 'text/plain;charset=UTF-8' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const [unstickyLabel, UnstickyEngine, unstickySettings] = UNSTICKY;
describe(`examples/node/socketio-chat.js under ${unstickyLabel} (no --sticky)`, { timeout: 60_000 }, () => {
  const served = serveForSuite(APP, UnstickyEngine, { ...unstickySettings, gracefulTimeout: 2 });

  it('a polling session\'s request that reaches the other worker gets 400 "Session ID unknown"', async () => {
    // engine.io's protocol by hand, each request on a new connection, so the kernel (or the
    // master) picks a worker for each: a handshake opens a session in one worker, and the
    // socket.io CONNECT packet posted to it is accepted ("ok") only by that worker.
    const outcomes = { ok: 0, refused: [] };
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; attempt < 100 && Date.now() < deadline && !(outcomes.refused.length > 0 && outcomes.ok > 0); attempt++) {
      const handshake = await request(served.base, '/socket.io/?EIO=4&transport=polling');
      assert.equal(handshake.status, 200, handshake.body);
      const { sid } = JSON.parse(handshake.body.slice(1));
      const posted = await request(served.base, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '40' });
      if (posted.status === 200) {
        assert.equal(posted.body, 'ok');
        outcomes.ok++;
      } else {
        outcomes.refused.push(posted);
      }
    }
    assert.ok(outcomes.refused.length > 0, `no request reached the other worker in ${outcomes.ok} sessions`);
    for (const refused of outcomes.refused) {
      assert.equal(refused.status, 400);
      assert.deepEqual(JSON.parse(refused.body), { code: 1, message: 'Session ID unknown' });
    }
  });

  it('the docs name the remedies: --sticky, or the WebSocket transport only', () => {
    const section = ENGINES_DOC.slice(ENGINES_DOC.indexOf('## Sticky sessions'));
    assert.match(section, /answers 400 "Session ID unknown"/);
    assert.match(section, /`--sticky`/);
    assert.match(section, /transports: \['websocket'\]/);
    assert.match(readFileSync(APP, 'utf8'), /--sticky[\s\S]*transports: \['websocket'\]/, 'the example says both too');
  });

  it("with transports: ['websocket'] clients connect without polling and messages flow both ways", async () => {
    const clients = [];
    try {
      for (let i = 0; i < 4; i++) {
        const client = connect(served.base, { transports: ['websocket'] });
        clients.push(client);
        await once(client, 'connect');
        assert.equal(client.io.engine.transport.name, 'websocket');
        assert.deepEqual(await client.welcome, { transport: 'websocket' });
      }
      // Each worker holds its own room: a client is sure to hear only its own broadcast.
      for (const [i, client] of clients.entries()) {
        const heard = hears(client, `from client ${i}`);
        client.emit('chat', `from client ${i}`);
        await heard;
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  });
});
