// Upgraded connections under the threaded engine: the app's takeover runs on its app thread
// over a bridge socket while the real socket stays on the main thread. The engine-neutral
// cases (echo with head bytes, resets, reload with 100 connections, graceful stop) are core's
// upgrade suite; here the ones that need `ws`, the app's memory, or the pool's own counts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { BroadcastChannel } from 'node:worker_threads';
import WebSocket from 'ws';
import { defaultSettings, type Settings } from '@gatehouse/core';
import { EchoClient, runUpgradeSuite } from '@gatehouse/core/testkit';
import { ThreadedEngine, ThreadedServer } from '../src/index.js';
import { fixture, startEngine, until } from './kit/index.js';

const APP = fixture('upgrade.mjs');

runUpgradeSuite('threaded', ThreadedEngine, { app: APP, settings: { threads: 2 } });

/** A ThreadedServer on 127.0.0.1:0, for tests that look at its pool. */
async function startServer(t: TestContext, overrides: Partial<Settings> = {}): Promise<{ server: ThreadedServer; port: number }> {
  const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], threads: 2, gracefulTimeout: 5, ...overrides };
  const server = new ThreadedServer({ settings, app: { kind: 'module', spec: APP } });
  const listener = net.createServer();
  server.attach(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  await server.start();
  t.after(() => server.close(false, 0));
  return { server, port: (listener.address() as net.AddressInfo).port };
}

function openWebSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
  return new Promise((resolve, reject) => { ws.once('open', () => resolve(ws)); ws.once('error', reject); });
}

const nextMessage = (ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> =>
  new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));

test('ws on an app thread: text and binary messages echo through the bridge, a 1 MB message whole; a graceful stop closes with 1001', async (t) => {
  const { engine, url } = await startEngine(t, { threads: 2, gracefulTimeout: 3 }, APP);
  const ws = await openWebSocket(url);
  let reply = nextMessage(ws);
  ws.send('hello');
  assert.equal((await reply).data.toString(), 'v1: hello');
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  reply = nextMessage(ws);
  ws.send(big);
  const echoed = await reply;
  assert.ok(echoed.isBinary);
  assert.ok(echoed.data.equals(big), 'the 1 MB binary message came back byte for byte');
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  await engine.stop({ graceful: true, timeout: 3 });
  assert.equal(await closed, 1001, 'the app\'s goingAway() closed the WebSocket with 1001');
});

test('open WebSockets hold no request slot: with one slot per thread, 6 open WebSockets leave plain requests served, and they spread over both threads', async (t) => {
  const { server, port } = await startServer(t, { threads: 2, threadConcurrency: 1 });
  const url = `http://127.0.0.1:${port}`;
  // One after another: each upgrade meets both threads idle, and the tie goes to the thread with fewer.
  const sockets: WebSocket[] = [];
  t.after(() => { for (const ws of sockets) ws.terminate(); });
  for (let i = 0; i < 6; i++) sockets.push(await openWebSocket(url));
  for (let i = 0; i < 4; i++) {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^plain v1/);
  }
  const perThread = server.units().map((u) => u.inFlight);
  assert.deepEqual(perThread, [3, 3], 'upgraded connections count in flight, spread evenly');
  assert.equal(server.pool.upgraded().tunnels, 6);
});

test('a client that stops reading while the app writes: the app\'s writes wait, bytes held stay bounded, and all of them arrive once it reads again', { timeout: 60_000 }, async (t) => {
  const { port } = await startServer(t, { threads: 2 });
  const limit = 48 * 1024 * 1024;
  const reports = new BroadcastChannel('gatehouse-test-flood');
  t.after(() => reports.close());
  let issued = 0;
  let done = false;
  let maxBridgeBuffered = 0;
  reports.onmessage = (event) => {
    const report = (event as MessageEvent).data as { issued: number; buffered: number; done: boolean };
    issued = Math.max(issued, report.issued);
    maxBridgeBuffered = Math.max(maxBridgeBuffered, report.buffered);
    done ||= report.done;
  };
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`GET /flood HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: flood\r\nx-limit: ${limit}\r\n\r\n`);
  let received = 0;
  socket.on('data', (chunk: Buffer) => { received += chunk.length; });
  await until(() => received > 0, 10_000, 'the 101');
  socket.pause(); // stops reading: the kernel buffers fill, then the server's
  await until(() => issued > 0, 10_000, 'the app to start writing');
  // Long enough for an unbounded writer to have issued everything many times over.
  let plateau = -1;
  await until(async () => {
    const before = issued;
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (issued === before) plateau = issued;
    return plateau >= 0;
  }, 20_000, 'the app\'s writes to stop advancing');
  const held = plateau - received;
  // What may be held between the app and this client: a window on each side of the thread
  // boundary, the socket's high-water mark, and the kernel's send and receive buffers.
  assert.ok(plateau < limit, `the app stopped at ${plateau} bytes instead of writing all ${limit}`);
  assert.ok(held < 12 * 1024 * 1024, `${held} bytes held between the app and the client`);
  assert.ok(maxBridgeBuffered <= 1024 * 1024, `the bridge socket buffered at most ${maxBridgeBuffered} bytes`);
  assert.ok(!done);
  socket.resume();
  await until(() => done && received >= limit + 0, 30_000, 'every byte to arrive once the client reads');
  assert.ok(received >= limit, `${received} bytes received`);
  socket.destroy();
});

test('resets and closes leave nothing behind: no tunnel on the main thread, no bridge socket on the app threads', { timeout: 30_000 }, async (t) => {
  const { server, port } = await startServer(t, { threads: 2, timeout: 1 });
  const url = `http://127.0.0.1:${port}`;
  const echoes = await Promise.all(Array.from({ length: 8 }, () => EchoClient.open(port, 'z'.repeat(1000))));
  const sockets = await Promise.all(Array.from({ length: 4 }, () => openWebSocket(url)));
  await until(() => server.pool.upgraded().bridges === 12, 10_000, 'the threads to report 12 bridge sockets');
  assert.equal(server.pool.upgraded().tunnels, 12);
  for (const [i, client] of echoes.entries()) {
    client.socket.write('w'.repeat(100_000));
    if (i % 2 === 0) client.socket.resetAndDestroy(); else client.socket.end();
  }
  sockets[0]!.close();
  sockets[1]!.terminate();
  (sockets[2] as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
  sockets[3]!.close(4000);
  await until(() => {
    const { tunnels, bridges } = server.pool.upgraded();
    return tunnels === 0 && bridges === 0;
  }, 10_000, 'every tunnel and bridge socket to be gone');
  assert.deepEqual(server.units().map((u) => u.inFlight), [0, 0]);
});
