// examples/websocket with the `ws` client: echo, the room's broadcast, and the --ws-max-message
// limit, which must reach every unit. The room is per app unit (a worker process, an app
// thread), so under the matrix of upgrade-engines.mjs (one unit, or several with --sticky, which
// puts the clients of one address on one unit) every member hears a broadcast, and without
// --sticky the test checks the sender's own copy only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ENGINES, serveForSuite } from './engines.mjs';
import { UPGRADE_ENGINES, UNSTICKY } from './upgrade-engines.mjs';

const APP = fileURLToPath(new URL('../websocket/', import.meta.url));

async function open(port, path) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  await once(ws, 'open');
  return ws;
}

const message = (ws) => once(ws, 'message').then(([data, binary]) => ({ text: String(data), binary }));

for (const [name, Engine, settings] of [...UPGRADE_ENGINES, UNSTICKY]) {
  const oneUnitPerClient = name === 'single' || settings.sticky;
  describe(`examples/websocket (${name})`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, settings);

    it('echoes text as text and binary as binary', async () => {
      const ws = await open(served.port, '/echo');
      ws.send('hi');
      assert.deepEqual(await message(ws), { text: 'hi', binary: false });
      ws.send(Buffer.from('bin'));
      assert.deepEqual(await message(ws), { text: 'bin', binary: true });
      ws.close();
    });

    it('broadcasts to the room (the sender too)', async () => {
      const a = await open(served.port, '/room');
      const b = await open(served.port, '/room');
      const heardByA = message(a);
      const heardByB = message(b);
      a.send('hello room');
      assert.equal((await heardByA).text, 'hello room');
      if (oneUnitPerClient) assert.equal((await heardByB).text, 'hello room', 'the other member, on the same unit, heard it');
      a.close();
      b.close();
    });

    it('refuses an upgrade to an unknown path with 404 and serves plain HTTP', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${served.port}/nope`);
      const [error] = await once(ws, 'error');
      assert.match(String(error), /404/);
      const response = await fetch(`${served.base}/`);
      assert.match(await response.text(), /^room: \d+ in process \d+/);
    });
  });
}

for (const [name, Engine] of ENGINES) {
  describe(`examples/websocket limits (${name})`, { timeout: 30_000 }, () => {
    const served = serveForSuite(APP, Engine, { wsMaxMessage: 1024, ...(name === 'prefork' || name === 'hybrid' ? { workers: 1 } : {}) });

    it('closes with 1009 a message over --ws-max-message, wherever the app runs', async () => {
      const ws = await open(served.port, '/echo');
      ws.send('x'.repeat(1024));
      assert.equal((await message(ws)).text.length, 1024, 'a message at the limit is echoed');
      const closed = once(ws, 'close');
      ws.send('x'.repeat(1025));
      const [code] = await closed;
      assert.equal(code, 1009);
    });
  });
}
