/*
 * The takeover seam (gateway/takeover.ts): a response carrying TAKEOVER gets the socket with
 * the bytes read past the request head, the server writes nothing of its own, the connection
 * stays counted (stats, --limit-concurrency) until it closes, and a graceful drain ends it
 * through goingAway() before its timeout. A takeover for a request that asked for no upgrade
 * is an invalid response (500), and an ordinary response to an upgrade request refuses it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { Application } from '../src/gateway/types.js';
import { takeoverResponse, requestedUpgrade } from '../src/gateway/takeover.js';
import { HeaderList } from '../src/gateway/headers.js';
import { startServer } from './kit/server.js';
import { until } from './kit/wait.js';

const UPGRADE = 'GET /echo HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: echo/1, other\r\n\r\n';

/** Accepts any upgrade: writes its own 101, then echoes; goingAway() writes 'bye' and ends. */
function echoApp(seen: { goingAway: number }): Application {
  return (request) => {
    if (requestedUpgrade(request) === null) return { status: 200, body: 'plain' };
    return takeoverResponse(101, (socket, head) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
      socket.on('end', () => socket.end());
      return { goingAway: () => { seen.goingAway++; socket.end('bye'); } };
    });
  };
}

function collect(socket: net.Socket): { text: () => string } {
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => { text += chunk; });
  return { text: () => text };
}

describe('takeover seam', { timeout: 30_000 }, () => {
  it('reads the protocol a request asks for', () => {
    const ask = (method: string, httpVersion: '1.0' | '1.1' | '2.0', raw: string[]) => requestedUpgrade({ method, httpVersion, headers: new HeaderList(raw) });
    assert.equal(ask('GET', '1.1', ['connection', 'Upgrade', 'upgrade', 'WebSocket']), 'websocket');
    assert.equal(ask('GET', '1.1', ['connection', 'keep-alive, upgrade', 'upgrade', 'h2c/1.0, foo']), 'h2c');
    assert.equal(ask('GET', '1.1', ['upgrade', 'websocket']), null, 'Upgrade without Connection: upgrade is ignored');
    assert.equal(ask('GET', '1.0', ['connection', 'upgrade', 'upgrade', 'websocket']), null, 'HTTP/1.0 never switches');
    assert.equal(ask('CONNECT', '1.1', []), 'connect');
    assert.equal(ask('CONNECT', '2.0', []), null);
  });

  it('hands over the socket with the bytes that came with the head, counted until it closes', async (t) => {
    const seen = { goingAway: 0 };
    const server = await startServer({ app: echoApp(seen) });
    t.after(() => server.close());
    const client = net.connect(server.port, '127.0.0.1');
    t.after(() => client.destroy());
    const got = collect(client);
    await once(client, 'connect');
    client.write(UPGRADE + 'early');
    await until(() => got.text().endsWith('early'), 5000, 'the 101 and the early bytes echoed');
    assert.match(got.text(), /^HTTP\/1\.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly$/, 'nothing of the server before the takeover\'s own 101');
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => got.text().endsWith('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 5000, 'HTTP-looking bytes echoed, not parsed');
    assert.deepEqual({ ...server.stats()!, requests: undefined }, { connections: 1, inFlight: 0, upgraded: 1, requests: undefined });
    client.end();
    await until(() => server.stats()!.connections === 0, 5000, 'the upgraded connection to be forgotten on close');
    assert.equal(server.stats()!.upgraded, 0);
  });

  it('refuses the upgrade with an ordinary response, and serves HTTP on', async (t) => {
    const server = await startServer({ app: () => ({ status: 403, body: 'no' }) });
    t.after(() => server.close());
    const client = net.connect(server.port, '127.0.0.1');
    t.after(() => client.destroy());
    const got = collect(client);
    await once(client, 'connect');
    client.write(UPGRADE + 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => (got.text().match(/HTTP\/1\.1 403/g) ?? []).length === 2, 5000, 'both requests answered 403');
    assert.equal(server.stats()!.upgraded, 0);
  });

  it('answers 500 to a takeover for a request that asked for no upgrade', async (t) => {
    const server = await startServer({ app: () => takeoverResponse(101, (socket) => { socket.end('taken'); }) });
    t.after(() => server.close());
    const response = await fetch(server.url);
    assert.equal(response.status, 500);
    assert.equal(server.stats()!.upgraded, 0);
  });

  it('a graceful drain keeps the upgraded connection, then ends it through goingAway() before the timeout', async (t) => {
    const seen = { goingAway: 0 };
    const server = await startServer({ app: echoApp(seen) });
    t.after(() => server.close());
    const client = net.connect(server.port, '127.0.0.1');
    t.after(() => client.destroy());
    const got = collect(client);
    await once(client, 'connect');
    client.write(UPGRADE);
    await until(() => got.text().includes('101'), 5000, 'the 101');
    const started = Date.now();
    const drained = server.service!.drain(2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.write('still here');
    await until(() => got.text().endsWith('still here'), 5000, 'echo during the drain');
    assert.equal(seen.goingAway, 0, 'not told to go away while the timeout is far');
    const closed = once(client, 'close');
    await until(() => seen.goingAway === 1, 5000, 'goingAway() before the timeout');
    assert.ok(Date.now() - started < 2000, 'goingAway() came before the drain timeout');
    client.end();
    await closed;
    assert.ok(got.text().endsWith('bye'), 'the takeover ended it its own way');
    await drained;
    assert.ok(Date.now() - started < 2000 + 1000, 'the drain finished once the connection closed');
  });

  it('an upgraded connection counts against --limit-concurrency until it closes', async (t) => {
    const seen = { goingAway: 0 };
    const server = await startServer({ app: echoApp(seen), settings: { limitConcurrency: 1 } });
    t.after(() => server.close());
    const upgraded = net.connect(server.port, '127.0.0.1');
    t.after(() => upgraded.destroy());
    const got = collect(upgraded);
    await once(upgraded, 'connect');
    upgraded.write(UPGRADE);
    await until(() => got.text().includes('101'), 5000, 'the 101');
    const refused = await fetch(server.url).then((r) => r.status, () => 0);
    assert.equal(refused, 503, 'the open upgraded connection holds the one slot');
    upgraded.end();
    await until(() => server.stats()!.connections === 0, 5000, 'the upgraded connection to close');
    assert.equal((await fetch(server.url)).status, 200);
  });
});
