/*
 * systemd's notify protocol as a Type=notify service manager sees it, with the real `serve`
 * bin under every engine and no systemd: the test owns the NOTIFY_SOCKET, a unix datagram
 * socket bound by a tiny python3 receiver (Node has no unix datagram sockets) that prints each
 * datagram as a JSON line stamped with CLOCK_MONOTONIC. The receiver answers systemd-notify's
 * BARRIER=1 the way systemd does (it closes the descriptor that comes with it) and does not
 * report it.
 *
 * Asserted: READY=1 (with MAINPID) comes first, and the server serves at once when it does;
 * RELOADING=1 (MONOTONIC_USEC on the same clock) then READY=1 around a HUP, READY=1 again after a
 * failed reload; STOPPING=1 on TERM; STATUS= lines; WATCHDOG=1 every half WATCHDOG_USEC, none
 * while the master's event loop is blocked, none when WATCHDOG_PID names another process; the
 * app never sees the variables; without systemd-notify the server says so and serves on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ServeProcess, tempDir } from './kit/index.js';

const APP = `export default async function app(request) {
  if (request.path === '/busy') { const end = Date.now() + 2500; while (Date.now() < end) { /* blocks this loop */ } }
  return { status: 200, headers: [['content-type', 'application/json']],
    body: JSON.stringify({ notify: process.env.NOTIFY_SOCKET ?? null, watchdog: process.env.WATCHDOG_USEC ?? null }) };
}
`;

const ENGINE_ARGS: Record<string, string[]> = {
  single: ['--engine', 'single'],
  prefork: ['--engine', 'prefork', '--workers', '2'],
  threaded: ['--engine', 'threaded', '--threads', '2'],
  hybrid: ['--engine', 'hybrid', '--workers', '2', '--threads', '2'],
};

const RECEIVER = `
import array, json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data, ancillary, _flags, _address = s.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
    at = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    text = data.decode()
    if text != "BARRIER=1":
        print(json.dumps({"usec": at, "text": text}), flush=True)
`;

interface Datagram {
  /** CLOCK_MONOTONIC at receipt, in microseconds. */
  readonly usec: number;
  readonly fields: ReadonlyMap<string, string>;
}

/** The test's NOTIFY_SOCKET: every datagram the server sent, in order of receipt. */
class NotifySocket {
  readonly path: string;
  readonly datagrams: Datagram[] = [];
  readonly #child: ChildProcess;
  readonly #bound: Promise<void>;
  #waiters: Array<() => void> = [];
  #stderr = '';

  constructor(dir: string) {
    this.path = path.join(dir, 'notify.sock');
    this.#child = spawn('python3', ['-c', RECEIVER, this.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stderr!.on('data', (data: Buffer) => { this.#stderr += data; });
    this.#bound = new Promise((resolve, reject) => {
      this.#child.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code === 'ENOENT'
        ? 'python3 is not installed: this test receives NOTIFY_SOCKET datagrams with a python3 receiver (Node has no unix datagram sockets); install python3'
        : `the python3 receiver did not start: ${error.message}`)));
      this.#child.on('close', (code) => reject(new Error(`the python3 receiver exited (${code}): ${this.#stderr}`)));
      readline.createInterface({ input: this.#child.stdout! }).on('line', (line) => {
        const record = JSON.parse(line) as { bound?: true; usec?: number; text?: string };
        if (record.bound) { resolve(); return; }
        const fields = new Map(record.text!.split('\n').map((assignment) => {
          const at = assignment.indexOf('=');
          return [assignment.slice(0, at), assignment.slice(at + 1)] as [string, string];
        }));
        this.datagrams.push({ usec: record.usec!, fields });
        for (const waiter of this.#waiters.splice(0)) waiter();
      });
    });
  }

  bound(): Promise<void> {
    return this.#bound;
  }

  /** The messages other than watchdog pings. */
  events(): Datagram[] {
    return this.datagrams.filter((d) => !d.fields.has('WATCHDOG'));
  }

  pings(): Datagram[] {
    return this.datagrams.filter((d) => d.fields.has('WATCHDOG'));
  }

  /** Waits for the n-th (0-based) non-ping message. */
  event(n: number, timeoutMs = 30_000): Promise<Datagram> {
    return this.until(`message #${n}`, () => this.events()[n], timeoutMs);
  }

  /** Re-checked on every datagram and at most every 50 ms; fails after timeoutMs. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`no ${what} on NOTIFY_SOCKET within ${timeoutMs} ms; got ${JSON.stringify(this.datagrams.map((d) => [...d.fields]))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  close(): void {
    this.#child.kill('SIGKILL');
  }
}

function monotonicUsec(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function servingUrl(ready: Datagram): string {
  const match = /^serving on (http:\/\/[^ ,]+)/.exec(ready.fields.get('STATUS') ?? '');
  assert.ok(match, `READY=1 carries STATUS=serving on URL: ${JSON.stringify([...ready.fields])}`);
  return match[1]!;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: response.status, body: await response.json() };
}

function gapsMs(datagrams: readonly Datagram[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < datagrams.length; i++) gaps.push((datagrams[i]!.usec - datagrams[i - 1]!.usec) / 1000);
  return gaps;
}

async function start(t: { after(fn: () => unknown): void }, args: string[], env: Record<string, string> = {}): Promise<{ notify: NotifySocket; serve: ServeProcess; dir: string }> {
  const dir = tempDir({ 'app.mjs': APP });
  const notify = new NotifySocket(dir);
  t.after(() => notify.close());
  await notify.bound();
  const serve = new ServeProcess([...args, '--bind', '127.0.0.1:0', 'app.mjs'], { cwd: dir, env: { NOTIFY_SOCKET: notify.path, ...env } });
  t.after(() => serve.dispose());
  return { notify, serve, dir };
}

for (const [engine, args] of Object.entries(ENGINE_ARGS)) {
  test(`${engine}: READY=1 when serving, RELOADING=1/READY=1 around HUP, STOPPING=1 on TERM, watchdog every half WATCHDOG_USEC`, { timeout: 90_000 }, async (t) => {
    const { notify, serve } = await start(t, args, { WATCHDOG_USEC: '1000000' });

    const ready = await notify.event(0);
    assert.equal(ready.fields.get('READY'), '1');
    assert.equal(ready.fields.get('MAINPID'), String(serve.child.pid), 'MAINPID names the master');
    assert.equal(notify.datagrams[0], ready, 'nothing is sent before READY=1');
    // Probed the moment READY=1 arrives: the first generation already serves.
    const url = servingUrl(ready);
    assert.deepEqual(await getJson(url), { status: 200, body: { notify: null, watchdog: null } }, 'served at READY=1, and the app does not see the variables');
    if (engine !== 'single') assert.match(ready.fields.get('STATUS')!, /, 2 (workers|threads), generation 1\)$/);

    // Watchdog: WATCHDOG_USEC=1 s, so a ping about every 0.5 s and never a gap systemd would kill for.
    await notify.until('five pings', () => notify.pings().filter((p) => p.usec > ready.usec).length >= 5);
    const gaps = gapsMs([ready, ...notify.pings().filter((p) => p.usec > ready.usec)]);
    const sorted = [...gaps].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    assert.ok(median > 350 && median < 750, `pings about every 500 ms: gaps ${gaps.join(', ')}`);
    assert.ok(Math.max(...gaps) < 1000, `no gap reaches WATCHDOG_USEC: gaps ${gaps.join(', ')}`);

    const hupAt = monotonicUsec();
    serve.kill('SIGHUP');
    const reloading = await notify.event(1);
    assert.equal(reloading.fields.get('RELOADING'), '1');
    assert.equal(reloading.fields.get('STATUS'), 'reloading');
    const stamp = Number(reloading.fields.get('MONOTONIC_USEC'));
    assert.ok(stamp >= hupAt && stamp <= reloading.usec, `MONOTONIC_USEC ${stamp} is CLOCK_MONOTONIC between the HUP (${hupAt}) and receipt (${reloading.usec})`);
    const reloaded = await notify.event(2);
    assert.equal(reloaded.fields.get('READY'), '1');
    assert.equal(reloaded.fields.has('MAINPID'), false);
    assert.match(reloaded.fields.get('STATUS')!, /generation 2\)$/);
    assert.equal((await getJson(url)).status, 200);

    serve.kill('SIGTERM');
    const stopping = await notify.event(3);
    assert.equal(stopping.fields.get('STOPPING'), '1');
    assert.equal(stopping.fields.get('STATUS'), 'stopping (graceful)');
    assert.equal((await serve.exited).code, 0);
    assert.equal(notify.events().length, 4, `exactly READY, RELOADING, READY, STOPPING: ${JSON.stringify(notify.events().map((d) => [...d.fields]))}`);
  });
}

test('TTIN and TTOU: a STATUS= line with the new number of workers', { timeout: 60_000 }, async (t) => {
  const { notify, serve } = await start(t, ENGINE_ARGS.prefork!);
  assert.match((await notify.event(0)).fields.get('STATUS')!, /, 2 workers, generation 1\)$/);
  serve.kill('SIGTTIN');
  assert.match((await notify.event(1)).fields.get('STATUS')!, /, 3 workers, generation 1\)$/);
  serve.kill('SIGTTOU');
  const down = await notify.event(2);
  assert.deepEqual([...down.fields.keys()], ['STATUS']);
  assert.match(down.fields.get('STATUS')!, /, 2 workers, generation 1\)$/);
  serve.kill('SIGTERM');
  assert.equal((await serve.exited).code, 0);
});

test('no WATCHDOG=1 while the master\'s event loop is blocked (single engine: the app runs on it)', { timeout: 60_000 }, async (t) => {
  const { notify, serve } = await start(t, ENGINE_ARGS.single!, { WATCHDOG_USEC: '1000000' });
  const url = servingUrl(await notify.event(0));
  const before = notify.pings().length;
  await notify.until('two pings', () => notify.pings().length >= before + 2);
  const sentAt = monotonicUsec();
  assert.equal((await getJson(`${url}/busy`)).status, 200);
  const answeredAt = monotonicUsec();
  await notify.until('a ping after the block', () => notify.pings().some((p) => p.usec > answeredAt));
  // One ping may have left just before the loop blocked (its sender is a separate process); no other can.
  const during = notify.pings().filter((p) => p.usec > sentAt && p.usec < answeredAt);
  assert.ok(during.length <= 1, `at most one ping while blocked for 2.5 s, got ${during.length}`);
  const gaps = gapsMs(notify.pings());
  assert.ok(Math.max(...gaps) >= 2000, `the blocked loop left a gap of 2 s or more: ${gaps.join(', ')}`);
  serve.kill('SIGTERM');
  assert.equal((await serve.exited).code, 0);
});

test('WATCHDOG_PID naming another process: no pings; READY=1 still sent', { timeout: 60_000 }, async (t) => {
  const { notify, serve } = await start(t, ENGINE_ARGS.single!, { WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' });
  const url = servingUrl(await notify.event(0));
  await new Promise((resolve) => setTimeout(resolve, 1000)); // ten watchdog intervals
  assert.equal((await getJson(url)).status, 200);
  assert.equal(notify.pings().length, 0);
  serve.kill('SIGTERM');
  assert.equal((await notify.event(1)).fields.get('STOPPING'), '1');
  assert.equal((await serve.exited).code, 0);
});

test('a reload whose new code fails: RELOADING=1, then READY=1 saying the previous version serves', { timeout: 60_000 }, async (t) => {
  const { notify, serve, dir } = await start(t, ENGINE_ARGS.prefork!);
  const url = servingUrl(await notify.event(0));
  fs.writeFileSync(path.join(dir, 'app.mjs'), 'export default (;');
  serve.kill('SIGHUP');
  assert.equal((await notify.event(1)).fields.get('RELOADING'), '1');
  const after = await notify.event(2);
  assert.equal(after.fields.get('READY'), '1', 'systemd leaves the reloading state');
  assert.match(after.fields.get('STATUS')!, /^reload failed, the previous version is serving: .*SyntaxError/);
  assert.equal((await getJson(url)).status, 200);
  serve.kill('SIGTERM');
  assert.equal((await serve.exited).code, 0);
});

test('without systemd-notify on PATH: one clear error line, and the server serves on', { timeout: 60_000 }, async (t) => {
  const empty = tempDir();
  const { notify, serve } = await start(t, ENGINE_ARGS.single!, { PATH: empty });
  const url = (await serve.ready).addresses[0]!;
  const record = await serve.event('systemd-notify-failed');
  assert.match(record.msg, /ERR_SYSTEMD_NOTIFY.*systemd-notify is not installed/);
  assert.equal((await getJson(url)).status, 200);
  assert.equal(notify.datagrams.length, 0);
  serve.kill('SIGTERM');
  assert.equal((await serve.exited).code, 0);
});
