/*
 * The arbiter's supervision rules without forking (in the manner of Gunicorn's
 * tests/test_arbiter.py): fake workers that answer the master's messages as each test tells
 * them, and a clock the test advances by hand, so every deadline is exact. What real processes
 * add (signals, sockets, a blocked event loop) is covered by supervision.test.ts,
 * zero-downtime.test.ts and freeze.test.ts.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { channels, defaultSettings, type EngineMessage, type Settings, type UnitMessage } from '@gatehouse/core';
import { BOOT_BACKOFF_BASE_MS } from '@gatehouse/core/internal';
import { Arbiter } from '../src/arbiter.js';
import { EXIT_BOOT_FAILED, type FromWorker, type RunningRequest, type ToWorker, type WorkerConfig } from '../src/messages.js';
import type { ArbiterClock, SpawnWorker, WorkerEvents, WorkerProcess } from '../src/worker-process.js';
import { KILL_SLACK_MS } from '../src/worker-handle.js';

/** Lets setImmediate-scheduled passes and the fakes' replies run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Timer { at: number; every: number; callback: () => void; cancelled: boolean }

/** Timers fire only when the test advances time. */
class FakeClock implements ArbiterClock {
  #now = 1000;
  readonly #timers: Timer[] = [];

  now(): number { return this.#now; }

  setTimeout(callback: () => void, ms: number): () => void { return this.#add(callback, ms, 0); }

  setInterval(callback: () => void, ms: number): () => void { return this.#add(callback, ms, ms); }

  #add(callback: () => void, ms: number, every: number): () => void {
    const timer: Timer = { at: this.#now + Math.max(1, ms), every, callback, cancelled: false };
    this.#timers.push(timer);
    return () => { timer.cancelled = true; };
  }

  /** Moves time on by `ms`, firing each timer when due (in due order) and letting the loop settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#now = Math.max(this.#now, due.at);
      if (due.every > 0) due.at += due.every; else due.cancelled = true;
      due.callback();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** Time passes with nobody running (a SIGSTOPped process group): no timer fires. */
  jump(ms: number): void {
    this.#now += ms;
  }
}

type Behaviour = (worker: FakeWorker) => void;

class FakeWorker implements WorkerProcess {
  static nextPid = 50_000;
  readonly pid = FakeWorker.nextPid++;
  connected = true;
  config: WorkerConfig | null = null;
  readonly inbox: ToWorker[] = [];
  spawnedAt: number;
  /** Its heartbeats stop (a blocked event loop); a frozen one is silent only until unfrozen. */
  stuck = false;
  killed = false;
  exited = false;
  runningRequest: RunningRequest | null = null;
  requests = 0;
  /** Clock time of its last message. */
  lastBeatAt = 0;
  #cancelBeat: (() => void) | null = null;

  constructor(readonly id: number, readonly generation: number, readonly events: WorkerEvents, readonly farm: Farm) {
    this.spawnedAt = farm.clock.now();
  }

  send(message: ToWorker, _handle?: unknown, _keepOpen?: boolean, done?: (error: Error | null) => void): void {
    this.inbox.push(message);
    if (done) setImmediate(() => done(null));
    if (message.type === 'start') {
      this.config = message.config;
      this.#cancelBeat = this.farm.clock.setInterval(() => {
        if (!this.stuck) this.report({ type: 'heartbeat', requests: this.requests, inFlight: 0, rss: 1e6 });
      }, message.config.heartbeatMs);
      this.farm.onStart(this);
    }
    if (message.type === 'stop') this.farm.onStop(this, message);
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.exit(null, 'SIGKILL');
  }

  running(): RunningRequest | null { return this.runningRequest; }

  /** Any message proves the worker's loop turns. */
  report(message: FromWorker): void {
    if (this.exited) return;
    this.lastBeatAt = this.farm.clock.now();
    setImmediate(() => this.events.message(message));
  }

  boot(): void {
    this.report({ type: 'booted' });
    this.report({ type: 'ready' });
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.connected = false;
    this.#cancelBeat?.();
    setImmediate(() => this.events.exit(code, signal));
  }

  get stopMessage(): Extract<ToWorker, { type: 'stop' }> | undefined {
    return this.inbox.find((m): m is Extract<ToWorker, { type: 'stop' }> => m.type === 'stop');
  }
}

/** Makes the fake workers; `onStart` and `onStop` say what each does (default: boot at once; quiesce and exit). */
class Farm {
  readonly workers: FakeWorker[] = [];
  readonly clock = new FakeClock();
  onStart: Behaviour = (worker) => worker.boot();
  onStop = (worker: FakeWorker, _message: Extract<ToWorker, { type: 'stop' }>): void => {
    worker.report({ type: 'quiesced' });
    worker.exit(0);
  };

  readonly spawn: SpawnWorker = (unit, events) => {
    const worker = new FakeWorker(unit.id, unit.generation, events, this);
    this.workers.push(worker);
    return worker;
  };

  get alive(): FakeWorker[] { return this.workers.filter((w) => !w.exited); }
}

function arbiterFor(t: TestContext, overrides: Partial<Settings> = {}): { arbiter: Arbiter; farm: Farm } {
  const farm = new Farm();
  const settings: Settings = { ...defaultSettings(), workers: 2, timeout: 2, gracefulTimeout: 5, ...overrides };
  const arbiter = new Arbiter({ engine: 'prefork', settings, app: { spec: 'fake.mjs' }, listeners: [], spawnWorker: farm.spawn, clock: farm.clock });
  t.after(async () => {
    if (arbiter.stats().units.length === 0 && arbiter.fatalError) return;
    const stopped = arbiter.stop(false, 0);
    await farm.clock.advance(KILL_SLACK_MS + 600); // kills fall on a pass, every --timeout/4
    await stopped;
  });
  return { arbiter, farm };
}

/** Runs `promise` while the clock moves in `step` ms steps, up to `maxMs`. */
async function drive<T>(farm: Farm, promise: Promise<T>, maxMs = 30_000, step = 50): Promise<T> {
  let done = false;
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
  promise.then((value) => { done = true; outcome = { ok: true, value }; }, (error: unknown) => { done = true; outcome = { ok: false, error }; });
  for (let waited = 0; !done && waited <= maxMs; waited += step) await farm.clock.advance(step);
  await settle();
  assert.ok(outcome, `still pending after ${maxMs} ms of clock time`);
  const result = outcome as { ok: true; value: T } | { ok: false; error: unknown };
  if (!result.ok) throw result.error;
  return result.value;
}

function watch(t: TestContext): { down: UnitMessage[]; events: EngineMessage[] } {
  const seen = { down: [] as UnitMessage[], events: [] as EngineMessage[] };
  const onDown = (m: unknown) => seen.down.push(m as UnitMessage);
  const onEvent = (m: unknown) => seen.events.push(m as EngineMessage);
  channels.unitDown.subscribe(onDown);
  channels.engine.subscribe(onEvent);
  t.after(() => { channels.unitDown.unsubscribe(onDown); channels.engine.unsubscribe(onEvent); });
  return seen;
}

const readyCount = (arbiter: Arbiter) => arbiter.stats().units.filter((u) => u.state === 'ready').length;

describe('arbiter (fake workers, fake clock)', () => {
  it('spawns workers up to the target and resolves start() when all are ready', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 3 });
    await drive(farm, arbiter.start());
    assert.equal(farm.workers.length, 3);
    assert.equal(readyCount(arbiter), 3);
    assert.deepEqual(farm.workers.map((w) => w.generation), [1, 1, 1]);
  });

  it('replaces a crashed worker; workers that then die booting are respawned with a doubling back-off', async (t) => {
    const seen = watch(t);
    const { arbiter, farm } = arbiterFor(t);
    await drive(farm, arbiter.start());
    farm.onStart = (worker) => worker.exit(1); // every new worker dies before it is ready
    farm.workers[0]!.exit(1);
    await farm.clock.advance(16 * BOOT_BACKOFF_BASE_MS);
    assert.equal(arbiter.stats().restarts.crash, farm.workers.filter((w) => w.exited).length, 'every crash is counted');
    assert.equal(seen.down.find((m) => m.pid === farm.workers[0]!.pid)?.reason, 'crash');
    const spawns = farm.workers.slice(2).map((w) => w.spawnedAt);
    assert.equal(spawns.length, 5, 'the replacement, then one respawn per back-off');
    const gaps = spawns.slice(1).map((at, i) => at - spawns[i]!);
    // The policy's back-off: the base, doubling each time.
    assert.deepEqual(gaps, [1, 2, 4, 8].map((n) => n * BOOT_BACKOFF_BASE_MS));
    assert.equal(readyCount(arbiter), 1, 'the other worker serves on');
    // Once booting works again, the target is met.
    farm.onStart = (worker) => worker.boot();
    await farm.clock.advance(31_000);
    assert.equal(readyCount(arbiter), 2);
  });

  it('stops the master when the app cannot boot at start, without a fork loop', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2 });
    farm.onStart = (worker) => {
      worker.report({ type: 'boot-failed', phase: 'load', error: { code: 'ERR_APP_IMPORT_FAILED', message: 'cannot import fake.mjs: boom' } });
      worker.exit(EXIT_BOOT_FAILED);
    };
    await assert.rejects(drive(farm, arbiter.start()), (e: Error & { code?: string }) => e.code === 'ERR_WORKER_BOOT_FAILED' && /boom/.test(e.message));
    await drive(farm, arbiter.closed);
    await farm.clock.advance(20_000);
    assert.ok(farm.workers.length <= 2, `${farm.workers.length} forks for 2 workers`);
  });

  it('kills a worker silent past --timeout, naming the request its scoreboard holds, and replaces it', async (t) => {
    const seen = watch(t);
    const { arbiter, farm } = arbiterFor(t, { timeout: 2 });
    await drive(farm, arbiter.start());
    const stuck = farm.workers[0]!;
    stuck.stuck = true;
    stuck.runningRequest = { method: 'GET', path: '/loop', startedAt: Date.now() - 2000 };
    for (let waited = 0; !stuck.killed && waited < 5000; waited += 50) await farm.clock.advance(50);
    const silence = farm.clock.now() - stuck.lastBeatAt;
    // Killed at the first pass (every --timeout/4) after --timeout of silence.
    assert.ok(silence > 2000 && silence <= 2550, `killed after ${silence} ms of silence`);
    await farm.clock.advance(100);
    assert.equal(seen.down.find((m) => m.pid === stuck.pid)?.reason, 'timeout');
    assert.match(seen.events.find((e) => e.event === 'timeout')?.detail ?? '', /It was running GET \/loop, started 2\.\d+s ago/);
    assert.equal(readyCount(arbiter), 2);
    assert.equal(farm.workers[1]!.killed, false, 'the worker that kept beating lives');
  });

  it('kills nobody for silence with --timeout 0', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { timeout: 0 });
    await drive(farm, arbiter.start());
    for (const worker of farm.workers) worker.stuck = true;
    await farm.clock.advance(120_000);
    assert.ok(farm.workers.every((w) => !w.killed));
    assert.equal(farm.workers.length, 2);
  });

  it('recycles at --max-requests within [max, max + jitter], draining the old worker only once its replacement is ready', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2, maxRequests: 100, maxRequestsJitter: 20 });
    await drive(farm, arbiter.start());
    let manual: FakeWorker | null = null;
    farm.onStart = (worker) => { manual = worker; }; // replacements boot when the test says
    for (let round = 0; round < 12; round++) {
      const old = farm.alive.find((w) => w.stopMessage === undefined)!;
      manual = null;
      old.report({ type: 'retire', reason: 'max-requests', requests: old.config!.maxRequests });
      await farm.clock.advance(100);
      assert.ok(manual, 'a replacement is spawned');
      assert.equal(old.stopMessage, undefined, 'the old worker serves until the replacement is ready');
      (manual as FakeWorker).boot();
      await farm.clock.advance(100);
      assert.deepEqual(old.stopMessage, { type: 'stop', graceful: true, timeoutMs: 5000, handOff: true });
    }
    const limits = farm.workers.map((w) => w.config!.maxRequests);
    assert.ok(limits.every((n) => n >= 100 && n <= 120), JSON.stringify(limits));
    assert.ok(new Set(limits).size > 1, `jitter spreads the limits: ${JSON.stringify(limits)}`);
    assert.equal(arbiter.stats().restarts['max-requests'], 12);
    assert.equal(readyCount(arbiter), 2);
  });

  it('reload (generation): the new generation is ready before the old drains, and reload() resolves once the old ones are quiesced', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2, reloadStrategy: 'generation' });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    const fresh: FakeWorker[] = [];
    farm.onStart = (worker) => { fresh.push(worker); };
    farm.onStop = () => {}; // quiesced when the test says
    let resolved = false;
    const reloaded = arbiter.reload().then(() => { resolved = true; });
    await farm.clock.advance(200);
    assert.deepEqual(fresh.map((w) => w.generation), [2, 2]);
    fresh[0]!.boot();
    await farm.clock.advance(200);
    assert.ok(old.every((w) => w.stopMessage === undefined), 'nothing drains while the new generation is not all ready');
    fresh[1]!.boot();
    await farm.clock.advance(200);
    assert.ok(old.every((w) => w.stopMessage?.handOff === true), 'the old workers are told to stop and hand their connections over');
    assert.equal(arbiter.generation, 2);
    assert.equal(resolved, false, 'not before the old workers quiesced');
    old[0]!.report({ type: 'quiesced' });
    await farm.clock.advance(200);
    assert.equal(resolved, false);
    old[1]!.exit(0); // an exit counts too
    await drive(farm, reloaded);
    assert.equal(arbiter.stats().restarts.reload, 1);
  });

  it('a reload whose new code cannot boot is abandoned; the old generation keeps serving', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2 });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    farm.onStart = (worker) => {
      worker.report({ type: 'boot-failed', phase: 'load', error: { code: 'ERR_APP_IMPORT_FAILED', message: 'half-deployed' } });
      worker.exit(EXIT_BOOT_FAILED);
    };
    await assert.rejects(drive(farm, arbiter.reload()), (e: Error & { code?: string }) => e.code === 'ERR_RELOAD_FAILED' && /half-deployed/.test(e.message));
    await farm.clock.advance(1000);
    assert.equal(arbiter.generation, 1);
    assert.ok(old.every((w) => w.stopMessage === undefined && !w.exited));
    assert.equal(readyCount(arbiter), 2);
  });

  it('reload (rolling): one new worker at a time, each ready before an old one drains, never more than target + 1 alive', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 3, reloadStrategy: 'rolling' });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    const fresh: FakeWorker[] = [];
    const order: string[] = [];
    let peak = 0;
    farm.onStart = (worker) => { fresh.push(worker); order.push(`spawn ${worker.id}`); peak = Math.max(peak, farm.alive.length); };
    farm.onStop = (worker) => { order.push(`drain ${worker.id}`); worker.report({ type: 'quiesced' }); worker.exit(0); };
    let resolved = false;
    const reloaded = arbiter.reload().then(() => { resolved = true; });
    for (let i = 0; i < 3; i++) {
      await farm.clock.advance(200);
      assert.equal(fresh.length, i + 1, 'the next new worker boots only once the previous one replaced an old one');
      assert.equal(old.filter((w) => w.stopMessage).length, i, 'no old worker drains before its replacement is ready');
      fresh[i]!.boot();
      await farm.clock.advance(200);
      assert.equal(old.filter((w) => w.stopMessage).length, i + 1);
    }
    await drive(farm, reloaded);
    assert.equal(resolved, true);
    assert.deepEqual(order, [`spawn ${fresh[0]!.id}`, `drain ${old[0]!.id}`, `spawn ${fresh[1]!.id}`, `drain ${old[1]!.id}`, `spawn ${fresh[2]!.id}`, `drain ${old[2]!.id}`]);
    assert.ok(old.every((w) => w.stopMessage?.handOff === true), 'old workers hand their idle connections over');
    assert.equal(peak, 4, 'never more than target + 1 processes alive');
    assert.equal(arbiter.generation, 2);
    assert.equal(readyCount(arbiter), 3);
    assert.equal(arbiter.stats().restarts.reload, 3);
  });

  it('reload (rolling): an old worker that lingers on long-lived connections frees its place at once; it stays supervised (not replaced when it dies, killed past its deadline)', async (t) => {
    const seen = watch(t);
    const { arbiter, farm } = arbiterFor(t, { workers: 3, reloadStrategy: 'rolling', gracefulTimeout: 20 });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    const fresh: FakeWorker[] = [];
    farm.onStart = (worker) => { fresh.push(worker); worker.boot(); };
    // Each old worker quiesces, then holds WebSockets: it lingers and does not exit.
    farm.onStop = (worker) => { worker.report({ type: 'quiesced' }); worker.report({ type: 'lingering' }); };
    const startedAt = farm.clock.now();
    await drive(farm, arbiter.reload(), 5_000);
    assert.ok(farm.clock.now() - startedAt < 5_000, 'the roll did not wait for the old workers to exit');
    assert.equal(fresh.length, 3);
    assert.ok(old.every((w) => w.stopMessage && !w.exited), 'every old worker was told to stop and lives on');
    assert.equal(readyCount(arbiter), 3);
    assert.deepEqual(arbiter.stats().units.filter((u) => u.state === 'draining').map((u) => u.pid), old.map((w) => w.pid), 'lingering workers stay listed as draining');

    old[0]!.exit(1); // a lingering worker dies: not replaced
    await farm.clock.advance(1000);
    assert.equal(fresh.length, 3, 'a lingering worker that dies is not replaced');
    assert.ok(seen.down.some((m) => m.pid === old[0]!.pid && m.reason === 'reload'));
    // The rest are killed past their deadline: --graceful-timeout plus the shutdown slack.
    await farm.clock.advance(20_000 + KILL_SLACK_MS + 1000);
    assert.ok(old.slice(1).every((w) => w.killed), 'lingering workers past their deadline are killed');
    assert.equal(arbiter.stats().restarts.reload, 3, 'each old worker counted once');
    assert.equal(readyCount(arbiter), 3);
  });

  it('reload (rolling): an old worker that is stopped but not lingering (a request still in flight) still holds its place', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2, reloadStrategy: 'rolling', gracefulTimeout: 20 });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    const fresh: FakeWorker[] = [];
    farm.onStart = (worker) => { fresh.push(worker); worker.boot(); };
    farm.onStop = (worker) => { worker.report({ type: 'quiesced' }); };
    void arbiter.reload().catch(() => {});
    await farm.clock.advance(1000);
    assert.equal(fresh.length, 1, 'the next new worker waits while the stopped one still runs a request');
    old[0]!.report({ type: 'lingering' });
    await farm.clock.advance(200);
    assert.equal(fresh.length, 2, 'and boots once it lingers');
  });

  it('reload (rolling, batch 2): two at a time; reload() waits for the last old worker to quiesce', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 4, reloadStrategy: 'rolling', reloadBatch: 2 });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    const fresh: FakeWorker[] = [];
    let peak = 0;
    farm.onStart = (worker) => { fresh.push(worker); peak = Math.max(peak, farm.alive.length); };
    farm.onStop = (worker) => { worker.exit(0); };
    let resolved = false;
    const reloaded = arbiter.reload().then(() => { resolved = true; });
    await farm.clock.advance(200);
    assert.equal(fresh.length, 2);
    fresh[0]!.boot();
    await farm.clock.advance(200);
    assert.equal(old.filter((w) => w.stopMessage).length, 1, 'one ready, one old drains');
    assert.equal(fresh.length, 3, 'its room goes to the next new worker');
    fresh[1]!.boot();
    fresh[2]!.boot();
    await farm.clock.advance(200);
    assert.equal(fresh.length, 4);
    farm.onStop = () => {}; // the last old worker quiesces when the test says
    fresh[3]!.boot();
    await farm.clock.advance(200);
    assert.equal(old.filter((w) => w.stopMessage).length, 4);
    assert.equal(resolved, false, 'not before the last old worker quiesced');
    old[3]!.report({ type: 'quiesced' });
    await drive(farm, reloaded);
    assert.equal(peak, 6, 'never more than target + batch alive');
  });

  it('reload (rolling) with new settings: the new workers start with them and the target follows --workers', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2, reloadStrategy: 'rolling', keepAlive: 5 });
    await drive(farm, arbiter.start());
    const settings: Settings = { ...defaultSettings(), workers: 3, timeout: 2, gracefulTimeout: 5, keepAlive: 9, reloadStrategy: 'rolling' };
    await drive(farm, arbiter.reload(settings));
    const fresh = farm.workers.filter((w) => w.generation === 2);
    assert.equal(fresh.length, 3);
    assert.ok(fresh.every((w) => w.config!.settings.keepAlive === 9 && w.config!.settings.workers === 3));
    assert.equal(readyCount(arbiter), 3);
    assert.ok(farm.workers.filter((w) => w.generation === 1).every((w) => w.exited));
  });

  it('reload (rolling) whose first new worker cannot boot is abandoned: no old worker drains, the old settings stay', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 3, reloadStrategy: 'rolling' });
    await drive(farm, arbiter.start());
    const old = [...farm.workers];
    farm.onStart = (worker) => {
      worker.report({ type: 'boot-failed', phase: 'load', error: { code: 'ERR_APP_IMPORT_FAILED', message: 'half-deployed' } });
      worker.exit(EXIT_BOOT_FAILED);
    };
    await assert.rejects(drive(farm, arbiter.reload({ ...defaultSettings(), workers: 5, timeout: 2 })), (e: Error & { code?: string }) => e.code === 'ERR_RELOAD_FAILED' && /half-deployed/.test(e.message));
    await farm.clock.advance(1000);
    assert.equal(farm.workers.length, 4, 'only one new worker was tried');
    assert.equal(arbiter.generation, 1);
    assert.ok(old.every((w) => w.stopMessage === undefined && !w.exited));
    assert.equal(readyCount(arbiter), 3, 'the old target, not the new config\'s');
  });

  it('reload (rolling): a later new worker that dies booting is retried after the back-off; the reload completes', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2, reloadStrategy: 'rolling' });
    await drive(farm, arbiter.start());
    let starts = 0;
    farm.onStart = (worker) => {
      if (++starts === 2) worker.exit(1); // the second new one crashes while booting
      else worker.boot();
    };
    await drive(farm, arbiter.reload());
    assert.equal(starts, 3);
    assert.equal(arbiter.generation, 2);
    assert.deepEqual(arbiter.stats().units.map((u) => [u.generation, u.state]), [[2, 'ready'], [2, 'ready']]);
  });

  it('scale up and down', async (t) => {
    const seen = watch(t);
    const { arbiter, farm } = arbiterFor(t, { workers: 2 });
    await drive(farm, arbiter.start());
    await drive(farm, arbiter.scale(2));
    assert.equal(readyCount(arbiter), 4);
    await drive(farm, arbiter.scale(-3));
    assert.equal(arbiter.stats().units.length, 1);
    assert.equal(seen.down.filter((m) => m.reason === 'scale').length, 3);
    // Gunicorn's choice: the oldest go first.
    assert.equal(farm.alive[0]!.id, 4);
    await drive(farm, arbiter.scale(-1)); // never below one
    assert.equal(arbiter.stats().units.length, 1);
  });

  it('a graceful stop kills a worker that outlives --graceful-timeout (plus the shutdown slack)', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2 });
    await drive(farm, arbiter.start());
    farm.onStop = (worker) => { if (worker === farm.workers[1]) worker.exit(0); }; // the first never leaves
    const stopped = arbiter.stop(true, 3000);
    await farm.clock.advance(3000 + KILL_SLACK_MS - 100);
    assert.equal(farm.workers[0]!.killed, false, 'not before its deadline');
    await farm.clock.advance(600);
    assert.equal(farm.workers[0]!.killed, true);
    await drive(farm, stopped);
  });

  it('a master frozen with its workers does not blame them for the time it lost; a worker still silent after is killed', async (t) => {
    const { arbiter, farm } = arbiterFor(t, { workers: 2, timeout: 2 });
    await drive(farm, arbiter.start());
    await farm.clock.advance(1000);
    // SIGSTOP of the whole group for 5 s. On SIGCONT the master's overdue tick runs before
    // any worker's heartbeat has arrived (the harshest order).
    for (const worker of farm.workers) worker.stuck = true;
    farm.clock.jump(5000);
    await farm.clock.advance(1);
    assert.ok(farm.workers.every((w) => !w.killed), 'a freeze is not a timeout');
    farm.workers[1]!.stuck = false;
    // Worker 0 stays silent after the thaw: liveness still holds, counting only time the master was awake.
    await farm.clock.advance(2600);
    assert.equal(farm.workers[0]!.killed, true);
    assert.equal(farm.workers[1]!.killed, false);
  });
});
