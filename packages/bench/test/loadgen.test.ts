// The connection-per-request scenario through the embedded load generator, against a real
// node:http server on loopback that counts its connections: every request must arrive on a
// connection of its own, asking to close it, and every response must be counted. And the check
// that runs before the scenario is measured: the server must close after answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createAutocannon } from '../src/loadgen/autocannon.js';
import { builtInScenario } from '../src/scenarios.js';
import { closesAfterResponse } from '../src/server.js';

function netServer(onConnection: (socket: net.Socket) => void): net.Server {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => { sockets.add(socket); onConnection(socket); });
  server.on('close', () => { for (const socket of sockets) socket.destroy(); });
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void) => { for (const socket of sockets) socket.destroy(); return close(callback); };
  return server;
}

test('autocannon with the close scenario: one request per connection, each answered and counted', { timeout: 30_000 }, async (t) => {
  let connections = 0;
  let served = 0;
  let reused = 0;
  let withoutClose = 0;
  const perSocket = new WeakMap<net.Socket, number>();
  const server = http.createServer((request, response) => {
    const count = (perSocket.get(request.socket) ?? 0) + 1;
    perSocket.set(request.socket, count);
    if (count > 1) reused++;
    if (request.headers.connection !== 'close') withoutClose++;
    served++;
    response.end('Hello, world!');
  });
  // Bytes each connection carried, read when it closes: one request's worth, never two (a second
  // request written onto a connection the server is closing would be lost or reset).
  const bytesPerConnection = new Set<number>();
  server.on('connection', (socket: net.Socket) => {
    connections++;
    socket.on('close', () => { if (socket.bytesRead > 0) bytesPerConnection.add(socket.bytesRead); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const { port } = server.address() as net.AddressInfo;

  const scenario = builtInScenario('close');
  assert.equal(scenario.closesConnection, true);
  const result = await createAutocannon().run({
    origin: `http://127.0.0.1:${port}`, requests: scenario.requests, connections: 4, streams: 1, durationSec: 2, threads: 1, timeoutSec: 5,
  });

  assert.ok(result.requests > 50, `served ${result.requests} requests in two seconds`);
  // Each latency is its own request's. A request written onto a closing connection leaves a stale
  // entry in autocannon's queue, and every later response is timed from it: p50 then grows with
  // the run, to about a quarter of it (~500 ms here), where a hello answer takes a few ms.
  assert.ok(result.latencyMs.p50 < 250, `p50 ${result.latencyMs.p50} ms`);
  assert.equal(result.errors, 0, 'no resets, no timeouts');
  assert.equal(result.non2xx, 0);
  assert.equal(withoutClose, 0, 'every request asked to close');
  assert.equal(reused, 0, 'no connection carried a second request');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(bytesPerConnection.size, 1, `bytes read per connection: ${[...bytesPerConnection].join(', ')}`);
  assert.ok([...bytesPerConnection][0]! < 100, 'one short GET per connection');
  // Each counted response had its own connection; a few more may have been opened as the run ended.
  assert.ok(connections >= result.requests, `${connections} connections for ${result.requests} requests`);
  assert.ok(served >= result.requests && served <= result.requests + 4, `server answered ${served}, client counted ${result.requests}`);
});

test('before measuring the close scenario, a server that keeps the connection open is caught; one that closes passes', { timeout: 10_000 }, async (t) => {
  // Answers, but holds the connection open whatever the request asked.
  const holder = netServer((socket) => socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi')));
  const closer = http.createServer((_request, response) => response.end('hi'));
  for (const server of [holder, closer]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
  }
  t.after(() => closer.closeAllConnections());
  const port = (server: net.Server) => (server.address() as net.AddressInfo).port;
  assert.match((await closesAfterResponse(port(holder), '/', 300))!, /^kept the connection open 300 ms after answering a Connection: close request$/);
  assert.equal(await closesAfterResponse(port(closer), '/', 3000), null);
});
