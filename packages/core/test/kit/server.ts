/*
 * Starting a real server on 127.0.0.1:0 for a test, with a given app and settings overrides.
 *
 *   const server = await startServer({ app: (request) => ({ status: 200, body: 'hi' }), settings: { keepAlive: 1 } });
 *   t.after(() => server.close());
 *   const response = await fetch(server.url);
 *
 * engine 'in-loop' (default): an InLoopServer on a listener bound here, which also exposes the
 * server side of every accepted socket (`sockets`) and the HttpService, for tests that look at
 * the server's state (paused reading, bytes read). engine 'single': the SingleEngine, exactly
 * what `serve --engine single` runs. Settings durations are in seconds, as everywhere else.
 */
import type net from 'node:net';
import { InLoopServer } from '../../src/engine/in-loop.js';
import { SingleEngine } from '../../src/engine/single.js';
import { bindListener } from '../../src/net/listen.js';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { Application, LoadedApp } from '../../src/gateway/types.js';
import type { HttpService, HttpServiceStats } from '../../src/http/service.js';

export interface TestServerOptions {
  /** A Gateway app, or an already loaded app (with startup/shutdown hooks). */
  readonly app: Application | LoadedApp;
  /** Overrides of the defaults (seconds for durations). `bind` is ignored: always 127.0.0.1:0. */
  readonly settings?: Partial<Settings>;
  readonly engine?: 'in-loop' | 'single';
}

export interface TestServer {
  readonly host: string;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** origin + '/' */
  readonly url: string;
  readonly settings: Readonly<Settings>;
  /** The HttpService (in-loop engine only). */
  readonly service: HttpService | null;
  /** Server side of each accepted socket, in accept order (in-loop engine only). */
  readonly sockets: net.Socket[];
  stats(): HttpServiceStats | null;
  /** Resolves with the next accepted socket (in-loop engine only). */
  nextSocket(): Promise<net.Socket>;
  /** Graceful (drain with `timeoutSeconds`) or immediate stop. Safe to call twice. */
  close(options?: { graceful?: boolean; timeoutSeconds?: number }): Promise<void>;
}

/** Settings for tests: defaults plus overrides, bound to an ephemeral loopback port. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), engine: 'single', ...overrides, bind: ['127.0.0.1:0'] };
}

function asLoaded(app: Application | LoadedApp): LoadedApp {
  return typeof app === 'function' ? { app, interface: 'gateway' } : app;
}

export async function startServer(options: TestServerOptions): Promise<TestServer> {
  const settings = testSettings(options.settings);
  const loaded = asLoaded(options.app);
  if ((options.engine ?? 'in-loop') === 'single') {
    const engine = new SingleEngine({ settings, app: { kind: 'inline', app: loaded } });
    await engine.start();
    const address = engine.addresses[0]!;
    let closed: Promise<void> | null = null;
    return {
      host: address.host!, port: address.port!, origin: `http://127.0.0.1:${address.port}`, url: `http://127.0.0.1:${address.port}/`,
      settings, service: null, sockets: [], stats: () => null,
      nextSocket: () => Promise.reject(new Error('nextSocket() needs the in-loop engine')),
      close: (o = {}) => closed ??= engine.stop({ graceful: o.graceful ?? false, timeout: o.timeoutSeconds ?? 1 }),
    };
  }
  const server = new InLoopServer({ settings, app: { kind: 'inline', app: loaded } });
  await server.boot();
  const listener = await bindListener({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  const sockets: net.Socket[] = [];
  const socketWaiters: Array<(socket: net.Socket) => void> = [];
  // Registered before attach() so the test sees the socket before the first 'data'.
  listener.on('connection', (socket: net.Socket) => {
    sockets.push(socket);
    socketWaiters.shift()?.(socket);
  });
  server.attach(listener);
  const port = (listener.address() as net.AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    host: '127.0.0.1', port, origin: `http://127.0.0.1:${port}`, url: `http://127.0.0.1:${port}/`,
    settings, service: server.service, sockets,
    stats: () => server.service.stats(),
    nextSocket: () => new Promise((resolve) => socketWaiters.push(resolve)),
    close: (o = {}) => closed ??= server.close(o.graceful ?? false, (o.timeoutSeconds ?? 1) * 1000),
  };
}
