/*
 * The threaded engine's behaviour as a user relies on it, over real sockets to real threads:
 * concurrency across threads, the bounded queue, errors crossing the thread boundary, bodies
 * streaming both ways, aborts reaching the thread, lifecycle hooks, graceful stop, scaling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultSettings, isGatehouseError, GatehouseError } from '@gatehouse/core';
import { ThreadedEngine } from '../src/index.js';
import { fixture, getJson, inFlight, startEngine, until } from './kit/index.js';

interface Timed { threadId: number; start: number; end: number }

test('two slow requests run on two threads at once, a third queues, past --max-queue the client gets 503 with Retry-After', { timeout: 20_000 }, async (t) => {
  const { engine, url } = await startEngine(t, { threads: 2, threadConcurrency: 1, maxQueue: 1 });
  const first = getJson<Timed>(`${url}/slow?ms=700`);
  const second = getJson<Timed>(`${url}/slow?ms=700`);
  await until(() => inFlight(engine) === 2, 5000, 'both slow requests on their threads');
  const third = getJson<Timed>(`${url}/slow?ms=10`);
  await until(() => engine.stats().queueDepth === 1, 5000, 'the third request to queue');
  const refused = await fetch(`${url}/hello`);
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After tells the client when to come back');
  await refused.text();

  const [a, b, c] = await Promise.all([first, second, third]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.notEqual(a.body.threadId, b.body.threadId, 'the two slow requests ran on different threads');
  assert.ok(b.body.start < a.body.end && a.body.start < b.body.end, 'the two slow requests overlapped in time');
  assert.equal(c.status, 200);
  assert.ok(c.body.start >= Math.min(a.body.end, b.body.end) - 5, 'the queued request started only when a thread came free');
});

test('an app error on a thread becomes a 500 and the thread goes on serving', { timeout: 10_000 }, async (t) => {
  const { engine, url } = await startEngine(t, { threads: 1 });
  const failed = await fetch(`${url}/throw`);
  assert.equal(failed.status, 500);
  await failed.text();
  const ok = await getJson(`${url}/hello`);
  assert.equal(ok.status, 200);
  assert.equal(engine.stats().restarts.crash, 0);
});

test('a request body streams to the thread and the response streams back intact (5 MiB echo)', { timeout: 15_000 }, async (t) => {
  const { url } = await startEngine(t, { threads: 2 });
  const payload = randomBytes(5 * 1024 * 1024);
  const response = await fetch(`${url}/echo`, { method: 'POST', body: payload });
  assert.equal(response.status, 200);
  const echoed = Buffer.from(await response.arrayBuffer());
  assert.equal(echoed.length, payload.length);
  assert.ok(echoed.equals(payload), 'echoed bytes equal the bytes sent');
});

test('a client that disconnects aborts request.signal on the app thread', { timeout: 10_000 }, async (t) => {
  const { engine, url } = await startEngine(t, { threads: 1 });
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /wait-abort HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => inFlight(engine) === 1, 5000, 'the request to reach the thread');
  socket.destroy();
  await until(async () => (await getJson<{ aborts: number }>(`${url}/abort-count`)).body.aborts === 1, 5000, 'the thread to see the abort');
  await until(() => inFlight(engine) === 0, 5000, 'the aborted request to release its slot');
});

test('a client that leaves while a CPU-bound handler runs frees the thread for the next request', { timeout: 10_000 }, async (t) => {
  // The handler finishes before its thread sees the abort: the response that arrives for an
  // already-abandoned request must still free the concurrency slot.
  const { engine, url } = await startEngine(t, { threads: 1, threadConcurrency: 1 });
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /busy?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => inFlight(engine) === 1, 5000, 'the busy request on its thread');
  socket.destroy();
  const next = await getJson(`${url}/hello`);
  assert.equal(next.status, 200);
  await until(() => inFlight(engine) === 0, 5000, 'the slot to be free');
});

test('--request-timeout answers 504 and aborts the request on its thread', { timeout: 10_000 }, async (t) => {
  const { engine, url } = await startEngine(t, { threads: 1, requestTimeout: 0.3 });
  const started = Date.now();
  const response = await fetch(`${url}/wait-abort`);
  assert.equal(response.status, 504);
  await response.text();
  assert.ok(Date.now() - started < 4000);
  await until(() => inFlight(engine) === 0, 5000, 'the thread to let the request go');
  const count = await getJson<{ aborts: number }>(`${url}/abort-count`);
  assert.equal(count.body.aborts, 1, "the thread-side signal aborted");
});

test('graceful stop finishes an in-flight request, then runs shutdown() on every thread, then refuses connections', { timeout: 15_000 }, async (t) => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gh-threaded-')), 'lifecycle.log');
  process.env.LIFECYCLE_LOG = log;
  t.after(() => { delete process.env.LIFECYCLE_LOG; });
  const { engine, url } = await startEngine(t, { threads: 2 }, fixture('lifecycle.mjs'));
  const lines = () => fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(lines().filter((l) => l.startsWith('startup')).length, 2, 'startup() ran once per thread');
  const inflight = fetch(`${url}/slow?ms=600`);
  await until(() => inFlight(engine) === 1, 5000, 'the slow request on its thread');
  const stopped = engine.stop({ graceful: true });
  const response = await inflight;
  assert.equal(response.status, 200, 'the in-flight request was finished, not cut off');
  assert.equal(await response.text(), 'slow done');
  await stopped;
  await engine.closed;
  const entries = lines();
  assert.equal(entries.filter((l) => l.startsWith('shutdown')).length, 2, 'shutdown() ran once per thread');
  const [, requestThread] = entries.find((l) => l.startsWith('request-end'))!.split(' ');
  assert.ok(entries.indexOf(`request-end ${requestThread}`) < entries.indexOf(`shutdown ${requestThread}`), `its thread ran shutdown() after the request ended: ${entries.join(', ')}`);
  await assert.rejects(fetch(`${url}/`), 'the listener is closed');
});

test('graceful stop lets a slow in-flight request finish with 200', { timeout: 15_000 }, async (t) => {
  const { engine, url } = await startEngine(t, { threads: 1 });
  const slow = getJson<Timed>(`${url}/slow?ms=400`);
  await until(() => inFlight(engine) === 1, 5000, 'the slow request on its thread');
  const stopped = engine.stop({ graceful: true });
  const response = await slow;
  assert.equal(response.status, 200);
  await stopped;
  assert.equal(engine.stats().units.length, 0, 'every thread is gone');
});

test('an app that fails to load makes start() reject with its error, without respawning threads', { timeout: 10_000 }, async () => {
  const settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], threads: 2 };
  const engine = new ThreadedEngine({ settings, app: { kind: 'module', spec: fixture('boot-fails.mjs') } });
  await assert.rejects(engine.start(), (error: unknown) => {
    assert.ok(isGatehouseError(error));
    assert.equal((error as GatehouseError).code, 'ERR_APP_IMPORT_FAILED');
    assert.match((error as GatehouseError).toLine(), /database URL is not set/);
    return true;
  });
  assert.equal(engine.stats().units.length, 0);
});

test('every thread imports the setup modules before loading the app', { timeout: 10_000 }, async (t) => {
  const settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], threads: 2, threadConcurrency: 1 };
  const engine = new ThreadedEngine({ settings, app: { kind: 'module', spec: fixture('app.mjs') }, setupModules: [fixture('setup.mjs')] });
  await engine.start();
  t.after(() => engine.stop({ graceful: false }));
  const url = engine.addresses[0]!.url;
  type Setup = { threadId: number; setup: { unit: { kind: string; id: number }; threads: number; appLoaded: boolean } | null };
  // Two concurrent slow requests occupy both threads, then each thread reports its setup.
  const seen = new Map<number, Setup['setup']>();
  await until(async () => {
    const [a, b] = await Promise.all([getJson<Setup>(`${url}/setup`), getJson<Setup>(`${url}/setup`)]);
    for (const r of [a, b]) seen.set(r.body.threadId, r.body.setup);
    return seen.size === 2;
  }, 5000, 'both threads to answer');
  for (const setup of seen.values()) {
    assert.ok(setup, 'the setup module ran in this thread');
    assert.equal(setup.unit.kind, 'thread');
    assert.equal(setup.threads, 2, 'it was given the settings');
    assert.equal(setup.appLoaded, false, 'it ran before the app module loaded');
  }
  assert.deepEqual(new Set([...seen.values()].map((s) => s!.unit.id)).size, 2, 'each thread got its own unit');
});

test('reopenLogs() (USR1) publishes logsReopen in every app thread, where the setup module\'s logger listens', { timeout: 10_000 }, async (t) => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gh-reopen-')), 'reopen.log');
  process.env.REOPEN_LOG = log;
  t.after(() => { delete process.env.REOPEN_LOG; });
  const settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], threads: 2 };
  const engine = new ThreadedEngine({ settings, app: { kind: 'module', spec: fixture('app.mjs') }, setupModules: [fixture('setup-reopen.mjs')] });
  await engine.start();
  t.after(() => engine.stop({ graceful: false }));
  const threadIds = engine.stats().units.map((u) => String(u.threadId)).sort();
  engine.reopenLogs();
  const lines = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
  await until(() => lines().length >= 2, 5000, 'both threads to see logsReopen');
  assert.deepEqual(lines().map((l) => l.split(' ')[0]).sort(), threadIds, 'once in each app thread');
});

test('an inline app is refused with ERR_APP_NEEDS_MODULE', async () => {
  const settings = { ...defaultSettings(), bind: ['127.0.0.1:0'] };
  const engine = new ThreadedEngine({ settings, app: { kind: 'inline', app: { app: () => ({ status: 200 }), interface: 'gateway' } } });
  await assert.rejects(engine.start(), (error: unknown) => isGatehouseError(error) && (error as GatehouseError).code === 'ERR_APP_NEEDS_MODULE');
});

test('scale(+1) adds a serving thread and scale(-1) removes one without failing requests', { timeout: 15_000 }, async (t) => {
  const { engine, url } = await startEngine(t, { threads: 2 });
  await engine.scale(1);
  assert.equal(engine.stats().units.filter((u) => u.state === 'ready').length, 3);
  const seen = new Set<number>();
  // Three concurrent slow requests on three threads each with a free slot: least-loaded routing spreads them.
  const responses = await Promise.all([1, 2, 3].map(() => getJson<Timed>(`${url}/slow?ms=200`)));
  for (const r of responses) { assert.equal(r.status, 200); seen.add(r.body.threadId); }
  assert.equal(seen.size, 3, 'the added thread served a request');
  await engine.scale(-1);
  await until(() => engine.stats().units.length === 2, 5000, 'the removed thread to exit');
  const after = await Promise.all([1, 2, 3, 4].map(() => getJson(`${url}/hello`)));
  assert.deepEqual(after.map((r) => r.status), [200, 200, 200, 200]);
});
