/*
 * --limit-concurrency N: with N connections open, the next one gets a minimal 503 with
 * Connection: close and is closed, without reaching the app; once a connection closes, new
 * ones are served again. Over real sockets, under the in-loop server and the single engine,
 * and over TLS (the 503 is sent inside TLS).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type { Application } from '../src/gateway/types.js';
import { RawClient, parseResponses } from './kit/raw-client.js';
import { startServer } from './kit/server.js';
import { makeCertificate, writeCertificate } from './kit/certs.js';
import { until } from './kit/wait.js';

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

function counting(): { app: Application; calls: () => number } {
  let calls = 0;
  return { app: () => { calls++; return { status: 200, body: 'served' }; }, calls: () => calls };
}

describe('--limit-concurrency', { timeout: 30_000 }, () => {
  it('answers 503 + Connection: close past N open connections, then serves again when one closes', async (t) => {
    const { app, calls } = counting();
    const server = await startServer({ app, settings: { limitConcurrency: 2 } });
    t.after(() => server.close());
    const held = [await RawClient.connect(server.port), await RawClient.connect(server.port)];
    t.after(() => held.forEach((c) => c.destroy()));
    for (const client of held) {
      await client.write(GET);
      const [response] = await client.readResponses(1);
      assert.equal(response!.status, 200);
    }
    assert.equal(calls(), 2);

    const extra = await RawClient.connect(server.port);
    t.after(() => extra.destroy());
    await extra.write(GET);
    const [rejected] = await extra.readUntilClose();
    assert.equal(rejected!.status, 503);
    assert.equal(rejected!.reason, 'Service Unavailable');
    assert.equal(rejected!.header('connection'), 'close');
    assert.equal(rejected!.header('retry-after'), '1');
    assert.equal(rejected!.text(), 'Server is too busy\n');
    assert.equal(calls(), 2, 'the rejected request never reached the app');

    // The two held connections are still served.
    await held[0]!.write(GET);
    assert.equal((await held[0]!.readResponses(2))[1]!.status, 200);

    held[1]!.destroy();
    await until(() => server.stats()!.connections === 1, 5000, 'the server to count the closed connection');
    const next = await RawClient.connect(server.port);
    t.after(() => next.destroy());
    await next.write(GET);
    assert.equal((await next.readResponses(1))[0]!.status, 200);
  });

  it('applies per process under the single engine too', async (t) => {
    const { app } = counting();
    const server = await startServer({ app, engine: 'single', settings: { limitConcurrency: 1 } });
    t.after(() => server.close());
    const first = await RawClient.connect(server.port);
    t.after(() => first.destroy());
    await first.write(GET);
    assert.equal((await first.readResponses(1))[0]!.status, 200);
    const second = await RawClient.connect(server.port);
    t.after(() => second.destroy());
    await second.write(GET);
    assert.equal((await second.readUntilClose())[0]!.status, 503);
  });

  it('answers the 503 inside TLS', async (t) => {
    const certificate = makeCertificate();
    const files = writeCertificate(certificate);
    const { app } = counting();
    const server = await startServer({ app, settings: { limitConcurrency: 1, certfile: files.certfile, keyfile: files.keyfile } });
    t.after(() => server.close());
    const open = (): Promise<tls.TLSSocket> => new Promise((resolve, reject) => {
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', ca: certificate.cert, servername: 'localhost' }, () => resolve(socket));
      socket.on('error', reject);
    });
    const first = await open();
    t.after(() => first.destroy());
    await until(() => server.stats()!.connections === 1, 5000, 'the first TLS connection to be counted');
    const second = await open();
    const reply = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      second.on('data', (chunk: Buffer) => chunks.push(chunk));
      second.on('close', () => resolve(Buffer.concat(chunks)));
      second.write(GET);
    });
    const { responses } = parseResponses(reply);
    assert.equal(responses[0]!.status, 503);
  });
});
