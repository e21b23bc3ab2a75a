/*
 * The engine parity suite: one set of behaviour tests, written once, run against every engine
 * (single, prefork, threaded, hybrid, and third-party engines), with the same expected
 * results. Each engine's test file is a few lines (Hono's common.case.test.ts pattern):
 *
 *   import { runParitySuite, engineStarter } from '@gatehouse/core/testkit';
 *   runParitySuite('threaded', engineStarter(ThreadedEngine, { threads: 2 }));
 *
 * The app is fixtures/parity/app.mjs, copied with its dependency into a temp dir so the reload
 * test can rewrite it. Module state is per unit (process or thread), so the app reports what
 * the test must see across units as files in that dir (see the fixture's header); the test
 * reads them directly. Nothing waits on a fixed sleep: a request that must stay in flight
 * waits for a release file the test creates.
 *
 * The tests run in order against one server, because starting one costs more than every test
 * together: the last two are reload and graceful stop. Where an engine must behave
 * differently, the difference is declared in KNOWN_DIFFERENCES below, with the reason and the
 * expectation it changes, and nowhere else.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from './raw-client.js';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import { CATALOGUE } from '../../src/errors/index.js';
import type { Engine, EngineClass, EngineContext, StopOptions } from '../../src/engine/engine.js';

/** What a starter returns: a running server the suite can reach, reload and stop. */
export interface ParityServer {
  /** http://127.0.0.1:PORT (with or without a trailing slash) */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  stop(options?: StopOptions): Promise<void>;
  reload(): Promise<void>;
  /** The engine, when the starter has one (for diagnostics in failures). */
  readonly engine?: Engine;
}

/** Starts the engine under test serving `appFile` (an absolute path) on 127.0.0.1:0. */
export type ParityStarter = (appFile: string, settingsOverrides: Partial<Settings>) => Promise<ParityServer>;

/** What the suite expects; a known difference overrides some of it. */
export interface ParityExpectations {
  /** DEP_VERSION the app reports after its dependency was rewritten and the server reloaded. */
  readonly reloadedDependency: string;
  /** The engine reads a request body before the app sees the request (so 100 Continue goes out at once). */
  readonly bodyReadBeforeApp: boolean;
}

const EXPECTED: ParityExpectations = {
  reloadedDependency: 'dep v2',
  bodyReadBeforeApp: false,
};

/**
 * THE one place where engines may differ. Built-in engines are listed by name; a third-party
 * engine declares the ones it shares with `runParitySuite(name, start, { differences: [...] })`.
 */
export const KNOWN_DIFFERENCES = {
  'reload-keeps-dependencies': {
    engines: ['single'],
    reason: 'an in-loop engine reloads inside its own process, and ESM modules cannot be unloaded: the entry module is '
      + 'imported afresh but the modules it imports stay cached (docs/gateway-interface.md §6). Engines that reload '
      + 'into new processes or threads load every module afresh.',
    expected: { reloadedDependency: 'dep v1' },
  },
  'reads-bodies-ahead': {
    engines: ['threaded', 'hybrid'],
    reason: 'the I/O thread reads a body (up to 1 MiB, within --read-ahead-budget) before the request takes an app thread, '
      + 'so a slow client never holds one (docs/engines.md): a chunked upload is echoed once it is complete, and '
      + '`Expect: 100-continue` gets its 100 at once, whether the app reads the body or not.',
    expected: { bodyReadBeforeApp: true },
  },
} as const satisfies Readonly<Record<string, { engines: readonly string[]; reason: string; expected: Partial<ParityExpectations> }>>;

export type KnownDifference = keyof typeof KNOWN_DIFFERENCES;

export interface ParityOptions {
  /** Known differences this engine has (beyond those KNOWN_DIFFERENCES lists for `name`). */
  readonly differences?: readonly KnownDifference[];
  /** Settings for every engine under test (the starter adds its own: workers, threads...). */
  readonly settings?: Partial<Settings>;
  /** Budget for the whole suite against one engine. Default 60 s. */
  readonly timeoutMs?: number;
}

/** The suite's own settings: timeouts long enough never to fire by accident; the app's deliberate errors are not logged. */
const SUITE_SETTINGS: Partial<Settings> = { gracefulTimeout: 10, keepAlive: 10, timeout: 30, logLevel: 'fatal' };

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/parity/', import.meta.url));

/** Starts engines constructed directly from their class (what the DI container does). */
export function engineStarter(engine: EngineClass, settings: Partial<Settings> = {}, context: Partial<Omit<EngineContext, 'settings' | 'app'>> = {}): ParityStarter {
  return async (appFile, overrides) => {
    const all: Settings = { ...defaultSettings(), ...settings, ...overrides, bind: ['127.0.0.1:0'] };
    const instance = new engine({ ...context, settings: all, app: { kind: 'module', spec: appFile } });
    await instance.start();
    const address = instance.addresses[0]!;
    return {
      url: address.url, host: address.host!, port: address.port!, engine: instance,
      stop: (options) => instance.stop(options), reload: () => instance.reload(),
    };
  };
}

export function expectationsFor(name: string, declared: readonly KnownDifference[] = []): { expected: ParityExpectations; differences: KnownDifference[] } {
  const differences = (Object.keys(KNOWN_DIFFERENCES) as KnownDifference[])
    .filter((key) => declared.includes(key) || (KNOWN_DIFFERENCES[key].engines as readonly string[]).includes(name));
  let expected = EXPECTED;
  for (const key of differences) expected = { ...expected, ...KNOWN_DIFFERENCES[key].expected };
  return { expected, differences };
}

export function runParitySuite(name: string, startServer: ParityStarter, options: ParityOptions = {}): void {
  const { expected, differences } = expectationsFor(name, options.differences);

  describe(`engine parity: ${name}`, { timeout: options.timeoutMs ?? 60_000 }, () => {
    let dir = '';
    let state = '';
    let server: ParityServer | null = null;
    let stopped = false;
    const port = () => server!.port;
    const origin = () => `http://127.0.0.1:${server!.port}`;
    const marker = (file: string) => path.join(state, file);
    const release = (id: string) => fs.writeFileSync(marker(`release-${id}`), '');
    const clients: RawClient[] = [];
    const connect = async () => {
      const client = await RawClient.connect(port());
      clients.push(client);
      return client;
    };

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-parity-${name.replace(/[^\w-]/g, '_')}-`));
      state = path.join(dir, 'state');
      fs.mkdirSync(state);
      for (const file of ['app.mjs', 'dep.mjs']) fs.copyFileSync(path.join(FIXTURES, file), path.join(dir, file));
      server = await startServer(path.join(dir, 'app.mjs'), { ...SUITE_SETTINGS, ...options.settings });
    });

    after(async () => {
      for (const client of clients) client.destroy();
      if (server && !stopped) await server.stop({ graceful: false }).catch(() => {});
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('routing through the Gateway Interface', () => {
      it('gives the app the method, raw target, decoded path, raw query, headers in order, both addresses and the body', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('PATCH /echo/caf%C3%A9/a%2Fb?x=%20y&b=+ HTTP/1.1\r\nHost: parity.test\r\nX-Multi: one\r\nX-Multi:  two \r\nContent-Length: 5\r\n\r\nhello');
        const [response] = await client.readResponses(1);
        assert.equal(response!.status, 200);
        const echo = JSON.parse(response!.text());
        assert.deepEqual(echo, {
          method: 'PATCH', target: '/echo/caf%C3%A9/a%2Fb?x=%20y&b=+', path: '/echo/café/a/b', query: 'x=%20y&b=+', httpVersion: '1.1',
          headers: [['host', 'parity.test'], ['x-multi', 'one'], ['x-multi', 'two'], ['content-length', '5']],
          scheme: 'http',
          remote: { address: '127.0.0.1', port: client.socket.localPort },
          server: { address: '127.0.0.1', port: port() },
          declaredLength: 5,
          body: Buffer.from('hello').toString('base64'), bodyLength: 5,
        });
      });

      it('passes every byte value of a body through unchanged', { timeout: 10_000 }, async () => {
        const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
        const response = await fetch(`${origin()}/echo`, { method: 'PUT', body: bytes });
        assert.equal(response.status, 200);
        const echo = await response.json() as { method: string; body: string; bodyLength: number };
        assert.equal(echo.method, 'PUT');
        assert.equal(echo.bodyLength, bytes.length);
        assert.ok(Buffer.from(echo.body, 'base64').equals(bytes));
      });

      it('answers an unknown path with the app\'s 404', { timeout: 10_000 }, async () => {
        const response = await fetch(`${origin()}/nowhere`);
        assert.equal(response.status, 404);
        assert.equal(await response.text(), 'not found');
      });

      it('serves other connections while requests are in flight', { timeout: 10_000 }, async () => {
        const waiting = [await connect(), await connect()];
        for (const [i, client] of waiting.entries()) await client.write(`GET /hold?id=busy${i} HTTP/1.1\r\nHost: p\r\n\r\n`);
        await waitForFiles([marker('holding-busy0'), marker('holding-busy1')]);
        const response = await fetch(`${origin()}/hello`);
        assert.equal(await response.text(), 'hello world');
        release('busy0');
        release('busy1');
        for (const [i, client] of waiting.entries()) assert.equal((await client.readResponses(1))[0]!.text(), `held busy${i}: done`);
      });
    });

    describe('streaming', () => {
      it('streams a chunked upload back while it is still arriving', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('POST /upload-echo HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nalpha\r\n');
        if (expected.bodyReadBeforeApp) {
          // Nothing comes back while the body is open: another request, answered meanwhile, shows the server had the time.
          assert.equal(await (await fetch(`${origin()}/hello`)).text(), 'hello world');
          assert.equal(client.receivedText, '', 'no echo before the body is complete');
        } else {
          // The echo of the first chunk arrives before the client has sent the rest.
          await waitFor(() => client.receivedText.includes('alpha'), 'the first chunk to come back', () => client.receivedText);
          assert.equal(client.responses().length, 0, 'the response is not complete yet');
        }
        await client.write('4\r\nbeta\r\n0\r\n\r\n');
        const [response] = await client.readResponses(1);
        assert.equal(response!.status, 200);
        assert.equal(response!.framing, 'chunked');
        assert.equal(response!.text(), 'alphabeta');
      });

      it('sends each chunk of a streamed response as the app yields it', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('GET /stream?id=s1 HTTP/1.1\r\nHost: p\r\n\r\n');
        await waitFor(() => client.receivedText.includes('first;'), 'the first chunk', () => client.receivedText);
        assert.equal(client.responses().length, 0, 'the stream is still open');
        release('s1');
        const [response] = await client.readResponses(1);
        assert.equal(response!.framing, 'chunked');
        assert.equal(response!.text(), 'first;second;third');
      });
    });

    describe('connections', () => {
      it('keeps a connection alive and answers pipelined requests in order', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('GET /echo/one HTTP/1.1\r\nHost: p\r\n\r\n'
          + 'POST /echo/two HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\n\r\nabc'
          + 'GET /echo/three HTTP/1.1\r\nHost: p\r\n\r\n');
        const responses = await client.readResponses(3);
        assert.deepEqual(responses.map((r) => [r.status, JSON.parse(r.text()).path]), [[200, '/echo/one'], [200, '/echo/two'], [200, '/echo/three']]);
        assert.equal(Buffer.from(JSON.parse(responses[1]!.text()).body, 'base64').toString(), 'abc');
        // Still open: a fourth request on the same connection.
        assert.equal(client.ended, false);
        await client.write('GET /echo/four HTTP/1.1\r\nHost: p\r\n\r\n');
        const all = await client.readResponses(4);
        assert.equal(JSON.parse(all[3]!.text()).path, '/echo/four');
      });

      it('answers HEAD with the GET\'s head and no body', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('HEAD /hello HTTP/1.1\r\nHost: p\r\n\r\nGET /hello HTTP/1.1\r\nHost: p\r\n\r\n');
        const [head, get] = await client.readResponses(2, { methods: ['HEAD', 'GET'] });
        assert.equal(head!.status, 200);
        assert.equal(head!.header('content-type'), 'text/plain; charset=utf-8');
        assert.equal(head!.body.length, 0);
        assert.ok(!head!.raw.toString('latin1').includes('hello world'), 'no body bytes after a HEAD answer');
        assert.equal(head!.header('content-length'), '11', 'a HEAD answer carries the length the GET\'s body has');
        assert.equal(head!.header('transfer-encoding'), null);
        assert.equal(get!.text(), 'hello world');
      });

      it('answers HEAD of a streamed response with neither length nor chunked framing', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('HEAD /upload-echo HTTP/1.1\r\nHost: p\r\n\r\nGET /hello HTTP/1.1\r\nHost: p\r\n\r\n');
        const [head, get] = await client.readResponses(2, { methods: ['HEAD', 'GET'] });
        assert.equal(head!.status, 200);
        assert.equal(head!.header('content-type'), 'application/octet-stream');
        assert.equal(head!.header('content-length'), null, 'the length of a stream is not known before it is produced');
        assert.equal(head!.header('transfer-encoding'), null, 'no body follows, so no framing is announced');
        assert.equal(get!.text(), 'hello world', 'the next response follows the HEAD answer\'s head directly');
      });

      it('sends 100 Continue when the app reads the body, and only then', { timeout: 10_000 }, async () => {
        const reading = await connect();
        await reading.write('POST /echo HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
        await waitFor(() => reading.responses().some((r) => r.interim), 'the 100 Continue', () => reading.receivedText);
        assert.equal(reading.responses()[0]!.status, 100);
        await reading.write('howdy');
        const final = (await reading.readResponses(1)).filter((r) => !r.interim);
        assert.equal(final[0]!.status, 200);
        assert.equal(Buffer.from(JSON.parse(final[0]!.text()).body, 'base64').toString(), 'howdy');

        const ignoring = await connect();
        await ignoring.write('POST /ignore-body HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
        if (expected.bodyReadBeforeApp) {
          // The 100 goes out before the app is asked; the app answers once the body is in.
          await waitFor(() => ignoring.responses().some((r) => r.interim), 'the 100 Continue', () => ignoring.receivedText);
          await ignoring.write('howdy');
          const responses = (await ignoring.readResponses(1)).filter((r) => !r.interim);
          assert.deepEqual(responses.map((r) => r.status), [200]);
          assert.equal(responses[0]!.text(), 'ignored');
        } else {
          const responses = await ignoring.readResponses(1);
          assert.deepEqual(responses.map((r) => r.status), [200], 'no 100 Continue for an app that never reads the body');
          assert.equal(responses[0]!.text(), 'ignored');
        }
      });
    });

    describe('errors', () => {
      it('answers 500 when the app throws, and the connection goes on', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('GET /throw HTTP/1.1\r\nHost: p\r\n\r\n');
        const [failed] = await client.readResponses(1);
        assert.equal(failed!.status, 500);
        assert.equal(failed!.text(), `${CATALOGUE.ERR_APP_THREW.message}\n`, 'the catalogue\'s message and no error detail without --debug');
        await client.write('GET /hello HTTP/1.1\r\nHost: p\r\n\r\n');
        assert.equal((await client.readResponses(2))[1]!.text(), 'hello world');
      });

      it('answers 500 for a response header that would split the response, and goes on serving', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('GET /bad-header HTTP/1.1\r\nHost: p\r\n\r\n');
        const [failed] = await client.readResponses(1);
        assert.equal(failed!.status, 500);
        assert.equal(failed!.header('set-cookie'), null);
        assert.equal(failed!.text(), `${CATALOGUE.ERR_APP_BAD_HEADER.message}\n`);
        assert.ok(!client.receivedText.includes('injected'), 'no byte of the bad header was written');
        assert.equal(await (await fetch(`${origin()}/hello`)).text(), 'hello world');
      });

      it('aborts request.signal when the client goes away', { timeout: 10_000 }, async () => {
        const client = await connect();
        await client.write('GET /hang?id=gone1 HTTP/1.1\r\nHost: p\r\n\r\n');
        await waitForFiles([marker('hanging-gone1')]);
        client.destroy();
        await waitForFiles([marker('aborted-gone1')]);
        assert.deepEqual(JSON.parse(fs.readFileSync(marker('aborted-gone1'), 'utf8')), { code: 'ERR_HTTP_CLIENT_GONE' });
      });
    });

    describe('lifecycle', () => {
      it('runs startup() in a unit before it serves', { timeout: 10_000 }, async () => {
        const unit = await (await fetch(`${origin()}/unit`)).json() as { started: boolean; unit: string; version: string };
        assert.equal(unit.started, true);
        assert.equal(unit.version, 'app v1');
        assert.ok(fs.existsSync(marker(`startup-${unit.unit}`)), 'the unit that answered wrote its startup marker');
      });

      it('serves new code after reload()', { timeout: 20_000 }, async (t) => {
        for (const difference of differences) t.diagnostic(`known difference ${difference}: ${KNOWN_DIFFERENCES[difference].reason}`);
        rewrite(path.join(dir, 'app.mjs'), "'app v1'", "'app v2'");
        rewrite(path.join(dir, 'dep.mjs'), "'dep v1'", "'dep v2'");
        await server!.reload();
        // Fresh connections, so each may land on any unit of the new generation.
        for (let i = 0; i < 4; i++) {
          const client = await connect();
          await client.write('GET /unit HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n');
          const unit = JSON.parse((await client.readResponses(1))[0]!.text());
          assert.deepEqual({ started: unit.started, version: unit.version, dep: unit.dep }, { started: true, version: 'app v2', dep: expected.reloadedDependency });
        }
      });

      it('stops gracefully: stops accepting, finishes the request in flight, runs shutdown() in every unit', { timeout: 20_000 }, async () => {
        const client = await connect();
        await client.write('GET /hold?id=last HTTP/1.1\r\nHost: p\r\n\r\n');
        await waitForFiles([marker('holding-last')]);
        const stopping = server!.stop({ graceful: true });
        stopped = true;
        await waitForRefusal(port());
        release('last');
        const [response] = await client.readResponses(1);
        assert.equal(response!.status, 200);
        assert.equal(response!.text(), 'held last: done');
        await stopping;
        const files = fs.readdirSync(state);
        const started = files.filter((f) => f.startsWith('startup-')).map((f) => f.slice('startup-'.length)).sort();
        const shut = files.filter((f) => f.startsWith('shutdown-')).map((f) => f.slice('shutdown-'.length)).sort();
        assert.ok(started.length > 0);
        assert.deepEqual(shut, started, 'every unit that ran startup() ran shutdown()');
      });
    });
  });
}

function rewrite(file: string, from: string, to: string): void {
  const source = fs.readFileSync(file, 'utf8');
  assert.ok(source.includes(from), `${file} contains ${from}`);
  fs.writeFileSync(file, source.replace(from, to));
}

/** Polls `condition` every 5 ms; fails after `timeoutMs` saying what it waited for. */
async function waitFor(condition: () => boolean, what: string, seen?: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; received: ${JSON.stringify(seen().slice(0, 500))}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function waitForFiles(files: readonly string[]): Promise<void> {
  return waitFor(() => files.every((f) => fs.existsSync(f)), files.map((f) => path.basename(f)).join(', '));
}

/** Resolves once a new connection to `port` is refused: the server has stopped accepting. */
async function waitForRefusal(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => { socket.destroy(); resolve(false); });
      socket.once('error', () => resolve(true));
    });
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections ${timeoutMs} ms after a graceful stop began`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
