/*
 * --health-path and --liveness-path under any engine: the server answers them itself, never
 * calling the app, while the app is busy, and turns readiness to 503 when this unit drains (a
 * graceful stop, the old generation of a reload). One server per engine with one unit (one
 * process, one app thread of two slots), so "every unit is busy" is two held requests:
 *
 *   import { runHealthSuite } from '@gatehouse/core/testkit';
 *   runHealthSuite('prefork', PreforkEngine, { reload: 'hands-over' });
 *
 * The app records every call in state/calls, so the test can say the app never saw a health
 * request; requests that must stay in flight wait for a release file, as in the parity suite.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { Engine, EngineClass } from '../../src/engine/engine.js';
import { RawClient, type RawResponse } from './raw-client.js';
import { until } from './wait.js';

const APP = `import fs from 'node:fs';
import { threadId } from 'node:worker_threads';
const VERSION = 'v1';
const STATE = new URL('./state/', import.meta.url);
const exists = (name) => fs.existsSync(new URL(name, STATE));
const mark = (name) => fs.writeFileSync(new URL(name, STATE), '');
const text = (status, body) => ({ status, headers: [['content-type', 'text/plain']], body });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

export async function startup() {
  // A unit started while slow-boot exists stays booting until boot-go exists.
  if (!exists('slow-boot')) return;
  mark('booting-' + process.pid + '-' + threadId);
  while (!exists('boot-go')) await tick();
}

export default async function app(request) {
  fs.appendFileSync(new URL('calls', STATE), request.method + ' ' + request.target + '\\n');
  const id = new URLSearchParams(request.query).get('id') ?? '';
  switch (request.path) {
    case '/version': return text(200, VERSION);
    case '/hold':
      mark('holding-' + id);
      while (!exists('release-' + id) && !request.signal.aborted) await tick();
      return text(200, 'held ' + id);
    case '/spin': {
      // Blocks this unit's event loop (bounded), as a request stuck in a loop would.
      mark('spinning-' + id);
      const end = Date.now() + 20000;
      while (!exists('release-' + id) && Date.now() < end);
      return text(200, 'spun ' + id);
    }
    default: return text(404, 'not found');
  }
}
`;

export interface HealthSuiteOptions {
  /**
   * What a reload does to a connection the old generation holds: 'drains' (it belongs to a
   * unit that drains, so readiness is 503 there, and is closed after that answer), 'hands-over'
   * (prefork, hybrid: the old unit answers 503, then gives the plain TCP connection to the new
   * generation, where its next request meets new code) or 'keeps' (threaded: app threads roll
   * behind the same sockets, which never drain).
   */
  readonly reload: 'drains' | 'hands-over' | 'keeps';
  /** reload() resolves only once the old generation has drained (single): wait for the new code instead. */
  readonly reloadAwaitsDrain?: boolean;
  /** The engine runs the app in threads its I/O thread supervises: liveness can see none ready. */
  readonly appThreads?: boolean;
}

const HEALTH: Partial<Settings> = {
  healthPath: '/healthz', livenessPath: '/livez', workers: 1, threads: 1, threadConcurrency: 2,
  gracefulTimeout: 10, keepAlive: 10, timeout: 30, logLevel: 'fatal',
  // Long enough for a loaded machine to see the delay's 503s; only the last test waits it out.
  stopDelay: 3,
};

export function runHealthSuite(name: string, engineClass: EngineClass, options: HealthSuiteOptions): void {
  describe(`health paths under ${name}`, { timeout: 90_000 }, () => {
    let dir = '';
    let state = '';
    let engine: Engine;
    let port = 0;
    let stopped = false;
    const clients: RawClient[] = [];
    const marker = (file: string) => path.join(state, file);
    const connect = async () => {
      const client = await RawClient.connect(port);
      clients.push(client);
      return client;
    };
    const get = async (target: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${target}`);
      return { status: response.status, text: await response.text(), cacheControl: response.headers.get('cache-control') };
    };
    const calls = () => fs.readFileSync(marker('calls'), 'utf8').split('\n').filter(Boolean);

    before(async () => {
      ({ dir, state } = makeAppDir(name));
      engine = await startEngine(engineClass, path.join(dir, 'app.mjs'), {});
      port = engine.addresses[0]!.port!;
    });

    after(async () => {
      for (const client of clients) client.destroy();
      if (!stopped) await engine.stop({ graceful: false }).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('answers GET and HEAD on the exact paths itself, keeps the connection, and leaves every other path to the app', { timeout: 10_000 }, async () => {
      const client = await connect();
      await client.write('GET /healthz HTTP/1.1\r\nHost: p\r\n\r\n'
        + 'HEAD /healthz HTTP/1.1\r\nHost: p\r\n\r\n'
        + 'GET /livez HTTP/1.1\r\nHost: p\r\n\r\n'
        + 'GET /healthz?probe=kubelet HTTP/1.1\r\nHost: p\r\n\r\n'
        + 'POST /healthz HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\nhi'
        + 'GET /healthz/deeper HTTP/1.1\r\nHost: p\r\n\r\n'
        + 'GET /version HTTP/1.1\r\nHost: p\r\n\r\n');
      const responses = await client.readResponses(7, { methods: ['GET', 'HEAD', 'GET', 'GET', 'POST', 'GET', 'GET'] });
      assert.deepEqual(responses.map((r) => [r.status, r.text()]), [
        [200, 'ready\n'], [200, ''], [200, 'live\n'], [200, 'ready\n'],
        [405, 'the health paths answer GET and HEAD\n'], [404, 'not found'], [200, 'v1'],
      ]);
      for (const response of responses.slice(0, 5)) assert.equal(response.header('cache-control'), 'no-store');
      assert.equal(responses[1]!.header('content-length'), '6', 'HEAD carries the length of the GET answer');
      assert.equal(responses[4]!.header('allow'), 'GET, HEAD');
      assert.equal(client.ended, false, 'the connection stays open');
      assert.deepEqual(calls(), ['GET /healthz/deeper', 'GET /version'], 'the app saw only the requests that were not health checks');
    });

    it('answers while every unit that runs the app is busy with a request', { timeout: 10_000 }, async () => {
      const busy = [await connect(), await connect()];
      for (const [i, client] of busy.entries()) await client.write(`GET /hold?id=busy${i} HTTP/1.1\r\nHost: p\r\n\r\n`);
      await until(() => fs.existsSync(marker('holding-busy0')) && fs.existsSync(marker('holding-busy1')), 5000, 'the app to hold two requests');
      assert.deepEqual(await get('/healthz'), { status: 200, text: 'ready\n', cacheControl: 'no-store' });
      assert.deepEqual(await get('/livez'), { status: 200, text: 'live\n', cacheControl: 'no-store' });
      assert.ok(busy.every((client) => client.responses().length === 0), 'the held requests are still in flight');
      for (const [i, client] of busy.entries()) {
        fs.writeFileSync(marker(`release-busy${i}`), '');
        assert.equal((await client.readResponses(1))[0]!.text(), `held busy${i}`);
      }
    });

    it(options.reload === 'drains'
      ? 'answers 503 on a connection the old generation keeps during a reload, and closes it'
      : options.reload === 'hands-over'
        ? 'answers 503 on a connection the old generation holds during a reload, then hands it to the new generation'
        : 'answers 200 on a connection held across a reload: the sockets never drain', { timeout: 30_000 }, async () => {
      // A request head in progress keeps the connection where it is (an idle one could be
      // handed to the new generation); the old generation drains it once the new one serves.
      const held = await connect();
      await held.write('GET /healthz HTTP/1.1\r\nHost: p\r\n');
      const source = fs.readFileSync(path.join(dir, 'app.mjs'), 'utf8');
      fs.writeFileSync(path.join(dir, 'app.mjs'), source.replace("const VERSION = 'v1';", "const VERSION = 'v2';"));
      const reloading = engine.reload();
      if (options.reloadAwaitsDrain) {
        await until(async () => (await get('/version')).text === 'v2', 10_000, 'the new generation to serve');
      } else {
        await reloading;
      }
      await held.write('\r\n');
      const [answer] = await held.readResponses(1);
      if (options.reload === 'drains') {
        assert.deepEqual([answer!.status, answer!.text()], [503, 'draining\n']);
        assert.equal(answer!.header('connection'), 'close');
        await held.waitForClose();
      } else if (options.reload === 'hands-over') {
        assert.deepEqual([answer!.status, answer!.text()], [503, 'draining\n']);
        assert.notEqual(answer!.header('connection'), 'close');
        await held.write('GET /version HTTP/1.1\r\nHost: p\r\n\r\n');
        const [, next] = await held.readResponses(2, { timeoutMs: 10_000 });
        assert.equal(next!.text(), 'v2', 'the connection\'s next request meets the new generation');
      } else {
        assert.deepEqual([answer!.status, answer!.text()], [200, 'ready\n']);
        assert.equal(held.ended, false);
      }
      await reloading;
      assert.deepEqual(await get('/healthz'), { status: 200, text: 'ready\n', cacheControl: 'no-store' }, 'a new connection reaches the new generation');
      assert.equal((await get('/version')).text, 'v2');
    });

    it('on a graceful stop: readiness 503 while new connections are still served (--stop-delay), then refused; a kept connection gets 503 and is closed; the request in flight finishes', { timeout: 30_000 }, async () => {
      // Connected before the held request, so the unit accepted it first.
      const kept = await connect();
      await kept.write('GET /healthz HTTP/1.1\r\nHost: p\r\n');
      const inFlight = await connect();
      await inFlight.write('GET /hold?id=last HTTP/1.1\r\nHost: p\r\n\r\n');
      await until(() => fs.existsSync(marker('holding-last')), 5000, 'the app to hold the last request');
      const stopping = engine.stop({ graceful: true });
      stopped = true;
      // 1. --stop-delay: a new connection is still accepted; readiness answers 503 and the app still serves.
      await until(async () => (await fresh(port, '/healthz')).status === 503, 2500, 'readiness to turn 503 on a new connection');
      const during = await fresh(port, '/healthz');
      assert.deepEqual([during.status, during.text(), during.header('cache-control')], [503, 'draining\n', 'no-store']);
      assert.equal((await fresh(port, '/livez')).status, 200, 'a draining server is alive');
      assert.equal((await fresh(port, '/version')).text(), 'v2', 'the app still serves new connections');
      // 2. Then the listeners close.
      await waitForRefusal(port);
      // 3. A health check on a connection the server still holds: 503, then the connection closes.
      await kept.write('\r\n');
      const [answer] = await kept.readResponses(1);
      assert.deepEqual([answer!.status, answer!.text(), answer!.header('connection')], [503, 'draining\n', 'close']);
      await kept.waitForClose();
      // 4. The request in flight is answered; then the stop completes.
      assert.equal(inFlight.responses().length, 0);
      fs.writeFileSync(marker('release-last'), '');
      assert.equal((await inFlight.readResponses(1))[0]!.text(), 'held last');
      await stopping;
      assert.ok(!calls().some((line) => /^\S+ \/(healthz|livez)(\?|$)/.test(line)), `the app never saw a health check: ${calls().join(', ')}`);
    });
  });

  if (!options.appThreads) return;

  describe(`liveness under ${name} when no app thread is ready`, { timeout: 90_000 }, () => {
    let dir = '';
    let state = '';
    let engine: Engine;
    let port = 0;
    const clients: RawClient[] = [];
    const marker = (file: string) => path.join(state, file);
    const status = async (target: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${target}`);
      return `${response.status} ${(await response.text()).trim()}`;
    };

    before(async () => {
      ({ dir, state } = makeAppDir(`${name}-liveness`));
      // --timeout 1: the stuck thread is replaced about a second after its loop stops.
      engine = await startEngine(engineClass, path.join(dir, 'app.mjs'), { timeout: 1 });
      port = engine.addresses[0]!.port!;
    });

    after(async () => {
      for (const client of clients) client.destroy();
      fs.writeFileSync(marker('boot-go'), '');
      fs.writeFileSync(marker('release-stuck'), '');
      await engine.stop({ graceful: false }).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('is 503 while the only app thread is being replaced, and 200 again once its replacement is ready', { timeout: 60_000 }, async () => {
      assert.equal(await status('/livez'), '200 live');
      fs.writeFileSync(marker('slow-boot'), '');
      const stuck = await RawClient.connect(port);
      clients.push(stuck);
      await stuck.write('GET /spin?id=stuck HTTP/1.1\r\nHost: p\r\n\r\n');
      await until(() => fs.existsSync(marker('spinning-stuck')), 5000, 'the app thread to get stuck');
      // The thread is killed for --timeout; its replacement's startup() waits for boot-go.
      await until(() => fs.readdirSync(state).some((f) => f.startsWith('booting-')), 20_000, 'a replacement thread to boot');
      assert.equal(await status('/livez'), '503 no unit ready');
      assert.equal(await status('/healthz'), '503 no unit ready');
      fs.writeFileSync(marker('boot-go'), '');
      await until(async () => (await status('/livez')) === '200 live', 20_000, 'liveness to recover');
      assert.equal(await status('/healthz'), '200 ready');
    });
  });
}

function makeAppDir(name: string): { dir: string; state: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-health-${name.replace(/[^\w-]/g, '_')}-`));
  const state = path.join(dir, 'state');
  fs.mkdirSync(state);
  fs.writeFileSync(path.join(state, 'calls'), '');
  fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
  return { dir, state };
}

async function startEngine(engineClass: EngineClass, appFile: string, settings: Partial<Settings>): Promise<Engine> {
  const all: Settings = { ...defaultSettings(), ...HEALTH, ...settings, bind: ['127.0.0.1:0'] };
  const engine = new engineClass({ settings: all, app: { kind: 'module', spec: appFile } });
  await engine.start();
  return engine;
}

/** One request on a new connection. */
async function fresh(port: number, target: string): Promise<RawResponse> {
  const client = await RawClient.connect(port);
  try {
    await client.write(`GET ${target} HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n`);
    return (await client.readResponses(1))[0]!;
  } finally {
    client.destroy();
  }
}

/** Resolves once a new connection to `port` is refused. */
async function waitForRefusal(port: number): Promise<void> {
  await until(() => new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  }), 5000, `port ${port} to refuse connections`);
}
