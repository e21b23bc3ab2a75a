/*
 * Supervision of app threads, done to real threads: a stuck event loop, an uncaught exception
 * in a timer, a heap limit, max-requests recycling, and reload under load. Each asserts what a
 * user relies on: the affected request gets its status, other requests are served, the thread
 * is replaced, and nothing else fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Channel } from 'node:diagnostics_channel';
import os from 'node:os';
import path from 'node:path';
import { channels, type UnitMessage, type EngineMessage } from '@gatehouse/core';
import { getJson, inFlight, startEngine, until } from './kit/index.js';

function collect<T>(channel: Channel, t: { after(fn: () => void): void }): T[] {
  const seen: T[] = [];
  const listener = (message: unknown) => { seen.push(message as T); };
  channel.subscribe(listener);
  t.after(() => { channel.unsubscribe(listener); });
  return seen;
}

test('an infinite loop in a handler: that request times out, its thread is replaced, another thread answers meanwhile', { timeout: 20_000 }, async (t) => {
  const downs = collect<UnitMessage>(channels.unitDown, t);
  const events = collect<EngineMessage>(channels.engine, t);
  const { engine, url } = await startEngine(t, { threads: 2, threadConcurrency: 1, timeout: 1, requestTimeout: 0.5 });
  const before = engine.stats().units.map((u) => u.threadId);
  const looping = fetch(`${url}/loop`);
  await until(() => inFlight(engine) === 1, 5000, 'the looping request on its thread');
  const stuck = engine.stats().units.find((u) => u.inFlight === 1)!.threadId;

  const meanwhile = await getJson<{ threadId: number }>(`${url}/hello`);
  assert.equal(meanwhile.status, 200);
  assert.notEqual(meanwhile.body.threadId, stuck, 'the other thread answered while one was stuck');

  const response = await looping;
  assert.ok(response.status === 504 || response.status === 503, `stuck request answered ${response.status}`);
  await response.text();

  await until(() => {
    const units = engine.stats().units;
    return units.length === 2 && units.every((u) => u.state === 'ready') && !units.some((u) => u.threadId === stuck);
  }, 10_000, 'the stuck thread to be replaced');
  assert.equal(engine.stats().restarts.timeout, 1);
  assert.ok(downs.some((d) => d.reason === 'timeout' && d.threadId === stuck), 'a unit:down event names the stuck thread');
  assert.ok(events.some((e) => e.event === 'thread-timeout' && e.level === 'error' && /GET \/loop/.test(e.detail ?? '')), 'the log line names the request it was on');
  assert.ok(before.includes(stuck));
  const after = await getJson(`${url}/hello`);
  assert.equal(after.status, 200);
});

test('an uncaught exception in a timer costs only that thread: its request gets 500, the thread is replaced, the server goes on', { timeout: 20_000 }, async (t) => {
  const downs = collect<UnitMessage>(channels.unitDown, t);
  const { engine, url } = await startEngine(t, { threads: 2 });
  const response = await fetch(`${url}/throw-in-timer`);
  assert.equal(response.status, 500);
  await response.text();
  await until(() => engine.stats().units.filter((u) => u.state === 'ready').length === 2, 10_000, 'a replacement thread');
  assert.equal(engine.stats().restarts.crash, 1);
  assert.ok(downs.some((d) => d.reason === 'crash' && /boom in a timer/.test(d.detail ?? '')));
  const results = await Promise.all([1, 2, 3, 4].map(() => getJson(`${url}/hello`)));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
});

test('a thread that reaches --max-thread-memory is replaced; its request gets 503 and the next one is served', { timeout: 30_000 }, async (t) => {
  const downs = collect<UnitMessage>(channels.unitDown, t);
  const { engine, url } = await startEngine(t, { threads: 1, maxThreadMemory: 32 * 1024 * 1024 });
  const response = await fetch(`${url}/grow`);
  assert.equal(response.status, 503);
  await response.text();
  assert.ok(downs.some((d) => d.reason === 'memory'), 'the thread went down for memory');
  const next = await getJson(`${url}/hello`);
  assert.equal(next.status, 200);
  assert.equal(engine.stats().units.length, 1);
});

test('a replacement thread that dies while booting is retried after 1 s, 2 s, ... (not at once), its log line folded, while the other thread serves', { timeout: 40_000 }, async (t) => {
  const events = collect<EngineMessage>(channels.engine, t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-early-crash-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const broken = path.join(dir, 'broken');
  const app = path.join(dir, 'app.mjs');
  // Boots unless `broken` exists; then its import ends the thread before it is ready.
  fs.writeFileSync(app, `import fs from 'node:fs';
import { threadId } from 'node:worker_threads';
if (fs.existsSync(${JSON.stringify(broken)})) process.exit(1);
export default (request) => {
  if (request.path === '/exit') process.exit(0);
  return { status: 200, headers: [['content-type', 'application/json']], body: JSON.stringify({ threadId }) };
};
`);
  const { engine, url } = await startEngine(t, { threads: 2 }, app);
  fs.writeFileSync(broken, '');
  const exitResponse = await fetch(`${url}/exit`);
  assert.equal(exitResponse.status, 500, 'the request of the thread that exited');
  await exitResponse.text();
  const crashedAt = Date.now();
  const statuses: number[] = [];
  while (Date.now() - crashedAt < 3500) {
    statuses.push((await getJson(`${url}/hello`)).status);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual([...new Set(statuses)], [200], 'the other thread served meanwhile');
  // The exit after ready, then replacements dying at about 0, 1 and 3 s.
  const crashes = engine.stats().restarts.crash;
  assert.ok(crashes >= 2 && crashes <= 4, `${crashes} thread deaths in 3.5 s (back-off 1 s doubling)`);
  const errors = events.filter((e) => e.level === 'error');
  assert.deepEqual(errors.map((e) => e.event), ['thread-crashed', 'thread-boot-failed'], 'one line for the crash, one folded line for the repeated boot failure');
  assert.match(errors[1]!.detail ?? '', /died before it was ready.*next thread in 1s/);
  fs.rmSync(broken);
  await until(() => engine.stats().units.filter((u) => u.state === 'ready').length === 2, 15_000, 'a replacement to boot once the app can');
});

test('a leaking app under --max-thread-memory is recycled before the heap limit kills a thread: no request fails', { timeout: 60_000 }, async (t) => {
  const events = collect<EngineMessage>(channels.engine, t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-leak-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const app = path.join(dir, 'app.mjs');
  // Every request keeps 256 KiB of JS heap for good: the thread's heap only grows.
  fs.writeFileSync(app, `const kept = [];
export default () => {
  for (let i = 0; i < 8; i++) kept.push(new Array(4096).fill(i));
  return { status: 200, headers: [['content-type', 'text/plain']], body: String(kept.length) };
};
`);
  const { engine, url } = await startEngine(t, { threads: 2, maxThreadMemory: 64 * 1024 * 1024 }, app);
  const statuses: number[] = [];
  const deadline = Date.now() + 30_000;
  const enough = () => engine.stats().restarts.memory >= 3 || statuses.length >= 6000 || Date.now() > deadline;
  await Promise.all([1, 2, 3, 4].map(async () => {
    while (!enough()) {
      const response = await fetch(`${url}/`);
      await response.text();
      statuses.push(response.status);
    }
  }));
  assert.ok(engine.stats().restarts.memory >= 3, `${engine.stats().restarts.memory} memory recycles in ${statuses.length} requests`);
  assert.deepEqual(statuses.filter((s) => s !== 200), [], `no request failed (of ${statuses.length})`);
  assert.deepEqual(events.filter((e) => e.event === 'thread-out-of-memory').map((e) => e.detail), [], 'no thread reached its heap limit');
});

test('--max-requests: every thread serves between max and max + jitter requests, and recycling fails none', { timeout: 30_000 }, async (t) => {
  const max = 10;
  const jitter = 3;
  const { engine, url } = await startEngine(t, { threads: 2, threadConcurrency: 2, maxRequests: max, maxRequestsJitter: jitter });
  const statuses: number[] = [];
  const served = new Map<number, number>();
  // Four concurrent clients, requests of ~15 ms, until replacement threads have served
  // (their boot time varies with the machine's load) or a bound is reached.
  const deadline = Date.now() + 20_000;
  const enough = () => (served.size >= 6 && statuses.length >= 80) || statuses.length >= 800 || Date.now() > deadline;
  await Promise.all([1, 2, 3, 4].map(async () => {
    while (!enough()) {
      const r = await getJson<{ threadId: number }>(`${url}/slow?ms=15`);
      statuses.push(r.status);
      if (r.status === 200) served.set(r.body.threadId, (served.get(r.body.threadId) ?? 0) + 1);
    }
  }));
  assert.deepEqual(statuses.filter((s) => s !== 200), [], `no request failed (of ${statuses.length})`);
  await until(() => engine.stats().units.length === 2 && engine.stats().units.every((u) => u.state === 'ready'), 10_000, 'recycled threads to exit');
  const alive = new Set(engine.stats().units.map((u) => u.threadId));
  const recycled = [...served].filter(([threadId]) => !alive.has(threadId)).map(([, n]) => n);
  assert.ok(recycled.length >= 2, `${recycled.length} threads recycled`);
  for (const n of recycled) assert.ok(n >= max && n <= max + jitter, `a recycled thread served ${n} requests, outside [${max}, ${max + jitter}]: ${recycled.join(', ')}`);
  for (const [threadId, n] of served) if (alive.has(threadId)) assert.ok(n <= max + jitter, `a live thread served ${n} requests, past ${max + jitter}`);
  assert.equal(engine.stats().restarts['max-requests'], recycled.length);
});

test('reload under continuous load serves the new code with zero failed requests', { timeout: 30_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-reload-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const app = path.join(dir, 'app.mjs');
  const version = (v: string) => `export default () => ({ status: 200, headers: [['content-type', 'text/plain']], body: '${v}' });\n`;
  fs.writeFileSync(app, version('v1'));
  const { engine, url } = await startEngine(t, { threads: 2 }, app);

  let reloaded = false;
  let stop = false;
  const failures: string[] = [];
  const afterReload: string[] = [];
  let total = 0;
  const deadline = Date.now() + 15_000;
  const client = async () => {
    while (!stop && total < 5000 && Date.now() < deadline) {
      const reloadedBefore = reloaded;
      total++;
      try {
        const response = await fetch(`${url}/`);
        const text = await response.text();
        if (response.status !== 200) failures.push(`${response.status} ${text}`);
        else if (reloadedBefore) afterReload.push(text);
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const load = Promise.all([1, 2, 3, 4].map(client));
  await until(() => total > 50, 10_000, 'load to be running');
  fs.writeFileSync(app, version('v2'));
  await engine.reload();
  reloaded = true;
  await until(() => afterReload.length >= 50 || Date.now() > deadline, 15_000, 'requests after the reload');
  stop = true;
  await load;
  assert.deepEqual(failures, [], 'no request failed during the reload');
  assert.ok(afterReload.length >= 50, `${afterReload.length} requests after the reload`);
  assert.deepEqual([...new Set(afterReload)], ['v2'], 'every request sent after reload() resolved got the new code');
  assert.equal(engine.stats().generation, 2);
  await until(() => engine.stats().units.length === 2, 10_000, 'the old generation to exit');
});
