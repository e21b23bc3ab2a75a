/*
 * Timeouts, client disconnects, backpressure and graceful drain. Timeouts are set to a few
 * hundred milliseconds; tests wait for events (a response, a close, an abort) rather than
 * sleeping, and never assert how fast something was.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startServer } from './kit/index.js';
import { GatehouseError, type GatewayRequest, type GatewayResponse } from '../src/index.js';

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

describe('connection: timeouts', { timeout: 30_000 }, () => {
  it('cuts off a client sending its head byte by byte (slowloris) with 408 and close', async (t) => {
    const server = await startServer({ app: () => ({ status: 200, body: 'never' }), settings: { headersTimeout: 0.3 } });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    const head = 'GET /slow HTTP/1.1\r\nHost: t\r\n' + 'X-Padding: ' + 'p'.repeat(200) + '\r\n\r\n';
    // 50 ms per byte: the whole head would take ~12 s; the server must not wait for it.
    void client.writeInPieces(head, 1, 50).catch(() => {});
    const responses = await client.readUntilClose({ timeoutMs: 5000 });
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.status, 408);
    assert.equal(responses[0]!.header('connection'), 'close');
  });

  it('closes an idle keep-alive connection silently after keepAlive', async (t) => {
    const server = await startServer({ app: () => ({ status: 200, body: 'ok' }), settings: { keepAlive: 0.3 } });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    await client.write(GET('/'));
    await client.readResponses(1);
    const after = client.received.length;
    await client.waitForClose(5000);
    assert.equal(client.received.length, after, 'nothing is written when an idle connection closes');
  });

  it('past the request deadline: 504, request.signal aborts, and the app\'s late answer is dropped', async (t) => {
    const seen = deferred<unknown>();
    const late = deferred();
    const server = await startServer({
      settings: { requestTimeout: 0.3 },
      app: async (request: GatewayRequest): Promise<GatewayResponse> => {
        seen.resolve(await aborted(request.signal));
        await new Promise((r) => setTimeout(r, 20));
        late.resolve();
        return { status: 200, body: 'too late' };
      },
    });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    await client.write(GET('/deadline'));
    const responses = await client.readUntilClose();
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.status, 504);
    assert.equal(responses[0]!.header('connection'), 'close');
    const reason = await seen.promise;
    assert.equal((reason as GatehouseError).code, 'ERR_HTTP_REQUEST_TIMEOUT');
    await late.promise;
    assert.doesNotMatch(client.receivedText, /too late/);
  });

  it('no body bytes for bodyTimeout while the app reads: the read rejects and the client gets 408', async (t) => {
    const readError = deferred<unknown>();
    const server = await startServer({
      settings: { bodyTimeout: 0.3 },
      app: async (request: GatewayRequest): Promise<GatewayResponse> => {
        try { await request.body.bytes(); } catch (error) { readError.resolve(error); throw error; }
        return { status: 200, body: 'complete' };
      },
    });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    await client.write('POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly some');
    const responses = await client.readUntilClose();
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.status, 408);
    assert.equal(((await readError.promise) as GatehouseError).code, 'ERR_HTTP_BODY_TIMEOUT');
  });

  it('aborts request.signal when the client goes away before the response', async (t) => {
    const started = deferred();
    const reason = deferred<unknown>();
    const server = await startServer({
      app: async (request: GatewayRequest): Promise<GatewayResponse> => {
        if (request.path !== '/wait') return { status: 200, body: 'still serving' };
        started.resolve();
        reason.resolve(await aborted(request.signal));
        return { status: 200, body: 'nobody listens' };
      },
    });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    await client.write(GET('/wait'));
    await started.promise;
    client.destroy();
    assert.equal(((await reason.promise) as GatehouseError).code, 'ERR_HTTP_CLIENT_GONE');
    // The server goes on.
    assert.equal((await fetch(server.url)).status, 200);
  });
});

describe('connection: backpressure', { timeout: 30_000 }, () => {
  it('stops reading an upload the app does not read: reading pauses and server-side bytes stay bounded', async (t) => {
    const release = deferred();
    const arrived = deferred();
    const server = await startServer({
      app: async (): Promise<GatewayResponse> => { arrived.resolve(); await release.promise; return { status: 200, body: 'done' }; },
    });
    t.after(() => server.close());
    const socketPromise = server.nextSocket();
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    const total = 64 * 1024 * 1024;
    await client.write(`POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n\r\n`);
    const serverSocket = await socketPromise;
    await arrived.promise;
    // Push 16 MiB (bounded), in 64 KiB writes, without waiting for each to flush.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 256; i++) client.socket.write(chunk);
    // Wait until the server has stopped reading (it must, long before 16 MiB).
    for (let i = 0; i < 200 && !serverSocket.isPaused(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(serverSocket.isPaused(), true, 'the server paused reading');
    await new Promise((r) => setTimeout(r, 100));
    const read = serverSocket.bytesRead;
    assert.ok(read < 1024 * 1024, `server read ${read} bytes of a 16 MiB upload nobody consumes`);
    assert.ok(client.socket.writableLength > 0, 'the rest waits on the client side');
    release.resolve();
    const responses = await client.readUntilClose();
    assert.equal(responses[0]!.status, 200);
    assert.equal(responses[0]!.header('connection'), 'close', 'too much unread body to drop: the connection closes');
  });

  it('waits for drain when a slow client does not read a streamed response', async (t) => {
    const highWaterMark = 64 * 1024; // ProtocolOptions.writeHighWaterMark from settings
    const chunkSize = 16 * 1024;
    const buffered: number[] = [];
    let serverSocket: import('node:net').Socket | null = null;
    const server = await startServer({
      app: (): GatewayResponse => ({
        status: 200,
        body: (async function* () {
          for (let i = 0; i < 1024; i++) { // 16 MiB at most
            buffered.push(serverSocket?.writableLength ?? 0);
            yield Buffer.alloc(chunkSize, 0x62);
          }
        })(),
      }),
    });
    t.after(() => server.close());
    const socketPromise = server.nextSocket();
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    serverSocket = await socketPromise;
    client.socket.pause(); // a client that does not read
    await client.write(GET('/big'));
    // Wait until the generator stops being pulled (the server is waiting for 'drain').
    let last = -1;
    for (let i = 0; i < 100 && buffered.length !== last; i++) { last = buffered.length; await new Promise((r) => setTimeout(r, 50)); }
    assert.ok(buffered.length < 1024, `the app was paused (${buffered.length} chunks pulled)`);
    const worst = Math.max(...buffered);
    assert.ok(worst <= highWaterMark + chunkSize + 64, `socket buffer stayed at ${worst} bytes, mark ${highWaterMark}`);
    client.socket.resume();
    const [response] = await client.readResponses(1, { timeoutMs: 20_000 });
    assert.equal(response!.body.length, 1024 * chunkSize);
  });
});

describe('connection: graceful drain', { timeout: 30_000 }, () => {
  it('closes idle connections after a short grace, finishes the in-flight request with Connection: close, then resolves', async (t) => {
    const release = deferred();
    const arrived = deferred();
    const server = await startServer({
      app: async (request: GatewayRequest): Promise<GatewayResponse> => {
        if (request.path === '/busy') { arrived.resolve(); await release.promise; }
        return { status: 200, body: `done ${request.path}` };
      },
    });
    t.after(() => server.close());
    const idle = await RawClient.connect(server.port);
    const busy = await RawClient.connect(server.port);
    t.after(() => { idle.destroy(); busy.destroy(); });
    await idle.write(GET('/idle'));
    await idle.readResponses(1);
    await busy.write(GET('/busy'));
    await arrived.promise;

    let drained = false;
    const draining = server.service!.drain(10_000).then(() => { drained = true; });
    await idle.waitForClose();
    assert.equal(busy.ended, false, 'the busy connection is still open');
    assert.equal(drained, false);
    release.resolve();
    const responses = await busy.readUntilClose();
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.text(), 'done /busy');
    assert.equal(responses[0]!.header('connection'), 'close');
    await draining;
    assert.equal(server.stats()!.connections, 0);
  });

  it('still answers, with Connection: close, a request that arrives on an idle connection just after the drain began', async (t) => {
    const server = await startServer({ app: (request: GatewayRequest): GatewayResponse => ({ status: 200, body: `done ${request.path}` }) });
    t.after(() => server.close());
    const kept = await RawClient.connect(server.port);
    const fresh = await RawClient.connect(server.port);
    t.after(() => { kept.destroy(); fresh.destroy(); });
    await kept.write(GET('/first'));
    await kept.readResponses(1);
    while (server.stats()!.connections < 2) await new Promise((r) => setTimeout(r, 5));

    const draining = server.service!.drain(10_000);
    // The keep-alive client's next request and a fresh connection's first request were
    // already on their way when the drain began: neither may be lost.
    await kept.write(GET('/second'));
    await fresh.write(GET('/fresh'));
    const keptResponses = await kept.readUntilClose();
    const freshResponses = await fresh.readUntilClose();
    assert.equal(keptResponses.length, 2);
    assert.equal(keptResponses[1]!.text(), 'done /second');
    assert.equal(keptResponses[1]!.header('connection'), 'close');
    assert.equal(freshResponses.length, 1);
    assert.equal(freshResponses[0]!.text(), 'done /fresh');
    assert.equal(freshResponses[0]!.header('connection'), 'close');
    await draining;
    assert.equal(server.stats()!.connections, 0);
  });

  it('destroys what is still busy when the drain timeout passes', async (t) => {
    const server = await startServer({ app: () => new Promise<GatewayResponse>(() => { /* never answers */ }) });
    t.after(() => server.close());
    const client = await RawClient.connect(server.port);
    t.after(() => client.destroy());
    await client.write(GET('/forever'));
    while (server.stats()!.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    await server.service!.drain(200);
    await client.waitForClose();
    assert.equal(client.responses().length, 0);
  });
});
