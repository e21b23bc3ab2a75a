/*
 * The ThreadPool's supervision without spawning a thread: stand-in threads that become ready,
 * beat, answer requests and die exactly when a test says, and a fake clock whose timers fire
 * only when the test moves time. What is checked is what the pool does with real requests
 * (Exchanges, as the dispatcher hands them over): which thread is killed, replaced, recycled,
 * and when the next one is spawned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { channels, defaultSettings, type EngineMessage, type GatewayResponse, type Settings } from '@gatehouse/core';
import { collect, gatewayRequest } from '@gatehouse/core/testkit';
import { ThreadPool, type PoolClock } from '../src/pool.js';
import type { ThreadPort } from '../src/app-thread.js';
import { Exchange, type ExchangeOwner } from '../src/exchange.js';
import { ReadAheadBudget } from '../src/read-ahead.js';
import { BEAT, READY, REQUEST, RESPONSE, SHUTDOWN, STOPPED, type ThreadData, type ToThread } from '../src/messages.js';

const MIB = 1024 * 1024;

/** Timers that fire only from advance(): a late timer fires once, as Node's do after a stall. */
class FakeClock implements PoolClock {
  #now = 10_000;
  #timers = new Map<number, { at: number; every: number | null; fn: () => void }>();
  #nextId = 1;

  now = (): number => this.#now;

  every(ms: number, fn: () => void): () => void {
    return this.#add(ms, ms, fn);
  }

  after(ms: number, fn: () => void): () => void {
    return this.#add(ms, null, fn);
  }

  /** Moves time by `ms` in one jump, then fires each due timer once. */
  advance(ms: number): void {
    this.#now += ms;
    for (const [id, timer] of [...this.#timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.#now || !this.#timers.has(id)) continue;
      if (timer.every === null) this.#timers.delete(id);
      else timer.at = this.#now + timer.every;
      timer.fn();
    }
  }

  #add(ms: number, every: number | null, fn: () => void): () => void {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, every, fn });
    return () => { this.#timers.delete(id); };
  }
}

/** A stand-in app thread: it does what the test tells it, and answers SHUTDOWN by stopping. */
class FakeThread extends EventEmitter implements ThreadPort {
  static nextThreadId = 1000;
  readonly threadId = FakeThread.nextThreadId++;
  readonly requests: number[] = [];
  exited = false;

  constructor(readonly data: ThreadData, readonly heapLimitMb: number | undefined) {
    super();
  }

  postMessage(batch: readonly ToThread[]): void {
    for (const message of batch) {
      if (message[0] === REQUEST) this.requests.push(message[1]);
      if (message[0] === SHUTDOWN) this.send([STOPPED]);
    }
  }

  terminate(): void {
    if (this.exited) return;
    this.exited = true;
    setImmediate(() => this.emit('exit', 1));
  }

  ready(): void { this.send([READY]); }
  beat(heapUsed = 10 * MIB): void { this.send([BEAT, heapUsed]); }
  respond(id: number): void { this.send([RESPONSE, id, 200, [], 'ok']); }

  /** Dies of an uncaught exception (before ready: an early crash). */
  crash(message = 'boom'): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('error', new Error(message));
    setImmediate(() => this.emit('exit', 1));
  }

  send(message: readonly unknown[]): void {
    if (!this.exited) setImmediate(() => this.emit('message', [message]));
  }
}

interface Harness {
  pool: ThreadPool;
  clock: FakeClock;
  spawned: FakeThread[];
  live(): FakeThread[];
  /** Lets queued messages, exits and their reconciles run. */
  settle(): Promise<void>;
  /** Normal time: `ms` in heartbeat steps, every live ready thread but `silent` beating each step. */
  run(ms: number, silent?: ReadonlySet<FakeThread>): Promise<void>;
  request(): Promise<{ thread: FakeThread; response: GatewayResponse }>;
}

async function startPool(t: { after(fn: () => unknown): void }, overrides: Partial<Settings>, autoReady: (n: number) => boolean = () => true): Promise<Harness> {
  const settings: Settings = { ...defaultSettings(), threads: 2, timeout: 2, gracefulTimeout: 5, ...overrides };
  const clock = new FakeClock();
  const spawned: FakeThread[] = [];
  const pool = new ThreadPool({
    settings, app: { spec: 'unused.mjs' }, clock,
    spawnThread: (data, limits) => {
      const thread = new FakeThread(data, limits.maxOldGenerationSizeMb);
      spawned.push(thread);
      if (autoReady(spawned.length)) thread.ready();
      return thread;
    },
  });
  await pool.start();
  t.after(() => pool.stop(false, 0));
  const settle = async () => { for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve)); };
  const live = () => spawned.filter((f) => !f.exited);
  const owner: ExchangeOwner = { requestTimeoutMs: 0, budget: new ReadAheadBudget(0), leaveQueue: () => {} };
  let nextId = 1;
  return {
    pool, clock, spawned, live, settle,
    async run(ms, silent = new Set()) {
      const step = heartbeatMs(spawned[0]!);
      for (let elapsed = 0; elapsed < ms; elapsed += step) {
        clock.advance(step);
        for (const thread of live()) if (!silent.has(thread)) thread.beat();
        await settle();
      }
    },
    async request() {
      const thread = pool.pick();
      assert.ok(thread, 'a thread is free');
      const fake = spawned.find((f) => f.threadId === thread.threadId)!;
      const response = new Promise<GatewayResponse>((resolve, reject) => {
        pool.run(thread, new Exchange(nextId++, gatewayRequest({ target: '/' }), resolve, reject, owner));
      });
      await settle();
      fake.respond(fake.requests.at(-1)!);
      await settle();
      return { thread: fake, response: await response };
    },
  };
}

const heartbeatMs = (thread: FakeThread): number => thread.data.heartbeatMs;

test('a thread silent for --timeout is terminated and replaced; a beating one is left alone', async (t) => {
  const h = await startPool(t, { timeout: 2 });
  const [quiet, beating] = h.spawned;
  assert.equal(heartbeatMs(quiet!), 500);
  await h.run(2000, new Set([quiet!]));
  assert.equal(quiet!.exited, false, 'not yet: silent for exactly the timeout');
  await h.run(1000, new Set([quiet!]));
  assert.equal(quiet!.exited, true, 'terminated once silent past the timeout');
  assert.equal(beating!.exited, false);
  assert.equal(h.pool.restarts.timeout, 1);
  assert.equal(h.live().length, 2, 'replaced');
});

test('--timeout 0: no liveness check, a thread silent for an hour is not touched', async (t) => {
  const h = await startPool(t, { timeout: 0 });
  const silent = new Set(h.spawned);
  for (let i = 0; i < 3600; i++) { h.clock.advance(1000); }
  await h.run(5000, silent);
  assert.deepEqual(h.spawned.map((f) => f.exited), [false, false]);
  assert.equal(h.spawned.length, 2, 'nothing was respawned');
  assert.equal(h.pool.restarts.timeout, 0);
  const { response } = await h.request();
  assert.equal(response.status, 200);
});

test('a pool that was frozen longer than the timeout does not blame its threads; one still silent after is caught', async (t) => {
  const h = await startPool(t, { timeout: 2 });
  await h.run(1000);
  h.clock.advance(5000); // SIGSTOP of the process for 5 s: the supervisor's timer comes late, once
  await h.settle();
  assert.deepEqual(h.spawned.map((f) => f.exited), [false, false], 'no thread killed for the time the pool lost');
  assert.equal(h.pool.restarts.timeout, 0);
  const [first] = h.spawned;
  await h.run(3000, new Set([first!]));
  assert.equal(first!.exited, true, 'liveness goes on after the freeze');
  assert.equal(h.pool.restarts.timeout, 1);
});

test('a pool frozen before its first supervision pass does not blame its threads either', async (t) => {
  const h = await startPool(t, { timeout: 2 });
  h.clock.advance(5000);
  await h.settle();
  assert.deepEqual(h.spawned.map((f) => f.exited), [false, false]);
  assert.equal(h.pool.restarts.timeout, 0);
});

test('a replacement that dies before it is ready is respawned after 1 s, then 2 s, 4 s, and the log line is folded', async (t) => {
  const events = collect<EngineMessage>(channels.engine);
  t.after(events.stop);
  // The first two threads boot; every later one dies while booting.
  const h = await startPool(t, { threads: 2, timeout: 30 }, (n) => n <= 2);
  const dying = () => { const last = h.spawned.at(-1)!; if (!last.exited && h.spawned.length > 2) last.crash('cannot boot'); };
  h.spawned[0]!.crash('after ready'); // a crash after ready: replaced at once
  await h.settle();
  assert.equal(h.spawned.length, 3, 'a thread that dies after ready is replaced at once');
  const spawnTimes: number[] = [];
  let seen = h.spawned.length;
  for (let ms = 0; ms < 20_000; ms += 100) {
    dying();
    await h.settle();
    if (h.spawned.length > seen) { spawnTimes.push(ms); seen = h.spawned.length; }
    h.clock.advance(100);
  }
  await h.settle();
  const gaps = spawnTimes.map((time, i) => time - (i === 0 ? 0 : spawnTimes[i - 1]!));
  assert.deepEqual(gaps, [1000, 2000, 4000, 8000], `spawns at ${spawnTimes.join(', ')} ms`);
  assert.equal(h.spawned[1]!.exited, false, 'the other thread serves on');
  const lines = events.messages.filter((e) => e.event === 'thread-boot-failed');
  assert.equal(lines.length, 1, `one log line for ${gaps.length + 1} identical failures: ${lines.map((l) => l.detail).join(' | ')}`);
  assert.match(lines[0]!.detail!, /cannot boot.*next thread in 1s/);
});

test('a thread that comes up resets the back-off', async (t) => {
  let failing = true;
  const h = await startPool(t, { threads: 1, timeout: 30 }, (n) => n === 1 || !failing);
  for (let i = 0; i < 3; i++) {
    h.live()[0]!.crash('x');
    await h.settle();
    h.clock.advance(30_000);
    await h.settle();
  }
  failing = false;
  h.live()[0]!.crash('x');
  await h.settle();
  h.clock.advance(30_000);
  await h.settle();
  assert.equal(h.pool.stats().filter((u) => u.state === 'ready').length, 1, 'a thread came up');
  const before = h.spawned.length;
  failing = true;
  h.live()[0]!.crash('after ready');
  await h.settle();
  h.live()[0]!.crash('early');
  await h.settle();
  h.clock.advance(999);
  await h.settle();
  assert.equal(h.spawned.length, before + 1, 'not before 1 s');
  h.clock.advance(1);
  await h.settle();
  assert.equal(h.spawned.length, before + 2, 'the wait is 1 s again');
});

test('--max-requests: each thread serves between max and max + jitter requests, and is recycled without a failed request', async (t) => {
  const h = await startPool(t, { threads: 3, maxRequests: 5, maxRequestsJitter: 3, threadConcurrency: 1 });
  for (let i = 0; i < 300; i++) {
    const { response } = await h.request();
    assert.equal(response.status, 200);
  }
  const recycled = h.spawned.filter((f) => f.exited);
  assert.ok(recycled.length >= 30, `${recycled.length} threads recycled`);
  const served = recycled.map((f) => f.requests.length);
  for (const n of served) assert.ok(n >= 5 && n <= 8, `a thread served ${n} requests, outside [5, 8]`);
  assert.ok(new Set(served).size > 1, `the jitter varies the limit per thread: ${[...new Set(served)].join(', ')}`);
  assert.equal(h.pool.restarts['max-requests'], recycled.length);
});

test('a heap past 90% of --max-thread-memory stops routing to the thread at once, before its replacement is ready; the hard limit is the setting', async (t) => {
  const events = collect<EngineMessage>(channels.engine);
  t.after(events.stop);
  // Replacements boot only when the test says, so "at once" is told apart from "replacement first".
  const h = await startPool(t, { threads: 2, maxThreadMemory: 100 * MIB }, (n) => n <= 2);
  const [leaky, other] = h.spawned;
  assert.equal(leaky!.heapLimitMb, 100);
  leaky!.beat(89 * MIB);
  await h.settle();
  assert.equal(h.pool.restarts.memory, 0, 'under the mark: nothing');
  leaky!.beat(91 * MIB);
  await h.settle();
  assert.equal(h.pool.restarts.memory, 1);
  assert.equal(h.spawned.length, 3, 'a replacement is booting');
  assert.equal(leaky!.exited, true, 'drained and gone at once (nothing was in flight)');
  for (let i = 0; i < 4; i++) assert.equal((await h.request()).thread, other, 'requests go to the other thread meanwhile');
  h.spawned[2]!.ready();
  await h.settle();
  assert.equal(h.pool.stats().filter((u) => u.state === 'ready').length, 2, 'replaced');
  assert.ok(!events.messages.some((e) => e.event === 'thread-out-of-memory'), 'a recycle is not reported as running out of memory');
});

test('rolling reload: one new thread at a time, each ready before an old one drains, never more than target + 1 alive', async (t) => {
  let peak = 0;
  const h = await startPool(t, { threads: 3, reloadStrategy: 'rolling' }, (n) => n <= 3);
  const old = [...h.spawned];
  let resolved = false;
  const reloaded = h.pool.reload().then(() => { resolved = true; });
  const draining = () => h.pool.stats().filter((u) => u.generation === 1 && u.state !== 'ready').length + old.filter((f) => f.exited).length;
  for (let i = 0; i < 3; i++) {
    await h.settle();
    peak = Math.max(peak, h.live().length);
    assert.equal(h.spawned.length, 4 + i, 'the next new thread boots only once the previous one replaced an old one');
    assert.equal(old.filter((f) => f.exited).length, i, 'no old thread goes before its replacement is ready');
    h.spawned.at(-1)!.ready();
    await h.settle();
    assert.ok(draining() >= i + 1, `an old thread drains once a new one is ready (step ${i})`);
  }
  await reloaded;
  assert.equal(resolved, true);
  await h.settle();
  assert.ok(old.every((f) => f.exited));
  assert.equal(peak, 4, 'never more than target + 1 threads alive');
  assert.equal(h.pool.generation, 2);
  assert.deepEqual(h.pool.stats().map((u) => [u.generation, u.state]), [[2, 'ready'], [2, 'ready'], [2, 'ready']]);
  assert.equal(h.pool.restarts.reload, 3);
});

test('rolling reload with new settings: new threads start with them and the target follows --threads', async (t) => {
  const h = await startPool(t, { threads: 2, reloadStrategy: 'rolling', reloadBatch: 2 });
  await h.pool.reload({ ...defaultSettings(), threads: 3, timeout: 2, gracefulTimeout: 5, reloadStrategy: 'rolling', reloadBatch: 2, maxRequests: 7 });
  await h.settle();
  const fresh = h.spawned.filter((f) => f.data.unit.generation === 2);
  assert.equal(fresh.length, 3);
  assert.ok(fresh.every((f) => f.data.settings.maxRequests === 7));
  assert.equal(h.live().length, 3);
  assert.equal(h.pool.size, 3);
});

test('rolling reload whose first new thread cannot boot is abandoned: every old thread keeps serving', async (t) => {
  const h = await startPool(t, { threads: 3, reloadStrategy: 'rolling' }, (n) => n <= 3);
  const old = [...h.spawned];
  const reloaded = h.pool.reload({ ...defaultSettings(), threads: 5, timeout: 2, reloadStrategy: 'rolling' });
  await h.settle();
  assert.equal(h.spawned.length, 4, 'one new thread tried');
  h.spawned[3]!.crash('half-deployed');
  await assert.rejects(reloaded, /half-deployed/);
  await h.settle();
  assert.equal(h.pool.generation, 1);
  assert.ok(old.every((f) => !f.exited));
  assert.equal(h.pool.size, 3, 'the old target, not the new config\'s');
  const { response, thread } = await h.request();
  assert.equal(response.status, 200);
  assert.ok(old.includes(thread));
});

test('generation reload: the whole new generation boots before any old thread drains', async (t) => {
  const h = await startPool(t, { threads: 2, reloadStrategy: 'generation' }, (n) => n <= 2);
  const old = [...h.spawned];
  const reloaded = h.pool.reload();
  await h.settle();
  assert.equal(h.spawned.length, 4);
  h.spawned[2]!.ready();
  await h.settle();
  assert.ok(old.every((f) => !f.exited) && h.pool.stats().filter((u) => u.state === 'draining').length === 0);
  h.spawned[3]!.ready();
  await reloaded;
  await h.settle();
  assert.ok(old.every((f) => f.exited));
});
