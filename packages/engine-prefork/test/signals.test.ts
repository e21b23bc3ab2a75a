// Signals to a real master process (Gunicorn's meanings): HUP reloads, TTIN/TTOU scale, USR1
// reopens logs, TERM stops gracefully, INT stops fast, and an app that cannot boot makes the
// master exit non-zero with the app's error. The master is test/fixtures/master.mjs (the
// engine plus core's ActionLoop, as the CLI wires them); the last test runs the real CLI.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineStats } from '@gatehouse/core';
import { fixture, get, isAlive, until } from './kit/index.js';

interface Master { child: ChildProcess; url: string; pid: number; stderr: () => string; exit: Promise<number | null> }

function launch(t: TestContext, script: string, args: string[], readyType: string): Promise<Master> {
  let stderr = '';
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('message', (message: { type?: string; url?: string; addresses?: string[]; pid?: number; engine?: string }) => {
      if (message.type === readyType) resolve({ child, url: message.url ?? message.addresses![0]!, pid: message.pid!, stderr: () => stderr, exit, ...(message.engine ? { engine: message.engine } : {}) });
    });
    void exit.then((code) => reject(new Error(`master exited with ${code} before it was ready: ${stderr}`)));
  });
}

const startMaster = (t: TestContext, app: string, settings: Record<string, unknown> = {}) =>
  launch(t, fixture('master.mjs'), [app, JSON.stringify({ workers: 2, gracefulTimeout: 5, ...settings })], 'ready');

function stats(master: Master): Promise<EngineStats> {
  return new Promise((resolve) => {
    const onMessage = (message: { type?: string; stats?: EngineStats }) => {
      if (message.type !== 'stats') return;
      master.child.off('message', onMessage);
      resolve(message.stats!);
    };
    master.child.on('message', onMessage);
    master.child.send({ type: 'stats' });
  });
}

const readyCount = async (master: Master) => (await stats(master)).units.filter((u) => u.state === 'ready').length;

function appCopy(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-prefork-sig-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'app.mjs');
  fs.copyFileSync(fixture('app.mjs'), file);
  return file;
}

describe('prefork: signals to the master process', { timeout: 120_000 }, () => {
  it('HUP reloads onto new code, TTIN/TTOU add and remove a worker, USR1 is harmless', { timeout: 40_000 }, async (t) => {
    const app = appCopy(t);
    const master = await startMaster(t, app);
    assert.equal((await get(`${master.url}/`)).version, 'v1');
    fs.writeFileSync(app, fs.readFileSync(app, 'utf8').replace("const VERSION = 'v1';", "const VERSION = 'v2';"));
    process.kill(master.pid, 'SIGHUP');
    await until(async () => (await stats(master)).generation === 2, 20_000, 'generation 2');
    await until(async () => (await stats(master)).units.every((u) => u.generation === 2), 20_000, 'the old generation to exit');
    assert.equal((await get(`${master.url}/`)).version, 'v2');

    process.kill(master.pid, 'SIGTTIN');
    await until(async () => await readyCount(master) === 3, 20_000, '3 workers');
    process.kill(master.pid, 'SIGTTOU');
    await until(async () => (await stats(master)).units.length === 2, 20_000, '2 workers');
    process.kill(master.pid, 'SIGUSR1');
    assert.equal((await get(`${master.url}/`)).status, 200);
    assert.equal(await readyCount(master), 2);
  });

  it('TERM finishes the request in flight, stops the workers and exits 0', { timeout: 30_000 }, async (t) => {
    const master = await startMaster(t, fixture('app.mjs'), { timeout: 2 });
    const workerPids = (await stats(master)).units.map((u) => u.pid!);
    const slow = get(`${master.url}/slow?ms=800`);
    await until(async () => (await stats(master)).units.some((u) => u.inFlight > 0), 10_000, 'the request in flight');
    process.kill(master.pid, 'SIGTERM');
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(await master.exit, 0);
    assert.ok(workerPids.every((pid) => !isAlive(pid)), 'no worker outlives the master');
  });

  it('INT stops at once: in-flight requests are cut, exit 0', { timeout: 30_000 }, async (t) => {
    const master = await startMaster(t, fixture('app.mjs'), { timeout: 2 });
    const workerPids = (await stats(master)).units.map((u) => u.pid!);
    const slow = get(`${master.url}/slow?ms=5000`).then((a) => a.status, (e: NodeJS.ErrnoException) => e.code);
    await until(async () => (await stats(master)).units.some((u) => u.inFlight > 0), 10_000, 'the request in flight');
    process.kill(master.pid, 'SIGINT');
    assert.equal(await master.exit, 0);
    assert.equal(await slow, 'ECONNRESET');
    assert.ok(workerPids.every((pid) => !isAlive(pid)));
  });

  it('kill -9 of the master: the workers notice and exit, none is orphaned', { timeout: 30_000 }, async (t) => {
    const master = await startMaster(t, fixture('app.mjs'));
    const workerPids = (await stats(master)).units.map((u) => u.pid!);
    assert.equal(workerPids.length, 2);
    process.kill(master.pid, 'SIGKILL');
    await master.exit;
    await until(() => workerPids.every((pid) => !isAlive(pid)), 10_000, 'the workers to exit');
  });

  it('an app that throws at import: the master exits non-zero with the app error', { timeout: 30_000 }, async (t) => {
    await assert.rejects(startMaster(t, fixture('throws-at-import.mjs')), (error: Error) => {
      assert.match(error.message, /exited with 1/);
      assert.match(error.message, /ERR_WORKER_BOOT_FAILED: Workers could not boot the app: worker \d+ \(pid \d+\): ERR_APP_IMPORT_FAILED: .*database URL is not set/);
      return true;
    });
  });

  it('the real CLI: serve --engine prefork, then HUP and TERM to its pid', { timeout: 40_000 }, async (t) => {
    const cli = fileURLToPath(new URL('../../../cli/bin/serve.js', import.meta.url));
    const app = appCopy(t);
    const master = await launch(t, cli, ['--engine', 'prefork', '--workers', '2', '--bind', '127.0.0.1:0', '--log-level', 'warn', app], 'gatehouse:ready') as Master & { engine?: string };
    assert.equal(master.engine, 'prefork');
    const first = await get(`${master.url}/`);
    assert.notEqual(first.pid, master.pid, 'a worker answered, not the master');
    fs.writeFileSync(app, fs.readFileSync(app, 'utf8').replace("const VERSION = 'v1';", "const VERSION = 'v2';"));
    process.kill(master.pid, 'SIGHUP');
    await until(async () => (await get(`${master.url}/`)).version === 'v2', 20_000, 'v2 after HUP');
    process.kill(master.pid, 'SIGTERM');
    assert.equal(await master.exit, 0);
  });
});
