/*
 * Socket activation as systemd does it, with the real `serve` (prefork master, 2 workers) and
 * no systemd: systemd is not running here, so a bash process plays its part. It holds the
 * listening socket (the test made it, passed it as fd 3, and closed its own copy), and for
 * each "start" forks, sets LISTEN_FDS=1 and LISTEN_PID to the child's own pid, and execs
 * serve, exactly the environment systemd gives a service of a .socket unit.
 *
 * The claim tested: a restart behind socket activation loses no connection. Under a bounded
 * load loop on loopback (4 clients, a fresh connection per request), the running server gets
 * SIGTERM, and the next one is started only once the first has stopped; connections made in
 * between wait in the kernel's accept queue of the socket bash holds, and are served by the
 * next server. Every request must succeed, and both servers must have answered some.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PREFORK_ENGINE, SERVE_BIN, cleanEnv, requireBuilt, spawnServe } from './kit/serve-bin.js';

const APP = `export default () => ({ status: 200, headers: [['content-type', 'application/json']],
  body: JSON.stringify({ master: process.ppid, listenFds: process.env.LISTEN_FDS ?? null }) });
`;

/** systemd's part: holds fd 3; "start" runs serve with LISTEN_FDS/LISTEN_PID set for it. */
const HOLDER = `
while IFS= read -r command; do
  case "$command" in
    start) ( export LISTEN_FDS=1 LISTEN_PID=$BASHPID; exec "$NODE" "$SERVE" "$@" >/dev/null ) & echo "started $!" ;;
  esac
done
`;

const MAX_REQUESTS = 4000;
const MAX_LOAD_MS = 40_000;

interface LogRecord { pid?: number; event?: string; msg?: string }

function fdOf(server: net.Server): number {
  return (server as unknown as { _handle: { fd: number } })._handle.fd;
}

function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch { return true; }
}

function get(port: number): Promise<{ master: number; listenFds: string | null }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => {
        if (response.statusCode !== 200) { reject(new Error(`status ${response.statusCode}`)); return; }
        resolve(JSON.parse(body));
      });
    });
    request.on('error', reject);
    request.setTimeout(15_000, () => request.destroy(new Error('timed out')));
    request.end();
  });
}

describe('systemd socket activation (emulated): restart under load', { timeout: 90_000 }, () => {
  it('loses no request when the server is stopped and started again on the held socket', async (t) => {
    requireBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-systemd-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'app.mjs'), APP);

    const listener = await new Promise<net.Server>((resolve) => { const s = net.createServer(); s.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, () => resolve(s)); });
    const port = (listener.address() as net.AddressInfo).port;
    const holder = spawn('bash', ['-c', HOLDER, 'holder', 'app.mjs', '--engine', PREFORK_ENGINE, '--workers', '2', '--graceful-timeout', '5'], {
      cwd: dir, env: cleanEnv({ NODE: process.execPath, SERVE: SERVE_BIN }), stdio: ['pipe', 'pipe', 'pipe', fdOf(listener)],
    });
    listener.close(); // bash holds the socket now, as systemd would
    const pids: number[] = [];
    t.after(() => {
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      holder.kill('SIGKILL');
    });

    const records: LogRecord[] = [];
    const started: number[] = [];
    let waiters: Array<() => void> = [];
    const wake = (): void => { for (const w of waiters) w(); waiters = []; };
    let partial = '';
    holder.stderr!.on('data', (data: Buffer) => {
      partial += data;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) { try { records.push(JSON.parse(line) as LogRecord); } catch { /* not JSON */ } }
      wake();
    });
    holder.stdout!.on('data', (data: Buffer) => {
      for (const match of String(data).matchAll(/started (\d+)/g)) started.push(Number(match[1]));
      wake();
    });
    const until = async <T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${records.map((r) => r.msg).join('\n')}`);
        await new Promise<void>((resolve) => { const timer = setTimeout(resolve, 50); waiters.push(() => { clearTimeout(timer); resolve(); }); });
      }
    };
    const startServe = async (): Promise<number> => {
      const count = started.length;
      holder.stdin!.write('start\n');
      const pid = await until('serve to start', () => started[count]);
      pids.push(pid);
      await until(`serve ${pid} to be ready`, () => records.some((r) => r.pid === pid && r.event === 'ready'));
      return pid;
    };

    const first = await startServe();

    // The bounded load: 4 clients, until told to stop, MAX_REQUESTS or MAX_LOAD_MS at most.
    const answeredBy = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    let slowest = 0;
    let stop = false;
    const loadEnds = Date.now() + MAX_LOAD_MS;
    const client = async (): Promise<void> => {
      while (!stop && sent < MAX_REQUESTS && Date.now() < loadEnds) {
        sent++;
        const began = Date.now();
        try {
          const seen = await get(port);
          slowest = Math.max(slowest, Date.now() - began);
          answeredBy.set(seen.master, (answeredBy.get(seen.master) ?? 0) + 1);
          if (seen.listenFds !== null) failures.push('a worker saw LISTEN_FDS');
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);
    await until('requests served by the first server', () => (answeredBy.get(first) ?? 0) >= 50);

    process.kill(first, 'SIGTERM');
    await until('the first server to exit', () => gone(first));
    const second = await startServe();
    await until('requests served by the second server', () => (answeredBy.get(second) ?? 0) >= 50);
    stop = true;
    await load;

    const total = [...answeredBy.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`${sent} requests: ${total} answered (${answeredBy.get(first) ?? 0} by the first server, ${answeredBy.get(second) ?? 0} by the second), ${failures.length} failed; slowest ${slowest} ms (waited in the accept queue across the restart)`);
    assert.deepEqual(failures, []);
    assert.equal(total, sent);
    assert.deepEqual([...answeredBy.keys()].sort(), [first, second].sort());

    process.kill(second, 'SIGTERM');
    await until('the second server to exit', () => gone(second));
  });
});

/**
 * What a supervisor's stop timeout (systemd TimeoutStopSec, Kubernetes
 * terminationGracePeriodSeconds) must be longer than: after SIGTERM, serve finishes requests
 * in flight, cuts those that outlive --graceful-timeout, and exits 0 within it.
 */
const SLOW_APP = `import fs from 'node:fs';
export default async (request) => {
  fs.writeFileSync(request.path.slice(1) + '-started', '');
  await new Promise((resolve) => setTimeout(resolve, request.path === '/slow' ? 60_000 : 500));
  return { status: 200, body: request.path };
};
`;

describe('SIGTERM and --graceful-timeout (what stop timeouts rely on)', { timeout: 60_000 }, () => {
  it('finishes a short request in flight, cuts one that outlives --graceful-timeout, exits 0 within it', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-term-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'app.mjs'), SLOW_APP);
    const graceful = 2;
    const serve = spawnServe(['app.mjs', '--engine', PREFORK_ENGINE, '--workers', '1', '--bind', '127.0.0.1:0', '--graceful-timeout', String(graceful)], { cwd: dir });
    t.after(() => serve.dispose());
    const port = Number(new URL((await serve.ready).addresses[0]!).port);
    const outcome = (urlPath: string) => new Promise<string>((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk) => { body += chunk; });
        response.on('end', () => resolve(`${response.statusCode} ${body}`));
        response.on('error', (error) => resolve(`cut: ${error.message}`));
      });
      request.on('error', (error) => resolve(`cut: ${error.message}`));
    });
    const slow = outcome('/slow');
    const fast = outcome('/fast');
    const deadline = Date.now() + 10_000;
    while (!(fs.existsSync(path.join(dir, 'slow-started')) && fs.existsSync(path.join(dir, 'fast-started')))) {
      if (Date.now() > deadline) throw new Error('the requests never reached the app');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const termAt = Date.now();
    serve.child.kill('SIGTERM');
    assert.equal(await fast, '200 /fast');
    assert.match(await slow, /^cut: /);
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
    const took = Date.now() - termAt;
    t.diagnostic(`exited ${took} ms after SIGTERM with --graceful-timeout ${graceful}`);
    assert.ok(took < (graceful + 5) * 1000, `exited within --graceful-timeout (and a margin for a busy machine): ${took} ms`);
  });
});
