/*
 * Upgraded connections under an engine that runs the app away from the socket (app threads,
 * app threads in worker processes): the app's takeover speaks its own protocol over whatever
 * socket the engine hands it, and the engine keeps the connection's life right across resets,
 * reloads and stops. The app is the caller's (its takeover routes are described below), so
 * the suite needs no dependency of its own:
 *
 *   runUpgradeSuite('threaded', ThreadedEngine, { app: UPGRADE_APP, settings: { threads: 2 } });
 *
 * The app answers `Upgrade: echo` with its own 101, then a line `unit <pid>:<threadId> <version>`,
 * then echoes every byte (the bytes sent after the request head first); told to go away it
 * ends with `going away <version>`. Its version is GATEHOUSE_TEST_APP_VERSION, read when it
 * loads; any other request is answered `plain <version> ...`.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { Engine, EngineClass } from '../../src/engine/engine.js';
import { until } from './wait.js';

export interface UpgradeSuiteOptions {
  /** The app module (see above). */
  readonly app: string;
  readonly settings: Partial<Settings>;
}

/** A raw client of the echo protocol: everything it has received, as text. */
export class EchoClient {
  readonly socket: net.Socket;
  received = '';
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => { this.received += text; });
    socket.on('error', () => {});
    socket.on('close', () => { this.closed = true; });
  }

  /** Connects, asks for `Upgrade: echo` with `head` in the same write, waits for the app's greeting line. */
  static async open(port: number, head = ''): Promise<EchoClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const client = new EchoClient(socket);
    socket.write(`GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n${head}`);
    await client.waitFor(/\r\n\r\nunit \S+ \S+\n/, 'the 101 and the greeting');
    return client;
  }

  /** The greeting: which unit serves it and its version. */
  get greeting(): { unit: string; version: string } {
    const match = /\r\n\r\nunit (\S+) (\S+)\n/.exec(this.received);
    assert.ok(match, `greeting in ${JSON.stringify(this.received.slice(0, 200))}`);
    return { unit: match[1]!, version: match[2]! };
  }

  waitFor(pattern: string | RegExp, what: string, timeoutMs = 10_000): Promise<void> {
    const seen = () => typeof pattern === 'string' ? this.received.includes(pattern) : pattern.test(this.received);
    return until(() => seen() || this.closed, timeoutMs, what).then(() => {
      assert.ok(seen(), `${what}: the connection closed after ${JSON.stringify(this.received.slice(-200))}`);
    });
  }
}

const port = (engine: Engine): number => Number(new URL(engine.addresses[0]!.url).port);
const inFlight = (engine: Engine): number => engine.stats().units.reduce((sum, unit) => sum + unit.inFlight, 0);

export function runUpgradeSuite(name: string, Engine: EngineClass, options: UpgradeSuiteOptions): void {
  async function start(t: TestContext, overrides: Partial<Settings> = {}): Promise<Engine> {
    const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], gracefulTimeout: 5, logLevel: 'fatal', ...options.settings, ...overrides };
    const engine = new Engine({ settings, app: { kind: 'module', spec: options.app } } as never);
    await engine.start();
    t.after(() => engine.stop({ graceful: false }));
    return engine;
  }

  describe(`${name}: upgraded connections`, { timeout: 90_000 }, () => {
    it('the app\'s takeover answers its own 101 and echoes both the bytes sent with the head and later ones; the connection counts as in flight until it closes', async (t) => {
      const engine = await start(t);
      const client = await EchoClient.open(port(engine), 'sent-with-the-head\n');
      assert.match(client.received, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\r\n/);
      await client.waitFor('v1\nsent-with-the-head\n', 'the head bytes echoed');
      client.socket.write('x'.repeat(300_000) + '\nlater\n');
      await client.waitFor('\nlater\n', 'a 300 kB write echoed whole');
      assert.equal(client.received.split('x').length - 1, 300_000);
      await until(() => inFlight(engine) === 1, 10_000, 'the open connection to count as in flight');
      client.socket.end();
      await until(() => client.closed, 10_000, 'the server to close its side after the client\'s FIN');
      await until(() => inFlight(engine) === 0, 10_000, 'nothing in flight after the close');
    });

    it('a client reset mid-stream frees the connection; plain requests go on', async (t) => {
      const engine = await start(t);
      const clients = await Promise.all([1, 2, 3].map(() => EchoClient.open(port(engine))));
      for (const client of clients) client.socket.write('y'.repeat(200_000));
      for (const client of clients) client.socket.resetAndDestroy();
      await until(() => inFlight(engine) === 0, 10_000, 'nothing in flight after the resets');
      const response = await fetch(engine.addresses[0]!.url);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /^plain v1/);
    });

    it('a reload with 100 open connections: they stay with the old code and keep echoing, new requests meet the new code at once, the old ones are told to go away by the graceful timeout, then the old units exit', async (t) => {
      // Long enough that no old unit's drain (which starts while a rolling reload goes on) ends
      // before reload() resolves.
      const graceful = 8;
      const engine = await start(t, { gracefulTimeout: graceful });
      const before = process.env.GATEHOUSE_TEST_APP_VERSION;
      t.after(() => { if (before === undefined) delete process.env.GATEHOUSE_TEST_APP_VERSION; else process.env.GATEHOUSE_TEST_APP_VERSION = before; });
      const clients: EchoClient[] = [];
      for (let i = 0; i < 100; i++) clients.push(await EchoClient.open(port(engine)));
      assert.deepEqual([...new Set(clients.map((c) => c.greeting.version))], ['v1']);
      const units = new Set(clients.map((c) => c.greeting.unit));
      assert.ok(units.size >= 2, `the connections spread over ${units.size} units`);

      process.env.GATEHOUSE_TEST_APP_VERSION = 'v2';
      const reloadStartedAt = Date.now();
      await engine.reload();
      const plain = await fetch(engine.addresses[0]!.url, { headers: { connection: 'close' } });
      assert.match(await plain.text(), /^plain v2/, 'a request after the reload meets the new code');
      const fresh = await EchoClient.open(port(engine));
      assert.equal(fresh.greeting.version, 'v2', 'an upgrade after the reload runs the new code');
      assert.ok(!units.has(fresh.greeting.unit), 'and on a new unit');

      for (const [i, client] of clients.entries()) client.socket.write(`still-${i}\n`);
      await Promise.all(clients.map((client, i) => client.waitFor(`still-${i}\n`, `old connection ${i} to keep echoing after the reload`)));
      assert.ok(clients.every((c) => !c.closed));

      await Promise.all(clients.map((client, i) => client.waitFor('going away v1\n', `old connection ${i} to be told to go away`, (graceful + 5) * 1000)));
      // Each old unit's drain starts during the reload; it tells its connections to go away a
      // second before its graceful timeout.
      const toldAfter = Date.now() - reloadStartedAt;
      assert.ok(toldAfter >= (graceful - 1) * 1000 - 200, `told to go away near the graceful timeout, not at once (${toldAfter} ms after the reload began)`);
      await until(() => clients.every((c) => c.closed), 10_000, 'the old connections to close');
      await until(() => engine.stats().units.every((u) => u.generation === engine.stats().generation), 15_000, 'the old units to exit');
      assert.ok(!fresh.closed, 'the connection on the new code is untouched');
      fresh.socket.write('new-still\n');
      await fresh.waitFor('new-still\n', 'the new connection to echo');
      fresh.socket.destroy();
    });

    it('a graceful stop tells open connections to go away before its timeout and finishes once they closed', async (t) => {
      const engine = await start(t, { gracefulTimeout: 3 });
      const clients = await Promise.all(Array.from({ length: 10 }, () => EchoClient.open(port(engine))));
      const startedAt = Date.now();
      const stopped = engine.stop({ graceful: true, timeout: 3 });
      await Promise.all(clients.map((client, i) => client.waitFor('going away v1\n', `connection ${i} to be told to go away`)));
      await until(() => clients.every((c) => c.closed), 10_000, 'every connection to close');
      await stopped;
      assert.ok(Date.now() - startedAt < 3000 + 5000, `the stop finished within its timeout and slack (${Date.now() - startedAt} ms)`);
    });
  });
}
