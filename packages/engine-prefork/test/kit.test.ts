/*
 * The load helper's own promise: it retries only what a closed idle keep-alive connection
 * explains, and counts anything else on a reused connection as a failure. A raw server that
 * answers a connection's first request well and its second with a malformed response.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startLoad, until } from './kit/index.js';

describe('startLoad', () => {
  it('counts a malformed answer on a reused connection as a failure, not a retry', { timeout: 10_000 }, async (t) => {
    const server = net.createServer((socket) => {
      let served = 0;
      socket.on('data', () => {
        served++;
        const body = JSON.stringify({ version: 'v1', pid: 1, requests: served });
        socket.write(served === 1
          ? `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
          : 'HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const load = startLoad(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, { concurrency: 1, maxRequests: 4, maxMs: 5000 });
    await until(() => load.result.answers.length + load.result.failures.length >= 4, 5000, 'four outcomes');
    const result = await load.stop();
    assert.equal(result.retried, 0);
    assert.ok(result.failures.length >= 1, `failures: ${JSON.stringify(result.failures)}`);
    assert.ok(result.failures.every((f) => f.error.startsWith('HPE_')), JSON.stringify(result.failures));
  });
});
