/*
 * The whole server at its edges, under every engine, through the real `serve` bin over
 * loopback: running out of file descriptors (a lowered `ulimit -n`), connections and signals
 * that arrive while it is still starting, and the listen backlog the kernel really applies.
 * The descriptor and backlog tests read /proc (Linux): elsewhere they are skipped, saying so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HELLO_APP, ServeProcess, tempDir, type LogRecord } from './kit/index.js';

const ENGINES = ['single', 'prefork', 'threaded', 'hybrid'] as const;
const UNITS = ['--workers', '2', '--threads', '2'];
const LINUX = process.platform === 'linux' ? false : 'reads /proc (Linux only)';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET on a fresh connection: the status code, or what happened instead ('timeout', 'closed', an errno code). */
function get(port: number, timeoutMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (result: number | string) => { clearTimeout(timer); socket.destroy(); resolve(result); };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n'));
    socket.on('data', (data: Buffer) => {
      text += data;
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (status && text.includes('\r\n\r\n')) done(Number(status[1]));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done('closed'));
  });
}

/** A keep-alive connection that sends one GET at a time and reads its whole response. */
class KeepAlive {
  #text = '';
  #wake: (() => void) | null = null;
  #closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => { this.#text += data; this.#wake?.(); });
    socket.on('close', () => { this.#closed = true; this.#wake?.(); });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<KeepAlive> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new KeepAlive(socket)));
      socket.once('error', reject);
    });
  }

  async get(timeoutMs = 5000): Promise<number | string> {
    this.#text = '';
    this.socket.write('GET / HTTP/1.1\r\nhost: t\r\n\r\n');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = this.#text.indexOf('\r\n\r\n');
      if (head !== -1) {
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(this.#text.slice(0, head))?.[1] ?? 0);
        if (this.#text.length >= head + 4 + length) return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.#text)?.[1]);
      }
      if (this.#closed) return 'closed';
      if (Date.now() > deadline) return 'timeout';
      await new Promise<void>((resolve) => { this.#wake = resolve; setTimeout(resolve, 50); });
    }
  }

  close(): void { this.socket.destroy(); }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A port free a moment ago, for tests that must reach the server before it reports its address. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The worker processes a master forked (Linux: /proc/PID/task/PID/children). */
function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).sort();
  } catch {
    return [];
  }
}

/** Log records of a worker process or app thread going down (any reason). */
function unitsDown(records: readonly LogRecord[]): LogRecord[] {
  return records.filter((r) => typeof r.unitKind === 'string' && typeof r.reason === 'string');
}

/** An engine's diagnostics event, as the CLI logs it (`engineEvent`), after record `from`. */
function engineEvent(serve: ServeProcess, name: string, from: number): Promise<LogRecord> {
  return serve.until(`engine event "${name}"`, () => serve.records.slice(from).find((r) => r.engineEvent === name), 10_000);
}

describe('out of file descriptors (ulimit -n 128, 400 connections)', { timeout: 300_000, skip: LINUX }, () => {
  const DESCRIPTOR_EVENTS = new Set(['descriptors-exhausted', 'descriptors-available', 'accept-failed']);

  for (const engine of ENGINES) {
    it(`${engine}: no unit dies, open connections are served, at most one line a second per process, new ones served once descriptors are free`, async (t) => {
      const dir = tempDir({ 'app.js': HELLO_APP });
      // Long idle timeouts: the flood and the keep-alive connection stay open until the test closes them.
      const serve = new ServeProcess(['app.js', '--engine', engine, ...UNITS, '--bind', '127.0.0.1:0', '--keep-alive', '60', '--headers-timeout', '60'], { cwd: dir, fileLimit: 128 });
      t.after(() => serve.dispose());
      const ready = await serve.ready;
      const port = portOf(ready.addresses[0]!);
      const units = childPids(ready.pid);
      const keepAlive = await KeepAlive.open(port);
      t.after(() => keepAlive.close());
      assert.equal(await keepAlive.get(), 200);

      const from = serve.records.length;
      const flood: net.Socket[] = [];
      t.after(() => { for (const socket of flood) socket.destroy(); });
      let closedByServer = 0;
      for (let i = 0; i < 400; i++) {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => { closedByServer++; });
        flood.push(socket);
        if (i % 25 === 24) await sleep(20);
      }
      await engineEvent(serve, 'descriptors-exhausted', from);
      assert.ok(closedByServer > 0, 'the flood reached the limit: some connections were closed as they arrived');
      assert.equal(await keepAlive.get(), 200, 'a connection opened before the flood is still served');
      await sleep(2500); // the probe runs while the flood holds every descriptor
      assert.equal(await keepAlive.get(), 200);

      for (const socket of flood) socket.destroy();
      let after: number | string = 'not tried';
      for (const deadline = Date.now() + 15_000; after !== 200 && Date.now() < deadline; await sleep(100)) after = await get(port, 2000);
      assert.equal(after, 200, 'a new connection is served once the flood is gone');
      await engineEvent(serve, 'descriptors-available', from);

      assert.equal(serve.child.exitCode, null);
      assert.deepEqual(childPids(ready.pid), units, 'the same worker processes');
      assert.deepEqual(unitsDown(serve.records), [], 'no worker process or app thread went down');
      const lines = serve.records.slice(from).filter((r) => DESCRIPTOR_EVENTS.has(String(r.engineEvent)));
      const byPid = new Map<unknown, number[]>();
      for (const r of lines) byPid.set(r.pid, [...(byPid.get(r.pid) ?? []), Date.parse(String(r.time))]);
      for (const [pid, times] of byPid) {
        for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 1000, `pid ${pid} logged twice within a second: ${times.join(', ')}`);
      }
      const emfileText = serve.stderr.split('\n').filter((line) => line.includes('EMFILE'));
      assert.equal(emfileText.length, lines.filter((r) => r.engineEvent === 'descriptors-exhausted').length, `only the one-line warnings mention EMFILE:\n${emfileText.join('\n')}`);

      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0);
    });
  }
});

/** An app whose import takes two seconds, as a large app's does; it leaves a file `loaded` beside itself once loaded. */
const SLOW_IMPORT_APP = `import fs from 'node:fs';
await new Promise((resolve) => setTimeout(resolve, 2000));
fs.writeFileSync(new URL('./loaded', import.meta.url), '');
${HELLO_APP}`;

describe('connections that arrive while the app is still loading', { timeout: 300_000 }, () => {
  // --sticky: the prefork master accepts them itself and waits for a ready worker.
  const runs = [...ENGINES.map((engine) => [engine]), ['prefork', '--sticky'], ['hybrid', '--sticky']];
  for (const [engine, ...flags] of runs) {
    it(`${[engine, ...flags].join(' ')}: the port accepts before the app is loaded, and 30 connections, 10 ms apart from then, are all answered`, async (t) => {
      const dir = tempDir({ 'app.js': SLOW_IMPORT_APP });
      const port = await freePort();
      const serve = new ServeProcess(['app.js', '--engine', engine!, ...flags, ...UNITS, '--bind', `127.0.0.1:${port}`], { cwd: dir });
      t.after(() => serve.dispose());
      for (const deadline = Date.now() + 20_000; ; await sleep(10)) {
        const accepted = await new Promise<boolean>((resolve) => {
          const probe = net.connect(port, '127.0.0.1', () => { probe.destroy(); resolve(true); });
          probe.on('error', () => resolve(false));
        });
        if (accepted) break;
        assert.ok(Date.now() < deadline, `port ${port} never accepted; stderr:\n${serve.stderr}`);
        assert.equal(serve.child.exitCode, null, `serve exited; stderr:\n${serve.stderr}`);
      }
      assert.equal(fs.existsSync(path.join(dir, 'loaded')), false, 'the port accepts while the app is still loading, not only once it is loaded');
      const answers: Array<Promise<number | string>> = [];
      for (let i = 0; i < 30; i++) {
        answers.push(get(port, 20_000));
        await sleep(10);
      }
      assert.deepEqual(await Promise.all(answers), Array(30).fill(200));
      await serve.ready;
      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0);
    });
  }
});

/**
 * The first unit to load the app boots at once and every other one 1.5 s later, so the server
 * answers well before it is ready: per thread under `threaded`, per process otherwise (a
 * hybrid process is ready only when all its threads are).
 */
function staggeredApp(dir: string, per: 'thread' | 'process'): string {
  const key = per === 'thread' ? `threadId` : `process.pid`;
  return `import fs from 'node:fs';
import { threadId } from 'node:worker_threads';
const claim = ${JSON.stringify(path.join(dir, 'first'))};
try { fs.writeFileSync(claim, String(${key}), { flag: 'wx' }); } catch {}
if (fs.readFileSync(claim, 'utf8') !== String(${key})) await new Promise((resolve) => setTimeout(resolve, 1500));
${HELLO_APP}`;
}

describe('a signal right after the first response, before ready', { timeout: 300_000 }, () => {
  for (const engine of ENGINES) {
    for (const signal of ['SIGHUP', 'SIGUSR1'] as const) {
      it(`${engine}: ${signal} does not kill the server, which goes on serving`, async (t) => {
        const dir = tempDir();
        fs.writeFileSync(path.join(dir, 'app.js'), staggeredApp(dir, engine === 'threaded' ? 'thread' : 'process'));
        const port = await freePort();
        const serve = new ServeProcess(['app.js', '--engine', engine, ...UNITS, '--bind', `127.0.0.1:${port}`], { cwd: dir });
        t.after(() => serve.dispose());
        let first: number | string = 'not tried';
        for (const deadline = Date.now() + 20_000; first !== 200; await sleep(5)) {
          assert.ok(Date.now() < deadline, `no response; last: ${first}; stderr:\n${serve.stderr}`);
          first = await get(port, 2000);
        }
        serve.kill(signal);
        await serve.ready;
        if (signal === 'SIGHUP') await serve.event('reloaded', 0, 20_000);
        else await serve.until('the USR1 log line', () => serve.records.some((r) => r.event === 'reopen-logs'), 10_000);
        assert.equal(await get(port, 5000), 200);
        assert.equal(serve.child.exitCode, null);
        serve.kill('SIGTERM');
        assert.equal((await serve.exited).code, 0);
      });
    }
  }
});

/** Process state from /proc/PID/stat ('T' when stopped). */
function processState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return 'gone';
  }
}

/** Connects one at a time until a connect takes longer than timeoutMs: how many got in. */
async function connectUntilRefused(port: number, max: number, timeoutMs: number, into: net.Socket[]): Promise<number> {
  for (let i = 0; i < max; i++) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      into.push(socket);
      const timer = setTimeout(() => resolve(false), timeoutMs);
      socket.on('connect', () => { clearTimeout(timer); resolve(true); });
      socket.on('error', () => { clearTimeout(timer); resolve(false); });
    });
    if (!connected) return i;
  }
  return max;
}

describe('--backlog under every engine', { timeout: 300_000, skip: LINUX }, () => {
  const BACKLOG = 8;
  for (const engine of ENGINES) {
    it(`${engine}: with every process stopped, the kernel queues --backlog ${BACKLOG} connections (Linux: backlog + 1), not Node's 511`, async (t) => {
      const dir = tempDir({ 'app.js': HELLO_APP });
      const serve = new ServeProcess(['app.js', '--engine', engine, ...UNITS, '--bind', '127.0.0.1:0', '--backlog', String(BACKLOG)], { cwd: dir });
      t.after(() => serve.dispose());
      const ready = await serve.ready;
      const port = portOf(ready.addresses[0]!);
      assert.equal(await get(port, 5000), 200);
      // Nobody accepts while every process of the server is stopped: what the kernel queues is the backlog.
      const pids = [ready.pid, ...childPids(ready.pid)];
      const sockets: net.Socket[] = [];
      t.after(() => {
        for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
        for (const socket of sockets) socket.destroy();
      });
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      for (const deadline = Date.now() + 5000; !pids.every((pid) => processState(pid) === 'T'); await sleep(10)) {
        assert.ok(Date.now() < deadline, 'the server processes did not stop');
      }
      const queued = await connectUntilRefused(port, BACKLOG * 4, 1000, sockets);
      for (const pid of pids) process.kill(pid, 'SIGCONT');
      assert.ok(queued >= BACKLOG && queued <= BACKLOG + 1, `${queued} connections queued, expected ${BACKLOG} (+1 on Linux)`);
      for (const socket of sockets) socket.destroy();
      assert.equal(await get(port, 5000), 200);
      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0);
    });
  }
});
