/*
 * The arbiter: the master's supervisor of worker processes, a reconcile loop in the manner of
 * Gunicorn's arbiter.py. Nothing acts where it happens: child messages, child exits and API
 * calls only record what they saw (an event, a new target, a pending reload) and wake the
 * loop. One pass of the loop then
 *   1. dispatches the queued events (heartbeats, ready, boot failures, exits: the reaping),
 *   2. kills expired workers (no heartbeat for `timeout`; a stop that outlived its deadline),
 *   3. reconciles: a pending reload's new generation, spawning and culling to the target,
 *      draining recycled workers once their replacements are ready,
 *   4. settles waiters (start, reload, scale, stop).
 * The pass runs from setImmediate, after the poll phase, so IPC messages that queued up while
 * the master was busy are counted before any heartbeat is judged late.
 *
 * It knows nothing of HTTP or of the app: it forks worker/main.ts, which runs whatever
 * WorkerBody `workerEntry` names (the app in-loop for prefork, a thread pool for hybrid).
 * It shares listeners the engine bound: each ready worker gets every listening server once
 * and accepts on it; the few connections the master's own copy accepts are handed to a
 * ready worker (see docs/engines.md, "prefork", for the measurements behind this).
 *
 * Balance: workers sharing a socket split long-lived keep-alive connections unevenly (the one
 * that wakes first accepts what is queued: 45/19 of 64 was seen), and the busier worker sets
 * the latency tail. So when the connection counts the heartbeats report differ by more than 2
 * and by more than BALANCE_SLACK of all of them, the busiest worker is told to `shed` half the
 * difference: it gives idle connections back (between requests, reading stopped), and the
 * master hands each to the least loaded worker. At most one shed per worker per heartbeat.
 *
 * Boot failures: an app that cannot boot at start stops the master with the app's error
 * (ERR_WORKER_BOOT_FAILED) instead of a fork loop; workers that die while booting after
 * that are respawned with an exponential back-off; a reload whose new code cannot boot is
 * abandoned and the old generation keeps serving (ERR_RELOAD_FAILED).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  GatehouseError, channels, serializableSettings, stopReading,
  type EngineStats, type Hook, type SerializedError, type Settings, type UnitStats,
} from '@gatehouse/core';
import { EXIT_BOOT_FAILED, isFromWorker, type FromWorker, type WorkerConfig } from './messages.js';
import { WorkerHandle, type DownReason } from './worker-handle.js';

export const WORKER_MAIN = fileURLToPath(new URL('./worker/main.js', import.meta.url));
export const IN_LOOP_BODY = new URL('./worker/in-loop-body.js', import.meta.url).href;

/** Booting gets at least this long without a heartbeat (node's own start-up on a busy machine). */
const BOOT_TIMEOUT_FLOOR_MS = 10_000;
/** Crashes before ready, in a row and before any worker was ever ready, that make start() give up. */
const MAX_BOOT_CRASHES = 5;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** Connection counts within this fraction of the total (or within 2) count as balanced. */
const BALANCE_SLACK = 0.1;

export interface ArbiterOptions {
  /** Engine name for diagnostics events. */
  readonly engine: string;
  /** The master's settings (hooks included; workers get them without). */
  readonly settings: Readonly<Settings>;
  readonly app: { readonly spec: string; readonly cwd?: string };
  /** Listening servers the engine bound; every ready worker is given each. */
  readonly listeners: readonly net.Server[];
  /** Module whose default export makes the worker body (worker/body.ts). Default: the in-loop body. */
  readonly workerEntry?: string;
  /** Handed to the worker entry as `context.data`; must survive JSON. */
  readonly workerData?: unknown;
  readonly configFile?: string;
  readonly setupModules?: readonly string[];
}

type ArbiterEvent =
  | { readonly kind: 'message'; readonly worker: WorkerHandle; readonly message: FromWorker }
  /** A connection the worker gave back after `shed`, its reading already stopped. */
  | { readonly kind: 'migrated'; readonly worker: WorkerHandle; readonly socket: net.Socket }
  | { readonly kind: 'exit'; readonly worker: WorkerHandle; readonly code: number | null; readonly signal: NodeJS.Signals | null };

interface Waiter { resolve(): void; reject(error: unknown): void }

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';
type RestartCause = keyof EngineStats['restarts'];
const RESTART_CAUSES: ReadonlySet<DownReason> = new Set(['crash', 'timeout', 'max-requests', 'memory', 'reload']);

export class Arbiter {
  readonly #options: ArbiterOptions;
  readonly #settings: Readonly<Settings>;
  readonly #workers = new Map<number, WorkerHandle>();
  readonly #events: ArbiterEvent[] = [];
  readonly #restarts: Record<RestartCause, number> = { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: 0 };
  readonly #timeoutMs: number;
  readonly #heartbeatMs: number;
  #phase: Phase = 'idle';
  #target: number;
  #nextId = 0;
  /** The generation serving traffic; a reload's new one is #reload.generation until it takes over. */
  #generation = 0;
  #reload: { readonly generation: number; readonly waiter: Waiter } | null = null;
  #reloadChain: Promise<void> = Promise.resolve();
  #startWaiter: Waiter | null = null;
  #scaleWaiters: Waiter[] = [];
  #bootCrashes = 0;
  #everReady = false;
  #nextSpawnAt = 0;
  #fatal: GatehouseError | null = null;
  #pendingSockets: Array<{ socket: net.Socket; index: number }> = [];
  #roundRobin = 0;
  #timer: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #wakeScheduled = false;
  #stopping: Promise<void> | null = null;
  #closed!: () => void;
  /** Resolves when every worker has exited after stop() or a fatal boot error. */
  readonly closed: Promise<void> = new Promise((resolve) => { this.#closed = resolve; });

  constructor(options: ArbiterOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#target = Math.max(1, options.settings.workers);
    this.#timeoutMs = options.settings.timeout * 1000;
    this.#heartbeatMs = this.#timeoutMs > 0 ? Math.min(1000, Math.max(50, Math.floor(this.#timeoutMs / 4))) : 1000;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Spawns the workers; resolves when all are ready, rejects with ERR_WORKER_BOOT_FAILED if the app cannot boot. */
  start(): Promise<void> {
    if (this.#phase !== 'idle') throw new Error('Arbiter.start() runs once');
    this.#phase = 'starting';
    this.#generation = 1;
    this.#options.listeners.forEach((listener, index) => {
      listener.on('connection', (socket: net.Socket) => this.#accepted(socket, index));
    });
    this.#timer = setInterval(() => this.#wake(), this.#heartbeatMs);
    const started = new Promise<void>((resolve, reject) => { this.#startWaiter = { resolve, reject }; });
    this.#wake();
    return started;
  }

  /** A new generation boots; only when all of it is ready are the old workers told to drain. */
  reload(): Promise<void> {
    const next = this.#reloadChain.then(() => this.#reloadOnce());
    this.#reloadChain = next.catch(() => {});
    return next;
  }

  #reloadOnce(): Promise<void> {
    if (this.#phase !== 'running') return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED', `the prefork master is ${this.#phase}`));
    channels.engine.publish({ engine: this.#options.engine, event: 'reload', detail: `booting generation ${this.#nextGeneration()} (${this.#target} workers)` });
    return new Promise<void>((resolve, reject) => {
      this.#reload = { generation: this.#nextGeneration(), waiter: { resolve, reject } };
      this.#wake();
    });
  }

  #nextGeneration(): number {
    return Math.max(this.#generation, ...[...this.#workers.values()].map((w) => w.generation)) + 1;
  }

  /** Changes the worker target; resolves when the worker count has settled there. */
  scale(delta: number): Promise<void> {
    if (this.#phase !== 'running' && this.#phase !== 'starting') return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED', `the prefork master is ${this.#phase}`));
    const target = Math.max(1, this.#target + Math.trunc(delta));
    if (target === this.#target) {
      channels.engine.publish({ engine: this.#options.engine, event: 'scale-ignored', level: 'warn', detail: `already at ${this.#target} worker(s); the minimum is 1` });
      return Promise.resolve();
    }
    this.#target = target;
    channels.engine.publish({ engine: this.#options.engine, event: 'scale', detail: `target ${target} worker(s)` });
    return new Promise<void>((resolve, reject) => {
      this.#scaleWaiters.push({ resolve, reject });
      this.#wake();
    });
  }

  /** Tells every worker to stop (finish or drop in-flight requests within timeoutMs); kills what is left after. */
  stop(graceful: boolean, timeoutMs: number): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const wasStarting = this.#phase === 'starting';
    this.#phase = this.#phase === 'idle' ? 'stopped' : 'stopping';
    const stopped = new GatehouseError('ERR_ENGINE_NOT_STARTED', 'the prefork master is stopping');
    if (wasStarting) this.#startWaiter?.reject(stopped);
    this.#startWaiter = null;
    this.#reload?.waiter.reject(stopped);
    this.#reload = null;
    for (const waiter of this.#scaleWaiters.splice(0)) waiter.resolve();
    // Connections the master accepted go to a worker before it hears "stop" (IPC keeps order).
    if (graceful) this.#flushPending(); else this.#dropPending();
    const now = performance.now();
    for (const worker of this.#workers.values()) worker.stop('stop', graceful, timeoutMs, now);
    this.#stopping = this.closed;
    if (this.#phase === 'stopped') this.#finish();
    this.#wake();
    return this.#stopping;
  }

  /** USR1: each worker republishes core's logsReopen in its own process. */
  reopenLogs(): void {
    for (const worker of this.#workers.values()) worker.send({ type: 'reopen-logs' });
  }

  stats(): Pick<EngineStats, 'generation' | 'units' | 'restarts'> {
    const units: UnitStats[] = [...this.#workers.values()].sort((a, b) => a.id - b.id).map((w) => w.stats());
    return { generation: this.#generation, units, restarts: { ...this.#restarts } };
  }

  // ---- events in: record and wake, nothing else ----

  #enqueue(event: ArbiterEvent): void {
    this.#events.push(event);
    this.#wake();
  }

  #wake(): void {
    if (this.#wakeScheduled || this.#phase === 'stopped') return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.#reconcile();
    });
  }

  // ---- the loop ----

  #reconcile(): void {
    if (this.#phase === 'stopped') return;
    const now = performance.now();
    for (const event of this.#events.splice(0)) {
      if (event.kind === 'message') this.#dispatch(event.worker, event.message, now);
      else if (event.kind === 'migrated') this.#rehome(event.worker, event.socket, now);
      else this.#reap(event.worker, event.code, event.signal, now);
    }
    this.#murder(now);
    // Re-read: dispatching may have stopped the master (a fatal boot error).
    const phase = this.#phase as Phase;
    if (phase === 'stopping' && this.#workers.size === 0) this.#finish();
    if (phase === 'stopping' || phase === 'stopped') return;
    this.#manage(now);
    this.#settle();
  }

  #dispatch(worker: WorkerHandle, message: FromWorker, now: number): void {
    if (worker.state === 'stopped') return;
    worker.lastHeartbeat = now;
    switch (message.type) {
      case 'heartbeat': {
        worker.requests = message.requests;
        worker.inFlight = message.inFlight;
        worker.rss = message.rss;
        worker.current = message.current;
        worker.connections = message.connections ?? null;
        if (message.metrics) worker.metrics = message.metrics;
        if (message.children) worker.children = message.children;
        const limit = this.#settings.maxWorkerMemory;
        if (limit > 0 && message.rss > limit && worker.state === 'ready' && !worker.retiring) {
          worker.retiring = 'memory';
          channels.engine.publish({ engine: this.#options.engine, event: 'recycle', level: 'warn',
            detail: `${worker.describe()} uses ${mib(message.rss)} MiB RSS, over --max-worker-memory ${mib(limit)} MiB: replacing it` });
        }
        break;
      }
      case 'booted':
        if (worker.state !== 'booting') break;
        this.#options.listeners.forEach((listener, index) => worker.send({ type: 'listen', index }, listener));
        break;
      case 'ready':
        if (worker.state !== 'booting') break;
        worker.state = 'ready';
        worker.wasReady = true;
        this.#bootCrashes = 0;
        this.#everReady = true;
        channels.unitUp.publish({ kind: 'process', id: worker.id, pid: worker.pid, detail: `generation ${worker.generation}` });
        this.#flushPending();
        break;
      case 'boot-failed':
        worker.bootError = errorLine(message.error);
        worker.bootFailure = message.error;
        break;
      case 'retire':
        if (worker.state === 'ready' && !worker.retiring) {
          worker.retiring = message.reason;
          channels.engine.publish({ engine: this.#options.engine, event: 'recycle', detail: `${worker.describe()} served ${this.#settings.maxRequests}+ requests (--max-requests): replacing it` });
        }
        break;
    }
  }

  /** A worker exited: account for it, and decide whether its death stops the master. */
  #reap(worker: WorkerHandle, code: number | null, signal: NodeJS.Signals | null, now: number): void {
    if (!this.#workers.delete(worker.id)) return;
    for (const socket of worker.handedOver) socket.destroy();
    worker.handedOver.clear();
    const wasBooting = worker.state === 'booting';
    worker.state = 'stopped';
    const asked = worker.downReason !== null && worker.downReason !== 'timeout';
    const reason: DownReason = worker.downReason ?? 'crash';
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const detail = worker.bootError ?? (asked ? undefined : `${how}${wasBooting ? ' while booting' : ''}`);
    if (RESTART_CAUSES.has(reason) && this.#phase !== 'stopping') this.#restarts[reason as RestartCause]++;
    channels.unitDown.publish({ kind: 'process', id: worker.id, pid: worker.pid, reason, detail });
    this.#callHook(this.#settings.workerExit, 'worker_exit', { id: worker.id, pid: worker.pid, generation: worker.generation, reason, code, signal });
    if (this.#phase === 'stopping' || asked || !wasBooting) return;

    // It died while booting, on its own or stuck: the app may be unable to boot at all.
    this.#bootCrashes++;
    const failure = worker.bootError ?? `${worker.describe()} ${how} before it was ready`;
    const appError = worker.bootFailure ?? null;
    if (this.#reload && worker.generation === this.#reload.generation) {
      this.#abortReload(failure, appError);
    } else if (!this.#everReady && (code === EXIT_BOOT_FAILED || this.#bootCrashes >= MAX_BOOT_CRASHES)) {
      this.#die(new GatehouseError('ERR_WORKER_BOOT_FAILED', code === EXIT_BOOT_FAILED ? `${worker.describe()}: ${failure}` : `${failure} (${this.#bootCrashes} times in a row)`), appError);
    } else {
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.#bootCrashes - 1));
      this.#nextSpawnAt = now + delay;
      channels.engine.publish({ engine: this.#options.engine, event: 'boot-crash', level: 'error',
        detail: `${failure}; next worker in ${(delay / 1000).toFixed(1)}s (${this.#bootCrashes} in a row)` });
      for (const waiter of this.#scaleWaiters.splice(0)) waiter.reject(new GatehouseError('ERR_WORKER_BOOT_FAILED', failure));
    }
  }

  #abortReload(failure: string, appError: SerializedError | null): void {
    const reload = this.#reload!;
    this.#reload = null;
    const now = performance.now();
    for (const worker of this.#workers.values()) {
      if (worker.generation === reload.generation) worker.stop('reload', false, 0, now);
    }
    channels.engine.publish({ engine: this.#options.engine, event: 'reload-failed', level: 'error', detail: `${failure}; generation ${this.#generation} keeps serving` });
    reload.waiter.reject(withAppStack(new GatehouseError('ERR_RELOAD_FAILED', failure), appError));
  }

  /** Fatal: the app cannot boot. Kill everything, reject start(), close. */
  #die(error: GatehouseError, appError: SerializedError | null): void {
    this.#fatal = withAppStack(error, appError);
    this.#phase = 'stopping';
    channels.engine.publish({ engine: this.#options.engine, event: 'fatal', level: 'error', detail: error.message });
    this.#startWaiter?.reject(this.#fatal);
    this.#startWaiter = null;
    for (const waiter of this.#scaleWaiters.splice(0)) waiter.reject(this.#fatal);
    this.#dropPending();
    for (const worker of this.#workers.values()) worker.kill('stop');
    this.#stopping = this.closed;
  }

  get fatalError(): GatehouseError | null {
    return this.#fatal;
  }

  #murder(now: number): void {
    for (const worker of this.#workers.values()) {
      if (worker.killed) continue;
      if (now >= worker.killAt) {
        channels.engine.publish({ engine: this.#options.engine, event: 'kill', level: 'warn',
          detail: `${worker.describe()} did not exit within its stop deadline (--graceful-timeout ${this.#settings.gracefulTimeout}s): killing it` });
        worker.kill(worker.downReason ?? 'stop');
        continue;
      }
      if (this.#timeoutMs <= 0) continue;
      const limit = worker.wasReady ? this.#timeoutMs : Math.max(this.#timeoutMs, BOOT_TIMEOUT_FLOOR_MS);
      const silent = now - worker.lastHeartbeat;
      if (silent <= limit) continue;
      channels.engine.publish({ engine: this.#options.engine, event: 'timeout', level: 'error',
        detail: `${worker.describe()} sent no heartbeat for ${(silent / 1000).toFixed(1)}s (--timeout ${this.#settings.timeout}s), its event loop is stuck: killing it. ${doing(worker)}` });
      worker.downReason = 'timeout';
      worker.kill('timeout');
    }
  }

  #manage(now: number): void {
    const live = [...this.#workers.values()].filter((w) => w.live);
    if (this.#reload) {
      const reload = this.#reload;
      const next = live.filter((w) => w.generation === reload.generation);
      for (let i = next.length; i < this.#target; i++) this.#spawn(reload.generation, now);
      if (next.filter((w) => w.state === 'ready').length >= this.#target) {
        for (const old of live) if (old.generation !== reload.generation) old.stop('reload', true, this.#settings.gracefulTimeout * 1000, now);
        this.#generation = reload.generation;
        this.#reload = null;
        channels.engine.publish({ engine: this.#options.engine, event: 'reloaded', detail: `generation ${reload.generation} is serving; the previous one drains` });
        reload.waiter.resolve();
      }
      return; // the old generation is neither replaced nor recycled while the new one boots
    }

    const serving = live.filter((w) => w.generation === this.#generation);
    const fresh = serving.filter((w) => !w.retiring);
    // Spawn up to the target, unless workers are dying at boot and the back-off is running.
    const missing = this.#target - fresh.length;
    if (missing > 0) {
      if (now < this.#nextSpawnAt) this.#wakeAt(this.#nextSpawnAt - now);
      else for (let i = 0; i < missing; i++) this.#spawn(this.#generation, now);
    }
    // Cull past the target: booting ones first (youngest), then the oldest (Gunicorn's choice).
    if (fresh.length > this.#target) {
      const order = [...fresh.filter((w) => w.state === 'booting').sort((a, b) => b.id - a.id), ...fresh.filter((w) => w.state === 'ready').sort((a, b) => a.id - b.id)];
      for (const worker of order.slice(0, fresh.length - this.#target)) worker.stop('scale', true, this.#settings.gracefulTimeout * 1000, now);
    }
    // Recycle: drain a retiring worker only once a replacement is ready, so capacity never dips.
    const readyFresh = fresh.filter((w) => w.state === 'ready').length;
    const retiring = serving.filter((w) => w.retiring && w.state === 'ready').sort((a, b) => a.id - b.id);
    const drainable = Math.min(retiring.length, readyFresh + retiring.length - this.#target);
    for (const worker of retiring.slice(0, Math.max(0, drainable))) worker.stop(worker.retiring!, true, this.#settings.gracefulTimeout * 1000, now);
    this.#balance(now);
  }

  /** Asks the worker with the most connections to give idle ones back, when the split is uneven. */
  #balance(now: number): void {
    const workers = this.#balanceable(now);
    if (workers.length < 2) return;
    workers.sort((a, b) => a.connections! - b.connections!);
    const least = workers[0]!;
    const most = workers[workers.length - 1]!;
    const total = workers.reduce((sum, w) => sum + w.connections!, 0);
    const gap = most.connections! - least.connections!;
    if (gap <= 2 || gap <= total * BALANCE_SLACK) return;
    // Its count is stale until it reports again: one shed per heartbeat.
    if (most.lastHeartbeat <= most.shedAt) return;
    most.shedAt = now;
    most.send({ type: 'shed', count: Math.floor(gap / 2) });
  }

  /** Its last message is at most a quarter of a heartbeat late: its loop is turning. */
  #heardFromLately(worker: WorkerHandle, now: number): boolean {
    return now - worker.lastHeartbeat < 1.25 * this.#heartbeatMs;
  }

  /** Ready, current, not retiring, heard from lately, and able to give connections back. */
  #balanceable(now: number): WorkerHandle[] {
    return [...this.#workers.values()].filter((w) => w.state === 'ready' && w.connections !== null && !w.retiring
      && w.generation >= this.#generation && this.#heardFromLately(w, now));
  }

  /** A connection a worker gave back goes to the least loaded other worker. */
  #rehome(from: WorkerHandle, socket: net.Socket, now: number): void {
    if (from.connections !== null) from.connections--;
    if (this.#phase === 'stopping' || this.#phase === 'stopped') { socket.destroy(); return; }
    const target = this.#balanceable(now).filter((w) => w !== from && w.handedOver.size === 0)
      .sort((a, b) => a.connections! - b.connections!)[0];
    if (!target) {
      // Nowhere better to go: back to a ready worker (perhaps the same one).
      if (!this.#handOver(socket, 0)) socket.destroy();
      return;
    }
    target.connections!++;
    this.#sendConnection(target, socket, 0);
  }

  #settle(): void {
    const workers = [...this.#workers.values()];
    const settled = workers.length === this.#target && workers.every((w) => w.state === 'ready');
    if (!settled) return;
    if (this.#phase === 'starting') {
      this.#phase = 'running';
      this.#startWaiter?.resolve();
      this.#startWaiter = null;
    }
    for (const waiter of this.#scaleWaiters.splice(0)) waiter.resolve();
  }

  #finish(): void {
    this.#phase = 'stopped';
    for (const event of this.#events.splice(0)) if (event.kind === 'migrated') event.socket.destroy();
    clearInterval(this.#timer);
    clearTimeout(this.#backoffTimer);
    this.#dropPending();
    this.#closed();
  }

  #wakeAt(delayMs: number): void {
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => this.#wake(), Math.ceil(delayMs));
  }

  // ---- workers ----

  #spawn(generation: number, now: number): void {
    const id = ++this.#nextId;
    const settings = this.#settings;
    const maxRequests = settings.maxRequests > 0 ? settings.maxRequests + randomInt(0, Math.max(0, settings.maxRequestsJitter) + 1) : 0;
    this.#callHook(settings.preFork, 'pre_fork', { id, generation });
    let child: ChildProcess;
    try {
      child = fork(WORKER_MAIN, [], { execArgv: workerExecArgv(), stdio: ['inherit', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    } catch (error) {
      channels.engine.publish({ engine: this.#options.engine, event: 'fork-failed', level: 'error', detail: String(error) });
      this.#nextSpawnAt = now + BACKOFF_MAX_MS;
      return;
    }
    const worker = new WorkerHandle(id, generation, child, now);
    this.#workers.set(id, worker);
    child.on('message', (message: unknown, handle?: net.Socket) => {
      if (!isFromWorker(message)) return;
      if (message.type !== 'migrate') { this.#enqueue({ kind: 'message', worker, message }); return; }
      if (!handle) return;
      // Node started reading the socket it made for the handle; stop now, before the next poll
      // could read the client's next request here, where nobody would parse it.
      stopReading(handle);
      this.#enqueue({ kind: 'migrated', worker, socket: handle });
    });
    child.once('exit', (code, signal) => this.#enqueue({ kind: 'exit', worker, code, signal }));
    child.on('error', (error) => {
      // fork() failed (EAGAIN, ENOMEM) or a send failed; without a pid there will be no 'exit'.
      channels.engine.publish({ engine: this.#options.engine, event: 'worker-error', level: 'error', detail: `${worker.describe()}: ${error.message}` });
      if (child.pid === undefined) this.#enqueue({ kind: 'exit', worker, code: null, signal: null });
    });
    const config: WorkerConfig = {
      id, generation,
      settings: serializableSettings(settings),
      app: this.#options.app,
      configFile: this.#options.configFile,
      setupModules: this.#options.setupModules ?? [],
      entry: this.#options.workerEntry ?? IN_LOOP_BODY,
      data: this.#options.workerData ?? null,
      heartbeatMs: this.#heartbeatMs,
      maxRequests,
      listeners: this.#options.listeners.length,
    };
    worker.send({ type: 'start', config });
  }

  #callHook(hook: Hook | null, name: string, argument: unknown): void {
    if (typeof hook !== 'function') return;
    try {
      const result = hook(argument);
      if (result instanceof Promise) result.catch((error: unknown) => this.#hookFailed(name, error));
    } catch (error) {
      this.#hookFailed(name, error);
    }
  }

  #hookFailed(name: string, error: unknown): void {
    channels.engine.publish({ engine: this.#options.engine, event: 'hook-failed', level: 'error', detail: `${name}: ${error instanceof Error ? error.message : String(error)}` });
  }

  // ---- connections the master's own listener copies accepted ----

  #accepted(socket: net.Socket, index: number): void {
    if (this.#phase === 'stopping' || this.#phase === 'stopped') { socket.destroy(); return; }
    if (!this.#handOver(socket, index)) {
      if (this.#pendingSockets.length >= this.#settings.backlog) socket.destroy();
      else this.#pendingSockets.push({ socket, index });
    }
  }

  #handOver(socket: net.Socket, index: number): boolean {
    const now = performance.now();
    const ready = [...this.#workers.values()].filter((w) => w.state === 'ready');
    if (ready.length === 0) return false;
    // Prefer the current generation, not retiring, and heard from lately (not stuck).
    // A worker with a handover still unwritten is backed up: node queues further handles to a
    // child until it acknowledges the last one, which a stuck worker never does.
    const responsive = ready.filter((w) => this.#heardFromLately(w, now) && w.handedOver.size === 0);
    const preferred = responsive.filter((w) => !w.retiring && w.generation >= this.#generation);
    const pool = preferred.length > 0 ? preferred : responsive.length > 0 ? responsive : ready;
    this.#sendConnection(pool[this.#roundRobin++ % pool.length]!, socket, index);
    return true;
  }

  #sendConnection(worker: WorkerHandle, socket: net.Socket, index: number): void {
    // keepOpen: the master closes its copy itself once the message is written (the kernel then
    // holds the descriptor in flight), or when the worker dies before it was: a socket must
    // never outlive the worker it was meant for.
    worker.handedOver.add(socket);
    worker.send({ type: 'connection', index }, socket, () => {
      worker.handedOver.delete(socket);
      socket.destroy();
    }, true);
  }

  #flushPending(): void {
    while (this.#pendingSockets.length > 0) {
      const { socket, index } = this.#pendingSockets[0]!;
      if (!this.#handOver(socket, index)) return;
      this.#pendingSockets.shift();
    }
  }

  #dropPending(): void {
    for (const { socket } of this.#pendingSockets.splice(0)) socket.destroy();
  }
}

/** What a worker was doing when it went silent, as far as its last heartbeat told. */
function doing(worker: WorkerHandle): string {
  if (worker.state === 'booting') return 'It was loading the app.';
  if (worker.current) return `The last request it reported starting: ${worker.current.method} ${worker.current.path}, ${(worker.current.ageMs / 1000).toFixed(1)}s before its last heartbeat.`;
  return `At its last heartbeat it had no request in flight; the one that blocked it started after that.`;
}

/** The app's error on one line: its message lines without stack frames (the stack stays in error.stack). */
function errorLine(error: SerializedError): string {
  const lines = error.message.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('at '));
  return `${error.code}: ${lines.join(' -- ')}`;
}

function withAppStack(error: GatehouseError, appError: SerializedError | null): GatehouseError {
  if (appError?.stack) error.stack = `${error.name}: ${error.message}\n    app error: ${appError.stack}`;
  return error;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

/** Flags whose next argument is their value, which goes with them. */
const FLAGS_WITH_VALUE = new Set(['-e', '--eval', '-p', '--print']);

/**
 * The master's node flags minus those that must not be repeated per worker: the test runner
 * and inspector, and above all an inline script (`node -e`/`-p`): fork() would run that script
 * again in every worker instead of the worker's entry, and a script that starts a server would
 * fork without end. Loaders (--import, --require, --loader) stay: the app may need them.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (FLAGS_WITH_VALUE.has(arg)) { i++; continue; }
    if (/^--(test|inspect|debug|watch|eval=|print=|input-type|interactive|check)/.test(arg) || arg === '-i' || arg === '-c') continue;
    kept.push(arg);
  }
  return kept;
}
