// socket.io's long-polling transport under the threaded engine with --sticky: each app thread
// holds its own socket.io sessions, so every polling request of a session must reach the
// thread that opened it. Clients connect from several loopback source addresses, each
// handshakes, and a round trip after several polls still reaches the session's thread.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { defaultSettings, type Settings } from '@gatehouse/core';
import { ThreadedEngine } from '../src/index.js';

const APP = fileURLToPath(new URL('../../test/fixtures/socket-io.mjs', import.meta.url));
const CLIENTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];

interface Who { threadId: number; pid: number }

describe('socket.io polling under threaded --sticky', { timeout: 60_000 }, () => {
  it('keeps every session on the thread that holds it', async (t) => {
    const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], threads: 2, sticky: true, interface: 'node', logLevel: 'fatal', gracefulTimeout: 1 };
    const engine = new ThreadedEngine({ settings, app: { kind: 'module', spec: APP } });
    await engine.start();
    t.after(() => engine.stop({ graceful: false, timeout: 1 }));
    const url = engine.addresses[0]!.url;
    const threads = await Promise.all(CLIENTS.map(async (localAddress) => {
      // The polling transport takes no localAddress of its own; its agent's connections do.
      const agent = new http.Agent({ keepAlive: true, localAddress } as http.AgentOptions);
      const socket = io(url, { transports: ['polling'], agent: agent as unknown as string, reconnection: false, forceNew: true, timeout: 10_000 });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        const seen = new Set<number>();
        for (let i = 0; i < 4; i++) seen.add((await socket.timeout(10_000).emitWithAck('whoami') as Who).threadId);
        assert.ok(socket.connected, `${localAddress}: the session survived its polls`);
        assert.equal(seen.size, 1, `${localAddress}: one thread answered the session`);
        return [...seen][0]!;
      } finally {
        socket.disconnect();
        agent.destroy();
      }
    }));
    assert.ok(new Set(threads).size > 1, 'the clients used more than one app thread');
  });
});
