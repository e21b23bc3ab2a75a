/*
 * Upgrades on the connection's own loop (the code path of single and of every prefork worker):
 * request.upgrade.acceptWebSocket with the `ws` client, acceptStream and CONNECT over raw
 * sockets, the --ws-* limits, hostile handshakes and frames, and the drain's close 1001.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once, type EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { startServer, until } from './kit/index.js';
import { checkRequest, checkResponse } from '../src/gateway/validator.js';
import { AbortableRequest } from '../src/gateway/request.js';
import type { Application, GatewayWebSocket } from '../src/gateway/types.js';
import { GatehouseError } from '../src/errors/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Echo on /echo (a 'welcome' sent before open first), refusal elsewhere. */
const echoApp: Application = (request) => {
  const offer = request.upgrade;
  if (offer?.protocol !== 'websocket' || request.path !== '/echo') return { status: 403, body: 'no\n' };
  const offered = request.headers.get('sec-websocket-protocol');
  const { socket, response } = offer.acceptWebSocket({ protocol: offered ? 'second' : undefined, headers: [['x-room', 'lobby']] });
  socket.send('welcome');
  void (async () => { for await (const message of socket) socket.send(message); })();
  return response;
};

function client(port: number, path = '/echo', protocols?: string[]): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })));
}

function closedWith(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

/** A raw socket and everything it has received. */
async function rawConnect(port: number): Promise<{ socket: net.Socket; received: () => Buffer; ended: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), ended };
}

function handshake(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: ${KEY}\r\n${extra}\r\n`;
}

/** A client frame (FIN set), masked unless told otherwise (RFC 6455 §5.2). */
function frame(opcode: number, payload: Buffer, masked = true): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = masked ? Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!)) : payload;
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | length])
    : Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | 126, length >> 8, length & 0xff]);
  return Buffer.concat([head, masked ? mask : Buffer.alloc(0), body]);
}

/** The close code of the first server frame after the 101, or null if there is none. */
function serverCloseCode(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  const start = text.indexOf('\r\n\r\n') + 4;
  let at = start;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) { length = bytes.readUInt16BE(offset); offset += 2; }
    if (opcode === 8) return bytes.readUInt16BE(offset);
    at = offset + length;
  }
  return null;
}

describe('WebSocket: accepting and talking', { timeout: 30_000 }, () => {
  for (const engine of ['in-loop', 'single'] as const) {
    it(`echoes text as text and binary as binary, selects the subprotocol, sends extra headers (${engine})`, async (t) => {
      const server = await startServer({ app: echoApp, engine });
      t.after(() => server.close());
      const ws = client(server.port, '/echo', ['first', 'second']);
      const upgrade = new Promise<Record<string, string | string[] | undefined>>((resolve) => ws.once('upgrade', (response) => resolve(response.headers)));
      const welcome = nextMessage(ws);
      await once(ws, 'open');
      assert.equal(ws.protocol, 'second');
      assert.equal((await upgrade)['x-room'], 'lobby');
      assert.deepEqual(await welcome, { data: Buffer.from('welcome'), binary: false });
      ws.send('héllo');
      assert.deepEqual(await nextMessage(ws), { data: Buffer.from('héllo'), binary: false });
      ws.send(Buffer.from([0, 1, 255]));
      assert.deepEqual(await nextMessage(ws), { data: Buffer.from([0, 1, 255]), binary: true });
      ws.close();
      await once(ws, 'close');
    });
  }

  it('carries close codes and reasons both ways', async (t) => {
    let serverSide: GatewayWebSocket | null = null;
    const server = await startServer({
      app: (request) => {
        const { socket, response } = request.upgrade!.acceptWebSocket();
        serverSide = socket;
        socket.on('message', (message) => { if (message === 'close me') socket.close(4002, 'as asked'); });
        return response;
      },
    });
    t.after(() => server.close());
    const first = client(server.port, '/');
    await once(first, 'open');
    const firstServerSide = serverSide!;
    first.close(4001, 'client done');
    assert.deepEqual(await firstServerSide.closed, { code: 4001, reason: 'client done' });
    assert.equal(firstServerSide.readyState, 3);

    const second = client(server.port, '/');
    await once(second, 'open');
    const closed = closedWith(second);
    second.send('close me');
    assert.deepEqual(await closed, { code: 4002, reason: 'as asked' });
    await until(() => server.stats()!.upgraded === 0, 5000, 'upgraded connections uncounted on close');
  });

  it('answers pings, sends keep-alive pings, and ends a peer that never pongs (--ws-ping-interval, --ws-pong-timeout)', async (t) => {
    const closes: Array<{ code: number; reason: string }> = [];
    const server = await startServer({
      app: (request) => {
        const { socket, response } = request.upgrade!.acceptWebSocket();
        void socket.closed.then((info) => closes.push(info));
        return response;
      },
      settings: { wsPingInterval: 0.2, wsPongTimeout: 0.3 },
    });
    t.after(() => server.close());
    const ws = client(server.port, '/');
    await once(ws, 'open');
    const pong = once(ws, 'pong');
    ws.ping(Buffer.from('p'));
    assert.equal(String((await pong)[0]), 'p');
    await once(ws, 'ping'); // the server's keep-alive ping; ws answers it
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(ws.readyState, WebSocket.OPEN, 'a peer that pongs stays open');
    ws.close();

    // A raw peer that completes the handshake and never answers a ping.
    const raw = await rawConnect(server.port);
    raw.socket.write(handshake('/'));
    await raw.ended;
    assert.match(raw.received().toString('latin1'), /^HTTP\/1\.1 101 /);
    await until(() => closes.some((info) => info.code === 1006 && /pong/.test(info.reason)), 5000, 'the app sees 1006 for the silent peer');
  });

  it('closes an idle socket with 1001 (--ws-idle-timeout)', async (t) => {
    const server = await startServer({ app: echoApp, settings: { wsIdleTimeout: 0.3 } });
    t.after(() => server.close());
    const ws = client(server.port);
    const closed = closedWith(ws);
    await once(ws, 'open');
    assert.deepEqual(await closed, { code: 1001, reason: 'idle timeout' });
  });

  it('a refused upgrade is an ordinary response and the connection goes on as HTTP', async (t) => {
    const server = await startServer({ app: echoApp });
    t.after(() => server.close());
    const raw = await rawConnect(server.port);
    raw.socket.write(handshake('/elsewhere') + 'GET /again HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => (raw.received().toString().match(/HTTP\/1\.1 403/g) ?? []).length === 2, 5000, 'two 403s');
    assert.doesNotMatch(raw.received().toString(), /101/);
    raw.socket.destroy();
    const ws = client(server.port, '/elsewhere');
    const error = await once(ws, 'error');
    assert.match(String(error[0]), /403/);
  });

  it('an app that picks a subprotocol the client did not offer gets ERR_APP_BAD_UPGRADE (500)', async (t) => {
    const server = await startServer({ app: (request) => request.upgrade!.acceptWebSocket({ protocol: 'nope' }).response });
    t.after(() => server.close());
    const ws = client(server.port, '/', ['chat']);
    const error = await once(ws, 'error');
    assert.match(String(error[0]), /500/);
  });
});

describe('WebSocket: hostile clients', { timeout: 30_000 }, () => {
  for (const [what, extra, headerless] of [
    ['a missing Sec-WebSocket-Key', '', 'sec-websocket-key'],
    ['a bad Sec-WebSocket-Key', '', 'bad-key'],
    ['a bad Sec-WebSocket-Version', '', 'version'],
  ] as const) {
    it(`${what}: 400 and nothing else on the connection; the app's socket closes 1002`, async (t) => {
      const closes: Array<{ code: number }> = [];
      const server = await startServer({
        app: (request) => {
          const { socket, response } = request.upgrade!.acceptWebSocket();
          void socket.closed.then((info) => closes.push(info));
          return response;
        },
      });
      t.after(() => server.close());
      let head = handshake('/', extra);
      if (headerless === 'sec-websocket-key') head = head.replace(/sec-websocket-key: .*\r\n/, '');
      if (headerless === 'bad-key') head = head.replace(KEY, 'short');
      if (headerless === 'version') head = head.replace('sec-websocket-version: 13', 'sec-websocket-version: 12');
      const raw = await rawConnect(server.port);
      raw.socket.write(head + 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      await raw.ended;
      const text = raw.received().toString('latin1');
      assert.match(text, /^HTTP\/1\.1 400 /);
      assert.equal(text.match(/HTTP\/1\.1/g)!.length, 1, `one response only: ${JSON.stringify(text)}`);
      await until(() => closes.length === 1, 5000, 'the app socket closes');
      assert.equal(closes[0]!.code, 1002);
      await until(() => server.stats()!.connections === 0, 5000, 'the connection is gone');
    });
  }

  it('an unmasked client frame closes with 1002', async (t) => {
    const server = await startServer({ app: echoApp });
    t.after(() => server.close());
    const raw = await rawConnect(server.port);
    raw.socket.write(handshake('/echo'));
    raw.socket.write(frame(1, Buffer.from('hi'), false));
    await raw.ended;
    assert.equal(serverCloseCode(raw.received()), 1002);
  });

  it('a masked frame is echoed over the same raw connection (the frame helper speaks the protocol)', async (t) => {
    const server = await startServer({ app: echoApp });
    t.after(() => server.close());
    const raw = await rawConnect(server.port);
    raw.socket.write(handshake('/echo'));
    raw.socket.write(frame(1, Buffer.from('ping me')));
    await until(() => raw.received().includes('ping me'), 5000, 'the echo');
    raw.socket.destroy();
  });

  it('a message over --ws-max-message closes with 1009', async (t) => {
    const server = await startServer({ app: echoApp, settings: { wsMaxMessage: 1024 } });
    t.after(() => server.close());
    const ws = client(server.port);
    const welcome = nextMessage(ws);
    await once(ws, 'open');
    assert.equal(String((await welcome).data), 'welcome');
    ws.send('x'.repeat(1024));
    assert.equal((await nextMessage(ws)).data.length, 1024);
    const closed = closedWith(ws);
    ws.send('x'.repeat(1025));
    assert.equal((await closed).code, 1009);
  });

  it('a client that stops reading: the server buffers at most --ws-max-buffered, then ends the socket', async (t) => {
    const cap = 256 * 1024;
    const chunk = new Uint8Array(16 * 1024);
    let most = 0;
    let sent = 0;
    const outcome = new Promise<{ code: number; reason: string }>((resolve) => {
      void startServer({
        app: (request) => {
          const { socket, response } = request.upgrade!.acceptWebSocket();
          // A careless app: sends without ever waiting for drained().
          socket.on('open', () => {
            const deadline = Date.now() + 10_000;
            const pump = (): void => {
              if (socket.readyState !== 1 || Date.now() > deadline) return;
              for (let i = 0; i < 8; i++) { socket.send(chunk); sent += chunk.length; most = Math.max(most, socket.bufferedAmount); }
              setImmediate(pump);
            };
            pump();
          });
          void socket.closed.then(resolve);
          return response;
        },
        settings: { wsMaxBuffered: cap },
      }).then((server) => {
        t.after(() => server.close());
        void rawConnect(server.port).then((raw) => {
          raw.socket.pause(); // never reads
          raw.socket.write(handshake('/'));
          t.after(() => raw.socket.destroy());
        });
      });
    });
    const closed = await outcome;
    assert.equal(closed.code, 1006);
    assert.match(closed.reason, /not reading/);
    assert.ok(most <= cap + chunk.length, `bufferedAmount peaked at ${most}, cap ${cap}`);
    assert.ok(sent > cap, `the app sent ${sent} bytes`);
  });
});

describe('WebSocket: drained()', { timeout: 30_000 }, () => {
  it('an app that awaits drained() after every send holds no listeners for it once each resolves', async (t) => {
    const server = await startServer({
      app: (request) => {
        const { socket, response } = request.upgrade!.acceptWebSocket();
        void (async () => {
          for await (const message of socket) {
            socket.send(message);
            await socket.drained();
          }
        })();
        // Asked over the socket after the echoes: what the waits left registered.
        socket.on('message', (message) => {
          const emitter = socket as unknown as EventEmitter;
          if (message === 'count') socket.send(JSON.stringify({ close: emitter.listenerCount('close'), open: emitter.listenerCount('open') }));
        });
        return response;
      },
    });
    t.after(() => server.close());
    const ws = client(server.port, '/');
    await once(ws, 'open');
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    /** Asks for the listener counts; resolves with the answer once it and `echoes` echoes are in. */
    const counts = async (echoes: number): Promise<unknown> => {
      ws.send('count');
      await until(() => messages.length >= echoes + 2, 10_000, 'the echoes and the count');
      const answer = messages.find((m) => m.startsWith('{'))!;
      messages.length = 0;
      return JSON.parse(answer);
    };
    const baseline = await counts(0);
    for (let i = 0; i < 50; i++) ws.send(`m${i}`);
    assert.deepEqual(await counts(50), baseline, '50 awaited drains left no listener behind');
    ws.close();
    await once(ws, 'close');
  });
});

describe('WebSocket: reading only as fast as the app iterates', { timeout: 30_000 }, () => {
  it('an app that stops pulling stops the socket (the client\'s sends back up), and gets every message in order once it pulls again', async (t) => {
    let pull!: () => void;
    const pulling = new Promise<void>((resolve) => { pull = resolve; });
    const received: number[] = [];
    const server = await startServer({
      app: (request) => {
        const { socket, response } = request.upgrade!.acceptWebSocket();
        void (async () => {
          for await (const message of socket) {
            received.push((message as Uint8Array)[0]! | ((message as Uint8Array)[1]! << 8));
            if (received.length === 1) await pulling; // the app waited for the first, then stalls
            if (received.length === COUNT) socket.send('all');
          }
        })();
        return response;
      },
    });
    t.after(() => server.close());
    const COUNT = 400;
    const ws = client(server.port, '/');
    await once(ws, 'open');
    const message = Buffer.alloc(64 * 1024);
    for (let i = 0; i < COUNT; i++) { message.writeUInt16LE(i, 0); ws.send(Buffer.from(message)); }
    // 25 MiB sent: more than the loopback socket buffers of both ends hold.
    await until(() => received.length === 1, 10_000, 'the first message');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(received.length, 1, 'nothing more reached the app while it did not pull');
    assert.ok(ws.bufferedAmount > 0, 'the server stopped reading, so the client could not send it all');
    const all = nextMessage(ws);
    pull();
    assert.equal((await all).data.toString(), 'all');
    assert.deepEqual(received, Array.from({ length: COUNT }, (_, i) => i));
    ws.close();
    await once(ws, 'close');
  });
});

describe('acceptStream: other upgrades and CONNECT', { timeout: 30_000 }, () => {
  const streamApp: Application = (request) => {
    const offer = request.upgrade;
    if (offer === null || offer === undefined || offer.protocol === 'websocket') return { status: 400 };
    const { stream, response } = offer.acceptStream({ headers: { 'x-tunnel': offer.protocol } });
    void (async () => {
      for await (const chunk of stream) await stream.write(Buffer.concat([Buffer.from('echo:'), chunk]));
      await stream.end();
    })();
    return response;
  };

  it('101 with Upgrade and Connection, then bytes both ways (the bytes sent with the head included)', async (t) => {
    const server = await startServer({ app: streamApp });
    t.after(() => server.close());
    const raw = await rawConnect(server.port);
    raw.socket.write('GET / HTTP/1.1\r\nhost: x\r\nupgrade: Foo/2, bar\r\nconnection: upgrade\r\n\r\nearly');
    await until(() => raw.received().includes('echo:early'), 5000, 'the early bytes echoed');
    const text = raw.received().toString('latin1');
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /\r\nconnection: upgrade\r\n/i);
    assert.match(text, /\r\nupgrade: Foo\/2\r\n/);
    assert.match(text, /\r\nx-tunnel: foo\r\n/);
    assert.doesNotMatch(text.slice(0, text.indexOf('\r\n\r\n')), /content-length|transfer-encoding/i);
    raw.socket.write('more');
    await until(() => raw.received().includes('echo:more'), 5000, 'the next bytes echoed');
    assert.equal(server.stats()!.upgraded, 1);
    raw.socket.end();
    await raw.ended;
    await until(() => server.stats()!.upgraded === 0, 5000, 'uncounted');
  });

  it('CONNECT gets 200 with no framing fields, then a tunnel', async (t) => {
    const server = await startServer({ app: streamApp });
    t.after(() => server.close());
    const raw = await rawConnect(server.port);
    raw.socket.write('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
    await until(() => raw.received().includes('\r\n\r\n'), 5000, 'the head');
    const text = raw.received().toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(text, /content-length|transfer-encoding|connection: close/i);
    raw.socket.write('tls bytes');
    await until(() => raw.received().includes('echo:tls bytes'), 5000, 'tunnelled bytes echoed');
    raw.socket.destroy();
  });
});

describe('upgraded connections and the drain', { timeout: 30_000 }, () => {
  it('a graceful stop closes open WebSockets with 1001 before its timeout, and they are counted meanwhile', async (t) => {
    const server = await startServer({ app: echoApp });
    t.after(() => server.close());
    const sockets = await Promise.all(Array.from({ length: 20 }, async () => {
      const ws = client(server.port);
      const closed = closedWith(ws);
      await once(ws, 'open');
      return { ws, closed };
    }));
    assert.equal(server.stats()!.upgraded, 20);
    const started = Date.now();
    const stopped = server.close({ graceful: true, timeoutSeconds: 3 });
    for (const { closed } of sockets) assert.equal((await closed).code, 1001);
    await stopped;
    assert.ok(Date.now() - started < 3000, `closed within the graceful timeout (${Date.now() - started} ms)`);
  });
});

describe('validate() and 1.1', () => {
  const request = (rawHeaders: string[]): AbortableRequest =>
    new AbortableRequest('GET', '/', '/', '', '1.1', rawHeaders, 'http', { address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, null);
  const asking = (): AbortableRequest => request(['host', 'x', 'upgrade', 'websocket', 'connection', 'Upgrade', 'sec-websocket-key', KEY, 'sec-websocket-version', '13']);

  it('offers an upgrade exactly when the request asks for one, and the request passes checkRequest either way', () => {
    const plain = request(['host', 'x']);
    assert.equal(plain.upgrade, null);
    checkRequest(plain);
    const upgrade = asking();
    assert.equal(upgrade.upgrade!.protocol, 'websocket');
    checkRequest(upgrade);
  });

  it('lets an accepted upgrade through for its request, and names the mistake when it answers one that asked for none', () => {
    const upgrade = asking();
    const { response } = upgrade.upgrade!.acceptWebSocket();
    assert.equal(checkResponse(upgrade, response), response);
    assert.throws(() => checkResponse(request(['host', 'x']), response), (error: GatehouseError) => error.code === 'ERR_APP_CONTRACT' && /asked for none/.test(error.message));
  });

  it('a 101 the app made itself is refused with a pointer to request.upgrade', () => {
    assert.throws(() => checkResponse(asking(), { status: 101 }), /request\.upgrade\.acceptWebSocket/);
  });

  it('accepting twice, or a WebSocket for another protocol, is ERR_APP_BAD_UPGRADE', () => {
    const upgrade = asking();
    upgrade.upgrade!.acceptWebSocket();
    assert.throws(() => upgrade.upgrade!.acceptWebSocket(), (error: GatehouseError) => error.code === 'ERR_APP_BAD_UPGRADE');
    const other = request(['host', 'x', 'upgrade', 'h2c', 'connection', 'upgrade']);
    assert.throws(() => other.upgrade!.acceptWebSocket(), (error: GatehouseError) => error.code === 'ERR_APP_BAD_UPGRADE' && /acceptStream/.test(error.message));
    assert.throws(() => asking().upgrade!.acceptWebSocket({ headers: { 'sec-websocket-accept': 'x' } }), (error: GatehouseError) => error.code === 'ERR_APP_BAD_HEADER');
    assert.throws(() => asking().upgrade!.acceptWebSocket({ headers: { 'x-a': 'b\r\nc' } }), (error: GatehouseError) => error.code === 'ERR_APP_BAD_HEADER');
  });
});
