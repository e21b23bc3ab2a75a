// The prefork master supervising real worker processes: serving from N workers, crash
// replacement under load, the liveness timeout against a blocked event loop, the per-request
// deadline, scale, the app lifecycle hooks, and the ways an app can fail to boot.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { channels, defaultSettings, type EngineMessage, type Settings } from '@gatehouse/core';
import { BOOT_BACKOFF_BASE_MS } from '@gatehouse/core/internal';
import { PreforkEngine } from '../src/index.js';
import { fixture, get, isAlive, readyPids, startEngine, startLoad, until, watchUnits } from './kit/index.js';

describe('prefork: serving and supervision', { timeout: 120_000 }, () => {
  it('serves from N worker processes, none of them the master', { timeout: 30_000 }, async (t) => {
    const { engine, url } = await startEngine(t, { workers: 3 });
    const workerPids = new Set(readyPids(engine));
    assert.equal(workerPids.size, 3);
    assert.ok(!workerPids.has(process.pid));
    // New connections are spread by the kernel; ask until every worker has answered.
    const seen = new Set<number>();
    for (let i = 0; i < 300 && seen.size < 3; i++) {
      const answer = await get(`${url}/`); // a fresh connection each time (no agent)
      assert.equal(answer.status, 200);
      seen.add(answer.pid);
    }
    assert.deepEqual([...seen].sort(), [...workerPids].sort());
  });

  it('replaces a worker killed with SIGKILL and keeps serving under load', { timeout: 30_000 }, async (t) => {
    const units = watchUnits(t);
    const { engine, url } = await startEngine(t, { workers: 2 });
    const load = startLoad(`${url}/`, { concurrency: 4, maxRequests: 20_000, maxMs: 15_000 });
    await until(() => load.result.answers.length >= 50, 10_000, 'load to get going');
    const victim = readyPids(engine)[0]!;
    const killedAt = performance.now();
    process.kill(victim, 'SIGKILL');
    await until(() => readyPids(engine).length === 2 && !readyPids(engine).includes(victim), 15_000, 'a replacement worker');
    const replacedAt = performance.now();
    const countAfter = load.result.answers.length;
    await until(() => load.result.answers.length >= countAfter + 200, 10_000, 'more answers after the replacement');
    const result = await load.stop();

    assert.equal(engine.stats().restarts.crash, 1);
    const down = units.down.find((m) => m.pid === victim);
    assert.equal(down?.reason, 'crash');
    assert.match(down?.detail ?? '', /SIGKILL/);
    // Requests in flight on the killed worker may fail; that window closes when the kill is
    // noticed. Everything sent after the replacement was up must have succeeded.
    const lateFailures = result.failures.filter((f) => f.at > replacedAt);
    assert.deepEqual(lateFailures, [], `failures after the replacement: ${JSON.stringify(lateFailures)}`);
    assert.ok(result.failures.every((f) => f.at >= killedAt), 'no failure before the kill');
    assert.ok(result.answers.some((a) => a.sentAt > replacedAt && a.pid !== victim));
    t.diagnostic(`kill -9 under load: ${result.answers.length} ok, ${result.failures.length} failed in the kill window, ${result.retried} retried on closed keep-alive sockets`);
  });

  it('kills a worker whose event loop is blocked after --timeout, names the request, and replaces it; the others answer meanwhile', { timeout: 30_000 }, async (t) => {
    const units = watchUnits(t);
    const events: EngineMessage[] = [];
    const onEvent = (m: unknown) => events.push(m as EngineMessage);
    channels.engine.subscribe(onEvent);
    t.after(() => channels.engine.unsubscribe(onEvent));
    const { engine, url } = await startEngine(t, { workers: 2, timeout: 2 });
    const blocked = get(`${url}/block`).then(() => 'answered', (error: NodeJS.ErrnoException) => error.code ?? 'failed');
    // Which worker took it: the one whose heartbeat stops. Meanwhile the other one answers.
    let stuckPid = 0;
    await until(() => {
      const busy = engine.stats().units.find((u) => u.inFlight > 0 && u.state === 'ready');
      stuckPid = busy?.pid ?? 0;
      return stuckPid !== 0;
    }, 5000, 'the blocking request to reach a worker');
    // The stuck worker accepts nothing itself; of the connections the master's own listener
    // copy accepts and hands over, at most one can go to it before its silence shows (see
    // docs/engines.md, "prefork"). Every other request is answered by the other worker.
    const during: Array<number | string> = [];
    for (let i = 0; i < 10; i++) during.push(await get(`${url}/`).then((a) => a.status === 200 ? a.pid : `status ${a.status}`, (e: NodeJS.ErrnoException) => e.code ?? 'failed'));
    const answered = during.filter((x): x is number => typeof x === 'number');
    assert.ok(answered.length >= 9, `answers while one worker was stuck: ${JSON.stringify(during)}`);
    assert.ok(answered.every((pid) => pid !== stuckPid));
    assert.equal(await blocked, 'ECONNRESET'); // its connection died with it
    await until(() => readyPids(engine).length === 2 && !readyPids(engine).includes(stuckPid), 15_000, 'a replacement worker');
    assert.ok(!isAlive(stuckPid));
    assert.equal(engine.stats().restarts.timeout, 1);
    assert.equal(units.down.find((m) => m.pid === stuckPid)?.reason, 'timeout');
    const line = events.find((e) => e.event === 'timeout');
    assert.match(line?.detail ?? '', new RegExp(`worker \\d+ \\(pid ${stuckPid}\\) sent no heartbeat for [\\d.]+s \\(--timeout 2s\\)`));
    assert.match(line?.detail ?? '', /It was running GET \/block, started [\d.]+s ago/);
  });

  it('names the request that blocked the loop, not one that started later or one it heard of earlier, under load', { timeout: 30_000 }, async (t) => {
    const events: EngineMessage[] = [];
    const onEvent = (m: unknown) => events.push(m as EngineMessage);
    channels.engine.subscribe(onEvent);
    t.after(() => channels.engine.unsubscribe(onEvent));
    const { engine, url } = await startEngine(t, { workers: 1, timeout: 2 });
    const pid = readyPids(engine)[0]!;
    // Keep-alive load on the one worker: requests start every fraction of a millisecond, and
    // keep starting (and ending) during the 300 ms the blocking request waits before it spins.
    const load = startLoad(`${url}/`, { concurrency: 4, maxRequests: 50_000, maxMs: 15_000 });
    await until(() => load.result.answers.length >= 200, 10_000, 'load to get going');
    const blocked = get(`${url}/block?after=300`).catch(() => 'failed');
    await until(() => events.some((e) => e.event === 'timeout'), 15_000, 'the timeout kill');
    await load.stop();
    await blocked;
    const line = events.find((e) => e.event === 'timeout')!.detail ?? '';
    assert.match(line, new RegExp(`\\(pid ${pid}\\)`));
    assert.match(line, /It was running GET \/block, started [\d.]+s ago/, line);
  });

  it('answers 504 at --request-timeout while the worker stays up; a worker stuck past --timeout is still replaced', { timeout: 30_000 }, async (t) => {
    const { engine, url } = await startEngine(t, { workers: 1, requestTimeout: 1, timeout: 2 });
    const pid = readyPids(engine)[0]!;
    const started = performance.now();
    const slow = await get(`${url}/slow?ms=5000`).catch((error: Error) => error);
    const elapsed = performance.now() - started;
    assert.ok(!(slow instanceof Error), `the slow request failed: ${String(slow)}`);
    assert.equal(slow.status, 504);
    assert.ok(elapsed < 4500, `504 came after ${elapsed.toFixed(0)} ms`);
    const next = await get(`${url}/`);
    assert.equal(next.pid, pid, 'a request deadline does not cost the worker its life');
    // A handler that never yields cannot be answered by its own loop: liveness takes over.
    await get(`${url}/block`).catch(() => {});
    await until(() => readyPids(engine).length === 1 && readyPids(engine)[0] !== pid, 15_000, 'the replacement');
    assert.equal(engine.stats().restarts.timeout, 1);
    assert.equal((await get(`${url}/`)).status, 200);
  });

  it('scale(+1) and scale(-1) change the number of workers', { timeout: 30_000 }, async (t) => {
    const units = watchUnits(t);
    const { engine } = await startEngine(t, { workers: 2 });
    await engine.scale(1);
    assert.equal(readyPids(engine).length, 3);
    await engine.scale(-1);
    assert.equal(engine.stats().units.length, 2);
    assert.ok(engine.stats().units.every((u) => u.state === 'ready'));
    assert.equal(units.down.filter((m) => m.reason === 'scale').length, 1);
    await engine.scale(-1);
    await engine.scale(-1); // not below one worker
    assert.equal(engine.stats().units.length, 1);
  });

  it('runs startup() before a worker takes connections and shutdown() on the way out', { timeout: 30_000 }, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-prefork-life-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    process.env.LIFECYCLE_DIR = dir;
    t.after(() => { delete process.env.LIFECYCLE_DIR; });
    const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], workers: 2, gracefulTimeout: 5 };
    const engine = new PreforkEngine({ settings, app: { kind: 'module', spec: fixture('lifecycle.mjs') } });
    t.after(() => engine.stop({ graceful: false }));
    await engine.start();
    const pids = readyPids(engine);
    for (const pid of pids) assert.ok(fs.existsSync(path.join(dir, `startup-${pid}`)), `startup ran in ${pid}`);
    const answer = await get(`${engine.addresses[0]!.url}/`);
    assert.ok(pids.includes(answer.pid));
    await engine.stop({ graceful: true });
    for (const pid of pids) assert.ok(fs.existsSync(path.join(dir, `shutdown-${pid}`)), `shutdown ran in ${pid}`);
  });
});

describe('prefork: an app that cannot boot', { timeout: 60_000 }, () => {
  const bootFails = async (app: string, settings: Partial<Settings> = {}) => {
    let forks = 0;
    const all: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], workers: 2, ...settings, preFork: () => { forks++; } };
    const engine = new PreforkEngine({ settings: all, app: { kind: 'module', spec: fixture(app) } });
    const error = await engine.start().then(() => null, (e: Error & { code?: string }) => e);
    await engine.closed; // resolves on its own: the master stopped
    return { error, forks: () => forks, engine };
  };

  it('throws at import: start() rejects with the app error, no fork loop', { timeout: 20_000 }, async () => {
    const { error, forks, engine } = await bootFails('throws-at-import.mjs');
    assert.equal(error?.code, 'ERR_WORKER_BOOT_FAILED');
    assert.match(error!.message, /database URL is not set \(thrown by throws-at-import\.mjs\)/);
    assert.ok(forks() <= 2, `${forks()} forks for 2 workers`);
    assert.deepEqual(engine.stats().units, []);
  });

  it('startup() rejects: the same, naming the startup hook', { timeout: 20_000 }, async () => {
    const { error, forks } = await bootFails('startup-fails.mjs');
    assert.equal(error?.code, 'ERR_WORKER_BOOT_FAILED');
    assert.match(error!.message, /ERR_APP_STARTUP_FAILED.*cache warm-up failed/);
    assert.ok(forks() <= 2);
  });

  it('dies at import without a word: respawned with back-off, then given up on', { timeout: 45_000 }, async () => {
    const started = performance.now();
    const { error, forks } = await bootFails('exits-at-import.mjs', { workers: 1 });
    assert.equal(error?.code, 'ERR_WORKER_BOOT_FAILED');
    assert.match(error!.message, /exit code 7 before it was ready \(5 times in a row\)/);
    assert.equal(forks(), 5);
    // Back-off (core's supervision policy): 1 + 2 + 4 + 8 s between the five attempts at least.
    assert.ok(performance.now() - started >= 15 * BOOT_BACKOFF_BASE_MS);
  });

  it('a bind error is one clear error before any worker starts', { timeout: 10_000 }, async (t) => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    t.after(() => holder.close());
    const port = (holder.address() as net.AddressInfo).port;
    let forks = 0;
    const settings: Settings = { ...defaultSettings(), bind: [`127.0.0.1:${port}`], workers: 2, preFork: () => { forks++; } };
    const engine = new PreforkEngine({ settings, app: { kind: 'module', spec: fixture('app.mjs') } });
    await assert.rejects(engine.start(), (e: Error & { code?: string }) => e.code === 'ERR_BIND_FAILED' && e.message.includes(`127.0.0.1:${port}: EADDRINUSE`));
    assert.equal(forks, 0);
  });
});
