// What must cost no request: reload under continuous load, recycling by --max-requests and by
// --max-worker-memory under load, and a graceful stop (every request in flight completes).
// Failures are counted and asserted; see kit/index.ts for the one retry the load client makes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { channels, type EngineMessage } from '@gatehouse/core';
import { fixture, get, isAlive, readyPids, startEngine, startLoad, until, watchUnits } from './kit/index.js';

function appCopy(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-prefork-app-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'app.mjs');
  fs.copyFileSync(fixture('app.mjs'), file);
  return file;
}

const setVersion = (file: string, version: string) =>
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/const VERSION = '[^']*';/, `const VERSION = '${version}';`));

describe('prefork: zero downtime', { timeout: 180_000 }, () => {
  it('reload under continuous load switches to the new code with zero failed requests', { timeout: 60_000 }, async (t) => {
    const app = appCopy(t);
    const { engine, url } = await startEngine(t, { workers: 2 }, app);
    const oldPids = readyPids(engine);
    const load = startLoad(`${url}/`, { concurrency: 4, maxRequests: 30_000, maxMs: 40_000 });
    await until(() => load.result.answers.length >= 100, 10_000, 'load to get going');
    setVersion(app, 'v2');
    const reloadAt = performance.now();
    await engine.reload();
    assert.equal(engine.stats().generation, 2);
    await until(() => oldPids.every((pid) => !isAlive(pid)), 20_000, 'the old workers to drain and exit');
    const oldGoneAt = performance.now();
    const count = load.result.answers.length;
    await until(() => load.result.answers.length >= count + 200, 10_000, 'answers from the new generation');
    const result = await load.stop();

    assert.deepEqual(result.failures, [], `failed requests during reload: ${JSON.stringify(result.failures.slice(0, 5))}`);
    assert.ok(result.answers.filter((a) => a.at < reloadAt).every((a) => a.version === 'v1'));
    const late = result.answers.filter((a) => a.sentAt > oldGoneAt);
    assert.ok(late.length >= 200);
    assert.deepEqual([...new Set(late.map((a) => a.version))], ['v2']);
    assert.ok(late.every((a) => !oldPids.includes(a.pid)));
    assert.equal(engine.stats().restarts.reload, 2);
    t.diagnostic(`reload under load: ${result.answers.length} ok, 0 failed, ${result.retried} retried on closed keep-alive sockets`);
  });

  it('while the new generation is still loading its app, every new connection is served at once by the old one', { timeout: 60_000 }, async (t) => {
    const app = appCopy(t);
    const { engine, url } = await startEngine(t, { workers: 2 }, app);
    // The new code's import waits for a file the test writes: the new workers stay loading until then.
    const go = path.join(path.dirname(app), 'go');
    setVersion(app, 'v2');
    fs.writeFileSync(app, `import fs from 'node:fs';
while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((resolve) => setTimeout(resolve, 20));
${fs.readFileSync(app, 'utf8')}`);
    const reloaded = engine.reload();
    // Rolling (the default): one new worker boots at a time, and none is ready while the first one loads.
    const loading = () => engine.stats().units.filter((u) => u.generation === 2);
    // A worker's first heartbeat (its RSS) comes as it starts: it has been told all it will be told before loading.
    await until(() => loading().length > 0 && loading().every((u) => u.state === 'booting' && u.memory > 0), 20_000, 'a new worker to be loading');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answers = await Promise.all(Array.from({ length: 20 }, () => Promise.race([
      get(`${url}/`).then((a) => a.version),
      new Promise<string>((resolve) => setTimeout(() => resolve('no answer within 5 s'), 5000)),
    ])));
    assert.deepEqual(answers, Array(20).fill('v1'), 'a connection accepted by a loading worker waits for its app');
    assert.ok(loading().every((u) => u.state === 'booting'), 'the new workers were still loading');
    fs.writeFileSync(go, '');
    await reloaded;
    assert.equal((await get(`${url}/`)).version, 'v2');
  });

  it('a reload whose new code cannot boot is abandoned; the old generation keeps serving', { timeout: 40_000 }, async (t) => {
    const app = appCopy(t);
    const { engine, url } = await startEngine(t, { workers: 2 }, app);
    const pids = readyPids(engine).sort();
    fs.writeFileSync(app, `throw new Error('half-deployed: missing module (reload test)');\n`);
    await assert.rejects(engine.reload(), (e: Error & { code?: string }) => e.code === 'ERR_RELOAD_FAILED' && /half-deployed: missing module/.test(e.message));
    await until(() => engine.stats().units.length === 2, 10_000, 'the failed generation to be gone');
    assert.deepEqual(readyPids(engine).sort(), pids);
    assert.equal(engine.stats().generation, 1);
    const answer = await get(`${url}/`);
    assert.equal(answer.version, 'v1');
    // Fixed code reloads fine afterwards.
    fs.copyFileSync(fixture('app.mjs'), app);
    setVersion(app, 'v3');
    await engine.reload();
    await until(async () => (await get(`${url}/`)).version === 'v3', 10_000, 'v3 to serve');
  });

  it('recycles each worker after [--max-requests, --max-requests + jitter] requests, with zero failed requests', { timeout: 60_000 }, async (t) => {
    const units = watchUnits(t);
    const events: EngineMessage[] = [];
    const onEvent = (m: unknown) => events.push(m as EngineMessage);
    channels.engine.subscribe(onEvent);
    t.after(() => channels.engine.unsubscribe(onEvent));
    const { engine, url } = await startEngine(t, { workers: 2, maxRequests: 60, maxRequestsJitter: 20 });
    const load = startLoad(`${url}/`, { concurrency: 4, maxRequests: 3000, maxMs: 40_000 });
    await until(() => engine.stats().restarts['max-requests'] >= 3, 40_000, 'three recycled workers');
    const result = await load.stop();
    assert.deepEqual(result.failures, [], `failed requests while recycling: ${JSON.stringify(result.failures.slice(0, 5))}`);
    const recycled = units.down.filter((m) => m.reason === 'max-requests');
    assert.ok(recycled.length >= 3);
    // Each recycled worker asked to be replaced at its own limit, drawn in [60, 80]; the app's
    // own per-process count (every request here is the load's) confirms it had served that many.
    for (const { pid } of recycled) {
      const asked = events.map((e) => new RegExp(`\\(pid ${pid}\\) served (\\d+) requests`).exec(e.detail ?? '')).find((m) => m !== null);
      assert.ok(asked, `no recycle line for pid ${pid}`);
      const limit = Number(asked[1]);
      assert.ok(limit >= 60 && limit <= 80, `pid ${pid} was recycled after ${limit} requests`);
      assert.ok(result.answers.some((a) => a.pid === pid && a.requests === limit), `pid ${pid}'s own count never reached ${limit}`);
    }
    t.diagnostic(`max-requests: ${recycled.length} recycled, ${result.answers.length} ok, 0 failed, ${result.retried} retried`);
  });

  it('recycles a worker whose RSS passes --max-worker-memory, with zero failed requests', { timeout: 60_000 }, async (t) => {
    const units = watchUnits(t);
    const { engine, url } = await startEngine(t, { workers: 2, maxWorkerMemory: 160 * 1024 * 1024, timeout: 4 });
    const load = startLoad(`${url}/`, { concurrency: 4, maxRequests: 20_000, maxMs: 40_000 });
    await until(() => load.result.answers.length >= 50, 10_000, 'load to get going');
    const grown = await get(`${url}/grow?mb=192`);
    assert.equal(grown.status, 200);
    await until(() => !isAlive(grown.pid), 30_000, 'the grown worker to be recycled');
    await until(() => readyPids(engine).length === 2, 20_000, 'two workers again');
    const result = await load.stop();
    assert.deepEqual(result.failures, [], `failed requests while recycling: ${JSON.stringify(result.failures.slice(0, 5))}`);
    assert.equal(units.down.find((m) => m.pid === grown.pid)?.reason, 'memory');
    assert.equal(engine.stats().restarts.memory, 1);
  });

  it('a graceful stop under load completes every request in flight, then refuses new ones', { timeout: 40_000 }, async (t) => {
    const { engine, url } = await startEngine(t, { workers: 2, timeout: 2 });
    const load = startLoad(`${url}/`, { concurrency: 4, maxRequests: 20_000, maxMs: 20_000 });
    await until(() => load.result.answers.length >= 50, 10_000, 'load to get going');
    const slow = Array.from({ length: 6 }, () => get(`${url}/slow?ms=600`));
    await until(() => engine.stats().units.reduce((n, u) => n + u.inFlight, 0) >= 6, 10_000, 'the slow requests to be in flight');
    const stopAt = performance.now();
    await engine.stop({ graceful: true });
    const slowAnswers = await Promise.all(slow.map((p) => p.catch((e: NodeJS.ErrnoException) => e.code ?? 'failed')));
    const result = await load.stop();

    assert.deepEqual(slowAnswers.map((a) => typeof a === 'string' ? a : a.status), [200, 200, 200, 200, 200, 200]);
    // Requests after the stop find no server; none may fail before it, and none may get a broken answer.
    assert.ok(result.failures.every((f) => f.at >= stopAt), `failures before the stop: ${JSON.stringify(result.failures.filter((f) => f.at < stopAt))}`);
    assert.ok(result.failures.every((f) => !f.error.startsWith('status')), JSON.stringify(result.failures.slice(0, 5)));
    await assert.rejects(get(`${url}/`), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  });
});
