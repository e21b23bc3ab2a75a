/*
 * Resource bounds under hostile input, each with the server's memory measured: the server runs
 * in a child process (resource-bounds-server.ts, the `single` engine), and the test samples its
 * resident set size from /proc/PID/status every 20 ms while it attacks, against a baseline
 * taken after a warm-up and a full GC. Each test states its bound; the bounds are generous
 * multiples of what the server needs (a leak or a buffer-the-whole-thing bug blows through them
 * by orders of magnitude, noise does not).
 *
 *   10,000 header fields            -> 431 after the 100th, before the block is half sent     RSS growth < 16 MiB
 *   a 1 GiB header block            -> 431 at the 256 KiB section limit; we stop on the 431   RSS growth < 16 MiB
 *   a million 1-byte chunks         -> served, the app reads them all (in < 10,000 reads)     RSS growth < 64 MiB
 *   a never-ending chunked body     -> 413 once past --max-body-size (1 MiB), closed          RSS growth < 32 MiB
 *   10,000 idle connections         -> all accepted, all reaped by the keep-alive timeout     RSS growth < 200 MiB
 *
 * Nothing here sends what the server has refused: every writer stops on the response, on close
 * or on EPIPE, and is bounded by bytes and time as well. Linux only (/proc).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { allClosed, openMany, type HostileSocket } from './kit/hostile.js';
import type { ChildMessage, ParentMessage } from './kit/resource-bounds-server.js';
import type { Settings } from '../src/settings/table.js';

const MIB = 1024 * 1024;
const SERVER = new URL('./kit/resource-bounds-server.js', import.meta.url);
const linux = existsSync('/proc/self/status');

/** The server under test, in its own process. */
class ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly pid: number;
  #exited = false;

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    this.pid = child.pid!;
    child.once('exit', () => { this.#exited = true; });
  }

  static start(settings: Partial<Settings>): Promise<ChildServer> {
    return new Promise((resolve, reject) => {
      const child = fork(SERVER, [JSON.stringify(settings)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the server child did not report ready in 10 s')); }, 10_000);
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the server child exited (${code}) before it was ready`)); });
      child.on('message', (message: ChildMessage) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(new ChildServer(child, message.port));
      });
    });
  }

  get alive(): boolean { return !this.#exited; }

  /** Resident set size now, in bytes (VmRSS). */
  rss(): number {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'latin1'));
    if (!match) throw new Error('no VmRSS');
    return Number(match[1]) * 1024;
  }

  /** A full GC in the child, then its RSS: the baseline. */
  gc(): Promise<number> {
    return new Promise((resolve) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type !== 'gc-done') return;
        this.child.off('message', onMessage);
        resolve(this.rss());
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'gc' } satisfies ParentMessage);
    });
  }

  /** Samples RSS every 20 ms until stopped; returns the peak. */
  sample(): { stop(): number } {
    let peak = this.rss();
    const timer = setInterval(() => { try { peak = Math.max(peak, this.rss()); } catch { /* exited */ } }, 20);
    return { stop: () => { clearInterval(timer); try { peak = Math.max(peak, this.rss()); } catch { /* exited */ } return peak; } };
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies ParentMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

const servers: ChildServer[] = [];
after(async () => { await Promise.all(servers.map((s) => s.stop())); });

/** Starts a server, warms it (a GET and a chunked POST), and takes the baseline after a full GC. */
async function startWarm(settings: Partial<Settings>): Promise<{ server: ChildServer; baseline: number }> {
  const server = await ChildServer.start(settings);
  servers.push(server);
  for (let i = 0; i < 20; i++) {
    assert.equal(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), 'ok');
    const post = await fetch(`http://127.0.0.1:${server.port}/count`, { method: 'POST', body: new Blob(['x'.repeat(100_000)]).stream(), duplex: 'half' } as RequestInit);
    assert.equal(post.status, 200);
    await post.arrayBuffer();
  }
  return { server, baseline: await server.gc() };
}

/** A raw socket that records what arrives and stops writes once the server answered or closed. */
class Attacker {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  closed = false;
  failed: string | null = null;
  sent = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => { this.received = Buffer.concat([this.received, chunk]); });
    socket.on('error', (error: NodeJS.ErrnoException) => { this.failed = error.code ?? error.message; });
    socket.on('close', () => { this.closed = true; });
  }

  static connect(port: number): Promise<Attacker> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => { socket.off('error', reject); resolve(new Attacker(socket)); });
    });
  }

  /** The server said something (a response) or went away: stop sending. */
  get stopped(): boolean { return this.received.length > 0 || this.closed || this.failed !== null; }

  get status(): number {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received.toString('latin1', 0, 20));
    return match ? Number(match[1]) : 0;
  }

  /** Writes `data` unless stopped; resolves once it is handed to the kernel (or the socket failed). */
  write(data: string | Buffer): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.sent += bytes.length;
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Waits up to `ms` for the server to answer or close. */
  async settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.stopped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  async waitForClose(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(this.closed, `the server did not close the connection within ${ms} ms`);
  }

  destroy(): void { this.socket.destroy(); }
}

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/** Asserts the peak RSS growth over the baseline is below `bound`; returns the growth for the log. */
function assertGrowth(what: string, baseline: number, peak: number, bound: number): void {
  const growth = peak - baseline;
  console.log(`# ${what}: server RSS baseline ${mib(baseline)}, peak ${mib(peak)}, growth ${mib(growth)} (bound ${mib(bound)})`);
  assert.ok(growth < bound, `${what}: server RSS grew by ${mib(growth)}, bound ${mib(bound)}`);
}

describe('resource bounds, with the server\'s memory measured', { skip: linux ? false : 'needs /proc (Linux)', timeout: 120_000 }, () => {
  test('a request with 10,000 header fields: 431 early (after the 100th), memory bounded', { timeout: 30_000 }, async (t) => {
    const { server, baseline } = await startWarm({ limitRequestFields: 100 });
    const attacker = await Attacker.connect(server.port);
    t.after(() => attacker.destroy());
    const sampler = server.sample();
    await attacker.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const BATCHES = 20; // 20 x 500 = 10,000 fields
    let batchesSent = 0;
    for (let b = 0; b < BATCHES && !attacker.stopped; b++) {
      let block = '';
      for (let i = 0; i < 500; i++) block += `X-Field-${b * 500 + i}: value\r\n`;
      await attacker.write(block);
      batchesSent++;
      await attacker.settle(20);
    }
    await attacker.write('\r\n');
    await attacker.settle(5000);
    const peak = sampler.stop();
    assert.equal(attacker.status, 431);
    assert.ok(batchesSent < BATCHES / 2, `431 only after ${batchesSent} of ${BATCHES} batches: not early`);
    await attacker.waitForClose(5000);
    assertGrowth('10,000 header fields', baseline, peak, 16 * MIB);
    assert.ok(server.alive);
  });

  test('a 1 GiB header block: cut off at the header-section limit, writer stops on the 431, memory bounded', { timeout: 30_000 }, async (t) => {
    // Fields allowed up to 100,000 so the section limit (256 KiB), not the count, is what cuts.
    const { server, baseline } = await startWarm({ limitRequestFields: 100_000 });
    const attacker = await Attacker.connect(server.port);
    t.after(() => attacker.destroy());
    const sampler = server.sample();
    await attacker.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const field = `X-Big: ${'v'.repeat(8000)}\r\n`;
    const block = Buffer.from(field.repeat(8), 'latin1'); // 64 KiB per write
    const GIB = 1024 * MIB;
    const deadline = Date.now() + 15_000;
    while (!attacker.stopped && attacker.sent < GIB && Date.now() < deadline) await attacker.write(block);
    await attacker.settle(5000);
    const peak = sampler.stop();
    assert.equal(attacker.status, 431, `expected 431, sent ${mib(attacker.sent)}, got ${JSON.stringify(attacker.received.toString('latin1', 0, 60))}`);
    assert.ok(attacker.sent < 64 * MIB, `kept sending ${mib(attacker.sent)}: the server read far past its 256 KiB section limit`);
    await attacker.waitForClose(5000);
    assertGrowth(`1 GiB header block (stopped after ${mib(attacker.sent)})`, baseline, peak, 16 * MIB);
    assert.ok(server.alive);
  });

  test('a chunked body of a million 1-byte chunks: served, the app reads every byte, memory bounded', { timeout: 30_000 }, async (t) => {
    const { server, baseline } = await startWarm({});
    const attacker = await Attacker.connect(server.port);
    t.after(() => attacker.destroy());
    const sampler = server.sample();
    await attacker.write('POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
    const CHUNKS = 1_000_000;
    const piece = Buffer.from('1\r\nx\r\n'.repeat(100_000), 'latin1'); // 100,000 chunks per write
    for (let i = 0; i < CHUNKS / 100_000; i++) await attacker.write(piece);
    await attacker.write('0\r\n\r\n');
    await attacker.waitForClose(20_000);
    const peak = sampler.stop();
    const text = attacker.received.toString('latin1');
    assert.equal(attacker.status, 200, text.slice(0, 200));
    const answer = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { bytes: number; chunks: number };
    assert.equal(answer.bytes, CHUNKS, 'every body byte reached the app');
    // The parser gathers small chunks (parser.ts SMALL_CHUNK): the app pays per socket read, not per chunk.
    assert.ok(answer.chunks < CHUNKS / 100, `the app needed ${answer.chunks} reads for ${CHUNKS} one-byte chunks`);
    assertGrowth(`a million 1-byte chunks (the app saw them in ${answer.chunks} reads)`, baseline, peak, 64 * MIB);
  });

  test('a never-ending chunked body past --max-body-size (1 MiB): 413 and close, writer stops, memory bounded', { timeout: 30_000 }, async (t) => {
    const { server, baseline } = await startWarm({ maxBodySize: MIB });
    const attacker = await Attacker.connect(server.port);
    t.after(() => attacker.destroy());
    const sampler = server.sample();
    await attacker.write('POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
    const data = Buffer.alloc(64 * 1024, 0x7a);
    const chunk = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const deadline = Date.now() + 15_000;
    while (!attacker.stopped && attacker.sent < 256 * MIB && Date.now() < deadline) await attacker.write(chunk);
    await attacker.settle(5000);
    const peak = sampler.stop();
    assert.equal(attacker.status, 413, `expected 413, sent ${mib(attacker.sent)}`);
    assert.ok(attacker.sent < 64 * MIB, `kept sending ${mib(attacker.sent)} past a 1 MiB limit`);
    await attacker.waitForClose(5000);
    assertGrowth(`never-ending chunked body (stopped after ${mib(attacker.sent)})`, baseline, peak, 32 * MIB);
    assert.ok(server.alive);
  });

  test('10,000 idle connections (sized to ulimit -n): all accepted without a crash, memory bounded, then reaped by the keep-alive timeout', { timeout: 45_000 }, async (t) => {
    // The test process holds one fd per client socket and the server child one per accepted
    // socket, each within its own `ulimit -n` (both inherit this one; the hard limit cannot be
    // raised from here). 20,000 on the machine this was written on: room for 10,000.
    const limit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || 1024;
    const count = Math.min(10_000, limit - 500);
    if (count < 1000) { t.skip(`ulimit -n is ${limit}: too low for a meaningful run`); return; }
    const KEEP_ALIVE = 8;
    const { server, baseline } = await startWarm({ keepAlive: KEEP_ALIVE, headersTimeout: KEEP_ALIVE, backlog: 2048 });
    const sampler = server.sample();
    const sockets: HostileSocket[] = [];
    t.after(() => { for (const s of sockets) s.destroy(); });
    const openedAt = Date.now();
    for (let i = 0; i < count; i += 500) sockets.push(...await openMany(server.port, Math.min(500, count - i), 250));
    const openedIn = Date.now() - openedAt;
    // All accepted and still held (the server has not cut any before the keep-alive timeout).
    assert.equal(sockets.length, count);
    if (openedIn < KEEP_ALIVE * 1000 - 1000) assert.equal(sockets.filter((s) => s.closed).length, 0, 'connections closed before their keep-alive timeout');
    // Serving goes on with all of them open.
    assert.equal(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), 'ok');
    const peak = sampler.stop();
    assertGrowth(`${count} idle connections (opened in ${openedIn} ms; ulimit -n ${limit})`, baseline, peak, 200 * MIB);

    await allClosed(sockets, KEEP_ALIVE * 1000 + 15_000, 'idle connections');
    assert.deepEqual(sockets.filter((s) => s.received !== '').length, 0, 'reaped without a byte');
    assert.ok(server.alive, 'the server survived');
    assert.equal(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), 'ok');
  });
});
