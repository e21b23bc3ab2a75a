/*
 * The control command against a real running `serve`, under every engine: `serve status`
 * (JSON and the table), `serve reload`, `serve scale`, `serve stop`, each a separate `serve`
 * process finding the server's socket from the same --pid the server was started with. Then
 * the socket's own rules: mode 0600, a live socket refuses a second server by name, a stale one
 * is replaced, a file that is not a socket is never deleted, and a client with no server or no
 * socket configured gets one line and its exit code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ServeProcess, runServe, tempDir } from './kit/index.js';

const APP = (version: string) => `export default function app(request) {
  return { status: 200, headers: [['content-type', 'text/plain']], body: '${version} ' + request.path };
}
`;

const ENGINES: Record<string, { args: string[]; units: number; scales: boolean }> = {
  single: { args: ['--engine', 'single'], units: 1, scales: false },
  prefork: { args: ['--engine', 'prefork', '--workers', '2'], units: 2, scales: true },
  threaded: { args: ['--engine', 'threaded', '--threads', '2'], units: 2, scales: true },
  hybrid: { args: ['--engine', 'hybrid', '--workers', '1', '--threads', '2'], units: 1, scales: true },
};

interface Unit { kind: 'process' | 'thread'; pid?: number; threadId?: number; state: string; generation: number; requests: number; inFlight: number; memory: number; startedAt: number; children?: Unit[] }
interface Status { engine: string; pid: number; generation: number; units: Unit[]; restarts: Record<string, number>; now: number; startedAt: number }

async function status(dir: string): Promise<Status> {
  const result = await runServe(['status', '--json', '--pid', 'serve.pid'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Status;
}

const live = (doc: Status) => doc.units.filter((u) => u.state === 'ready' || u.state === 'booting');
const served = (doc: Status) => doc.units.reduce((sum, u) => sum + u.requests, 0);

async function text(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200);
  return response.text();
}

function start(dir: string, args: string[]): ServeProcess {
  return new ServeProcess(['app.js', '--bind', '127.0.0.1:0', '--pid', 'serve.pid', ...args], { cwd: dir });
}

for (const [engine, { args, units, scales }] of Object.entries(ENGINES)) {
  describe(`control command: ${engine}`, { timeout: 90_000 }, () => {
    it('status, reload, scale and stop a running server over its 0600 socket', async (t) => {
      const dir = tempDir({ 'app.js': APP('v1') });
      const serve = start(dir, args);
      t.after(() => serve.dispose());
      const ready = await serve.ready;
      const socket = path.join(dir, 'serve.pid.sock');
      assert.equal((await fs.promises.stat(socket)).mode & 0o777, 0o600, 'the control socket is 0600');

      const first = await status(dir);
      assert.equal(first.engine, engine);
      assert.equal(first.pid, ready.pid);
      assert.equal(live(first).length, units, JSON.stringify(first.units));
      for (const unit of first.units) {
        // A thread's heap arrives with its first heartbeat; a process's RSS is there from the start.
        assert.ok(unit.pid! > 0 && unit.startedAt <= first.now && (unit.kind === 'thread' || unit.memory > 0), JSON.stringify(unit));
        assert.equal(unit.inFlight, 0);
      }
      assert.ok(first.startedAt <= first.now && first.now - first.startedAt < 120_000);

      for (let i = 0; i < 5; i++) assert.equal(await text(`${ready.addresses[0]}/n${i}`), `v1 /n${i}`);
      // Process units report their counts with each heartbeat: wait for them, bounded.
      let after = await status(dir);
      for (const deadline = Date.now() + 20_000; served(after) < served(first) + 5 && Date.now() < deadline;) after = await status(dir);
      assert.ok(served(after) >= served(first) + 5, `requests served went from ${served(first)} to ${served(after)}, not up by 5`);
      // A hybrid process reports its app threads with the same heartbeat as its counts.
      if (engine === 'hybrid') assert.equal(after.units[0]!.children?.length, 2, 'the app threads are listed under their process');

      const table = await runServe(['status', '--pid', 'serve.pid'], { cwd: dir });
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, new RegExp(`^gatehouse ${engine}, pid ${ready.pid}, generation 1`));
      assert.match(lines[1]!, /^UNIT +KIND +PID\/THREAD +GEN +STATE +UPTIME +REQUESTS +IN-FLIGHT +MEMORY/);
      assert.match(lines.at(-1)!, /^restarts: crash 0, timeout 0/);
      for (const line of lines) assert.ok(line.length <= 100, `wider than 100 columns: ${line}`);

      fs.writeFileSync(path.join(dir, 'app.js'), APP('v2'));
      const reload = await runServe(['reload', '--pid', 'serve.pid'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(reload.code, 0, reload.stderr);
      assert.match(reload.stdout, /^reloaded: generation 2 is serving/);
      assert.equal(await text(`${ready.addresses[0]}/after`), 'v2 /after');
      assert.equal((await status(dir)).generation, 2);

      const scale = await runServe(['scale', '+1', '--pid', 'serve.pid'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(scale.code, 0, scale.stderr);
      if (scales) {
        assert.equal(scale.stdout.trim(), `units: ${units} -> ${units + 1}`);
        assert.equal(live(await status(dir)).length, units + 1);
      } else {
        assert.match(scale.stdout, /^units: 1 -> 1 \(unchanged/);
      }

      const stop = await runServe(['stop', '--pid', 'serve.pid'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(stop.stdout, `stopping server pid ${ready.pid}\nstopped\n`);
      assert.equal((await serve.exited).code, 0, serve.stderr);
      assert.equal(fs.existsSync(socket), false, 'the socket is removed on exit');
      assert.ok(serve.records.some((r) => r.event === 'stop' && r.graceful === true), 'the stop went through the same path as TERM');
    });
  });
}

describe('control socket rules', { timeout: 60_000 }, () => {
  it('a second server on a live control socket refuses, naming the running pid; the first serves on', async (t) => {
    const dir = tempDir({ 'app.js': APP('v1') });
    const serve = start(dir, ['--engine', 'single']);
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    const second = await runServe(['app.js', '--engine', 'single', '--bind', '127.0.0.1:0', '--control-socket', 'serve.pid.sock'], { cwd: dir });
    assert.equal(second.code, 1);
    assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`ERR_CONTROL_SOCKET_IN_USE: .*serve\\.pid\\.sock: server pid ${ready.pid} is listening on it`));
    assert.equal((await status(dir)).pid, ready.pid);
  });

  it('a socket left by a server that died is replaced; a file that is not a socket is refused and kept', async (t) => {
    const dir = tempDir({ 'app.js': APP('v1'), 'not-a-socket': 'keep me' });
    const stale = path.join(dir, 'ctl.sock');
    // A process that exits while listening leaves its socket file behind, as a crashed server does.
    const left = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`]);
    assert.equal(left.status, 0);
    assert.ok(fs.existsSync(stale));
    const serve = new ServeProcess(['app.js', '--engine', 'single', '--bind', '127.0.0.1:0', '--control-socket', 'ctl.sock'], { cwd: dir });
    t.after(() => serve.dispose());
    const ready = await serve.ready;
    const result = await runServe(['status', '--json', '--control-socket', 'ctl.sock'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as Status).pid, ready.pid);

    const fast = await runServe(['stop', '--fast', '--control-socket', 'ctl.sock'], { cwd: dir });
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal((await serve.exited).code, 0);
    assert.ok(serve.records.some((r) => r.event === 'stop' && r.graceful === false), 'stop --fast is the fast stop INT makes');
    assert.equal(fs.existsSync(stale), false);

    const refused = await runServe(['app.js', '--engine', 'single', '--bind', '127.0.0.1:0', '--control-socket', 'not-a-socket'], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ERR_CONTROL_SOCKET: .*not-a-socket exists and is not a socket/);
    assert.equal(fs.readFileSync(path.join(dir, 'not-a-socket'), 'utf8'), 'keep me');
  });

  it('a request the server cannot read gets ERR_CONTROL_REQUEST, and the server goes on', async (t) => {
    const dir = tempDir({ 'app.js': APP('v1') });
    const serve = start(dir, ['--engine', 'single']);
    t.after(() => serve.dispose());
    await serve.ready;
    for (const request of ['{"v":1,"command":"launch"}', '{"v":99,"command":"status"}', 'not json', '{"v":1,"command":"scale","delta":0}']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(path.join(dir, 'serve.pid.sock'), () => socket.end(request));
        let data = '';
        socket.on('data', (chunk) => { data += chunk; }).on('end', () => resolve(data)).on('error', reject);
      });
      const parsed = JSON.parse(answer) as { ok: boolean; error: { code: string } };
      assert.deepEqual([parsed.ok, parsed.error.code], [false, 'ERR_CONTROL_REQUEST'], `${request} -> ${answer}`);
    }
    assert.equal((await status(dir)).units.length, 1);
  });

  it('no server, no socket configured, a path too long or a bad count: one line and the exit code', async () => {
    const dir = tempDir();
    const none = await runServe(['status', '--pid', 'serve.pid'], { cwd: dir });
    assert.equal(none.code, 1);
    assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
    assert.match(none.stderr, new RegExp(`^serve status: ERR_CONTROL_NO_SERVER: .*${path.join(dir, 'serve.pid.sock').replace(/[.]/g, '\\.')}: no such socket\\. Start one`));
    assert.equal(none.stdout, '');

    const unset = await runServe(['reload'], { cwd: dir });
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /^serve reload: ERR_CONTROL_NOT_CONFIGURED: .*--control-socket PATH or --pid FILE/);

    const off = await runServe(['status', '--pid', 'serve.pid', '--control-socket', 'off'], { cwd: dir });
    assert.equal(off.code, 2);
    assert.match(off.stderr, /the control socket is off/);

    for (const count of ['x', '0', '+0']) {
      const bad = await runServe(['scale', count, '--pid', 'serve.pid'], { cwd: dir });
      assert.equal(bad.code, 2, `scale ${count}`);
      assert.match(bad.stderr, /^serve scale: ERR_CONTROL_USAGE: /);
    }
    // A longer unix socket path would be cut short by the kernel without an error.
    const long = `${'d'.repeat(60)}/${'s'.repeat(60)}.sock`;
    const tooLong = await runServe(['status', '--control-socket', long], { cwd: dir });
    assert.equal(tooLong.code, 2);
    assert.match(tooLong.stderr, /ERR_CONTROL_SOCKET: .* bytes; a unix socket path may have 100/);
    fs.writeFileSync(path.join(dir, 'app.js'), APP('v1'));
    const server = await runServe(['app.js', '--engine', 'single', '--bind', '127.0.0.1:0', '--control-socket', long], { cwd: dir });
    assert.equal(server.code, 1);
    assert.match(server.stderr, /ERR_CONTROL_SOCKET: .* bytes; a unix socket path may have 100/);

    const tcp = await runServe(['status', '--control-socket', '127.0.0.1:9000'], { cwd: dir });
    assert.equal(tcp.code, 2);
    assert.match(tcp.stderr, /never TCP/);
  });
});
