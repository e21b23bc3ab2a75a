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
 * It knows nothing of HTTP or of the app: workers come from a SpawnWorker factory (the real
 * one forks worker/main.ts, which runs whatever WorkerBody `workerEntry` names: the app
 * in-loop for prefork, a thread pool for hybrid), and time from an ArbiterClock, so tests can run it
 * with fake workers and a hand-driven clock (worker-process.ts). It shares the sockets the
 * engine bound: each worker gets every one once, listens and accepts on it; the master never
 * accepts. A worker gets them at once when no worker serves (the first boot: it accepts while
 * its app loads and serves those connections once loaded, as a single process would), else
 * once booted, so that no connection waits on a loading app while a ready worker could serve
 * it. Where connections that pass through the master (given back by a worker) go is
 * handover.ts's business; under --sticky the master accepts them all itself and
 * sticky-router.ts picks each one's worker.
 *
 * The rules (heartbeat interval, liveness with 0 = off, a frozen master that forgives its
 * workers, max-requests jitter, memory recycling, boot back-off, the restart record) are
 * core's supervision policy; this loop applies them to processes. A frozen master (SIGSTOP of
 * the process group, a VM pause, a debugger, a blocked loop in an embedding program) could
 * not hear anyone meanwhile: its late pass restarts every worker's liveness clock.
 *
 * Reload, by --reload-strategy. generation: the whole new generation boots; once all of it is
 * ready, the old workers are told to stop. rolling: at most --reload-batch new workers boot at
 * a time (never more than the target + batch alive), and each old worker is told to stop only
 * once a new one is ready to take its place, so capacity never dips and memory stays near one
 * generation. Either way an old worker stops with `handOff` (its idle keep-alive connections
 * come back and go to the workers that stay), and reload() resolves only when each has said
 * `quiesced` (listeners closed, no connection left that can carry another request) or exited:
 * from then on every new request meets new code. Long-lived connections (WebSockets, tunnels,
 * HTTP/2 sessions) cannot move: an old worker keeps them until they close or its graceful
 * timeout ends them (1001, GOAWAY). Once it says `lingering` (no request running, only those
 * left) it no longer counts against the rolling ceiling, so the next new worker boots at
 * once: capacity for new connections comes back at the speed of booting, not of draining. A
 * lingering worker stays supervised (killed past its deadline, its exit counted, never
 * restarted, stopped with the rest). Settings a reload brings (a re-read config)
 * are the new workers' from their spawn, and the master's once the reload is done.
 *
 * Boot failures: an app that cannot boot at start stops the master with the app's error
 * (ERR_WORKER_BOOT_FAILED) instead of a fork loop; workers that die while booting after
 * that are respawned with an exponential back-off; a reload whose new code cannot boot is
 * abandoned and the old generation keeps serving (ERR_RELOAD_FAILED).
 */
import type net from 'node:net';
import {
  GatehouseError, channels, type EngineStats, type Hook, type SerializedError, type Settings, type UnitStats,
} from '@gatehouse/core';
import {
  BootBackoff, Liveness, MEMORY_RECYCLE_FRACTION, RepeatedLine, freeSlot, recycleAfter, restartCounts, serializableSettings,
  shouldRecycleForMemory, stopReading, type HeldListener, type RestartCause,
} from '@gatehouse/core/internal';
import { Handover } from './handover.js';
import { StickyRouter } from './sticky-router.js';
import { killStuck } from './stack-capture.js';
import { EXIT_BOOT_FAILED, isFromWorker, type FromWorker, type WorkerConfig } from './messages.js';
import { WorkerHandle, type DownReason } from './worker-handle.js';
import { forkWorker, systemClock, type ArbiterClock, type SpawnWorker } from './worker-process.js';

export const IN_LOOP_BODY = new URL('./worker/in-loop-body.js', import.meta.url).href;

/** Booting gets at least this long without a heartbeat (node's own start-up on a busy machine). */
const BOOT_TIMEOUT_FLOOR_MS = 10_000;
/** Crashes before ready, in a row and before any worker was ever ready, that make start() give up. */
const MAX_BOOT_CRASHES = 5;
/** After fork() itself failed (EAGAIN, ENOMEM), the next attempt waits this long. */
const FORK_FAILED_WAIT_MS = 10_000;

export interface ArbiterOptions {
  /** Engine name for diagnostics events. */
  readonly engine: string;
  /** The master's settings (hooks included; workers get them without). */
  readonly settings: Readonly<Settings>;
  readonly app: { readonly spec: string; readonly cwd?: string };
  /** Sockets the engine bound (not accepting in the master); every worker is given each. */
  readonly listeners: readonly HeldListener[];
  /**
   * --sticky: listening servers the master accepts on itself, handing each connection to the
   * worker its client address belongs to (sticky-router.ts); `listeners` is then empty.
   */
  readonly acceptors?: readonly net.Server[];
  /** Module whose default export makes the worker body (worker/body.ts). Default: the in-loop body. */
  readonly workerEntry?: string;
  /** Handed to the worker entry as `context.data`; must survive JSON. */
  readonly workerData?: unknown;
  readonly configFile?: string;
  readonly setupModules?: readonly string[];
  /** Starts worker processes. Default: fork worker/main.ts. */
  readonly spawnWorker?: SpawnWorker;
  readonly clock?: ArbiterClock;
}

type ArbiterEvent =
  | { readonly kind: 'message'; readonly worker: WorkerHandle; readonly message: FromWorker }
  /** A connection the worker gave back after `shed`, its reading already stopped. */
  | { readonly kind: 'migrated'; readonly worker: WorkerHandle; readonly socket: net.Socket }
  | { readonly kind: 'exit'; readonly worker: WorkerHandle; readonly code: number | null; readonly signal: NodeJS.Signals | null };

interface Waiter { resolve(): void; reject(error: unknown): void }

interface PendingReload {
  readonly generation: number;
  readonly waiter: Waiter;
  /** What the new workers start with, and the master keeps once they serve. */
  readonly settings: Readonly<Settings>;
  readonly target: number;
  /** New workers booting at once: the whole target (generation) or --reload-batch (rolling). */
  readonly batch: number;
  readonly rolling: boolean;
  /** Rolling: the most workers alive at once, so memory stays near one generation. */
  readonly ceiling: number;
  /** Rolling: a new worker was ready, so the new code boots; a later boot failure is retried. */
  proven: boolean;
  /** Old workers told to stop so far. */
  readonly drained: WorkerHandle[];
  /** Set once the new generation serves: the old workers still to say `quiesced`. */
  outgoing: WorkerHandle[] | null;
}

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';
const RESTART_CAUSES: ReadonlySet<DownReason> = new Set(['crash', 'timeout', 'max-requests', 'memory', 'reload']);

export class Arbiter {
  readonly #options: ArbiterOptions;
  #settings: Readonly<Settings>;
  readonly #workers = new Map<number, WorkerHandle>();
  readonly #events: ArbiterEvent[] = [];
  readonly #restarts = restartCounts();
  readonly #liveness: Liveness<WorkerHandle>;
  readonly #backoff: BootBackoff;
  readonly #bootCrashLine: RepeatedLine;
  #phase: Phase = 'idle';
  #target: number;
  #nextId = 0;
  /** The generation serving traffic; a reload's new one is #reload.generation until it takes over. */
  #generation = 0;
  #reload: PendingReload | null = null;
  #reloadChain: Promise<void> = Promise.resolve();
  #startWaiter: Waiter | null = null;
  #scaleWaiters: Waiter[] = [];
  #everReady = false;
  /** fork() failed: no spawn before this clock time. */
  #forkRetryAt = 0;
  #fatal: GatehouseError | null = null;
  readonly #handover: Handover;
  readonly #sticky: StickyRouter | null;
  readonly #spawnWorker: SpawnWorker;
  readonly #clock: ArbiterClock;
  #cancelTick: (() => void) | undefined;
  #cancelBackoff: (() => void) | undefined;
  #wakeScheduled = false;
  #stopping: Promise<void> | null = null;
  /** A graceful stop is announced: every worker, and any started from now on, answers readiness 503. */
  #drainAnnounced = false;
  #closed!: () => void;
  /** Resolves when every worker has exited after stop() or a fatal boot error. */
  readonly closed: Promise<void> = new Promise((resolve) => { this.#closed = resolve; });

  constructor(options: ArbiterOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#target = Math.max(1, options.settings.workers);
    this.#spawnWorker = options.spawnWorker ?? forkWorker(workerExecArgv(), { stackPipe: options.settings.stackOnTimeout });
    this.#clock = options.clock ?? systemClock;
    const now = (): number => this.#clock.now();
    this.#liveness = new Liveness({ timeoutSeconds: options.settings.timeout, bootTimeoutMs: BOOT_TIMEOUT_FLOOR_MS, clock: now });
    this.#backoff = new BootBackoff({ clock: now });
    this.#bootCrashLine = new RepeatedLine({ clock: now });
    const arbiter = this;
    this.#handover = new Handover({
      workers: () => this.#workers.values(),
      get generation() { return arbiter.#generation; },
      get accepting() { return arbiter.#phase !== 'stopping' && arbiter.#phase !== 'stopped'; },
      heardFromLately: (worker, now) => this.#heardFromLately(worker, now),
    });
    this.#sticky = options.acceptors ? new StickyRouter({
      workers: () => this.#workers.values(),
      get accepting() { return arbiter.#phase !== 'stopping' && arbiter.#phase !== 'stopped'; },
      backlog: options.settings.backlog,
      handover: this.#handover,
    }) : null;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Spawns the workers; resolves when all are ready, rejects with ERR_WORKER_BOOT_FAILED if the app cannot boot. */
  start(): Promise<void> {
    if (this.#phase !== 'idle') throw new Error('Arbiter.start() runs once');
    this.#phase = 'starting';
    this.#generation = 1;
    this.#options.acceptors?.forEach((acceptor, index) => {
      acceptor.on('connection', (socket: net.Socket) => this.#sticky!.accepted(socket, index, this.#clock.now()));
    });
    this.#cancelTick = this.#clock.setInterval(() => this.#wake(), this.#liveness.intervalMs);
    const started = new Promise<void>((resolve, reject) => { this.#startWaiter = { resolve, reject }; });
    this.#wake();
    return started;
  }

  /** New workers replace the old ones (by --reload-strategy), started with `settings` if given. */
  reload(settings?: Readonly<Settings>): Promise<void> {
    const next = this.#reloadChain.then(() => this.#reloadOnce(settings ?? this.#settings));
    this.#reloadChain = next.catch(() => {});
    return next;
  }

  #reloadOnce(settings: Readonly<Settings>): Promise<void> {
    if (this.#phase !== 'running') return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED', `the prefork master is ${this.#phase}`));
    // A re-read config that leaves --workers as it was keeps a TTIN/TTOU target.
    const target = settings.workers === this.#settings.workers ? this.#target : Math.max(1, settings.workers);
    const rolling = settings.reloadStrategy === 'rolling';
    const batch = rolling ? Math.min(target, Math.max(1, settings.reloadBatch)) : target;
    const old = [...this.#workers.values()].filter((w) => w.live).length;
    const generation = this.#nextGeneration();
    channels.engine.publish({ engine: this.#options.engine, event: 'reload',
      detail: `booting generation ${generation} (${target} workers, ${rolling ? `rolling, ${batch} at a time` : 'all at once'})` });
    return new Promise<void>((resolve, reject) => {
      this.#reload = {
        generation, waiter: { resolve, reject }, settings, target, batch, rolling,
        ceiling: Math.max(target, old) + batch, proven: false, drained: [], outgoing: null,
      };
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
    const now = this.#clock.now();
    if (graceful) this.#sticky?.flush(now); else this.#sticky?.drop();
    for (const worker of this.#workers.values()) worker.stop('stop', graceful, timeoutMs, now);
    this.#stopping = this.closed;
    if (this.#phase === 'stopped') this.#finish();
    this.#wake();
    return this.#stopping;
  }

  /** The first phase of a graceful stop (--stop-delay): workers keep serving, their readiness answers 503. */
  announceDrain(): void {
    this.#drainAnnounced = true;
    for (const worker of this.#workers.values()) worker.send({ type: 'drain-announced' });
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
    const now = this.#clock.now();
    for (const event of this.#events.splice(0)) {
      if (event.kind === 'message') this.#dispatch(event.worker, event.message, now);
      else if (event.kind === 'migrated') (this.#sticky ?? this.#handover).rehome(event.worker, event.socket, now);
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
    this.#liveness.beat(worker);
    switch (message.type) {
      case 'heartbeat': {
        worker.requests = message.requests;
        worker.inFlight = message.inFlight;
        worker.upgraded = message.upgraded;
        worker.rss = message.rss;
        if (message.utilization !== undefined) worker.utilization = message.utilization;
        worker.queueDepth = message.queueDepth;
        worker.connections = message.connections ?? null;
        if (message.metrics) worker.metrics = message.metrics;
        if (message.children) worker.children = message.children;
        const limit = this.#settings.maxWorkerMemory;
        if (shouldRecycleForMemory(message.rss, limit) && worker.state === 'ready' && !worker.retiring) {
          worker.retiring = 'memory';
          channels.engine.publish({ engine: this.#options.engine, event: 'recycle', level: 'warn',
            detail: `${worker.describe()} uses ${mib(message.rss)} MiB RSS, past ${MEMORY_RECYCLE_FRACTION * 100}% of --max-worker-memory ${mib(limit)} MiB: replacing it` });
        }
        break;
      }
      case 'booted':
        if (worker.state !== 'booting') break;
        if (!worker.listening) this.#shareListeners(worker);
        break;
      case 'ready':
        if (worker.state !== 'booting') break;
        worker.state = 'ready';
        this.#liveness.ready(worker);
        this.#backoff.reset();
        this.#bootCrashLine.reset();
        this.#everReady = true;
        channels.unitUp.publish({ kind: 'process', id: worker.id, pid: worker.pid, detail: `generation ${worker.generation}` });
        this.#sticky?.flush(now);
        break;
      case 'quiesced':
        worker.quiesced = true;
        break;
      case 'lingering':
        worker.lingering = true;
        break;
      case 'boot-failed':
        worker.bootError = errorLine(message.error);
        worker.bootFailure = message.error;
        break;
      case 'retire':
        if (worker.state === 'ready' && !worker.retiring) {
          worker.retiring = message.reason;
          channels.engine.publish({ engine: this.#options.engine, event: 'recycle', detail: `${worker.describe()} served ${message.requests} requests (--max-requests ${this.#settings.maxRequests}, jitter ${this.#settings.maxRequestsJitter}): replacing it` });
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
    worker.quiesced = true;
    worker.lingering = true;
    this.#liveness.forget(worker);
    const asked = worker.downReason !== null && worker.downReason !== 'timeout';
    const reason: DownReason = worker.downReason ?? 'crash';
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const detail = worker.bootError ?? (asked ? undefined : `${how}${wasBooting ? ' while booting' : ''}`);
    if (RESTART_CAUSES.has(reason) && this.#phase !== 'stopping') this.#restarts[reason as RestartCause]++;
    // A worker that reported its boot failure is not a crash: the failure is reported once, by whoever it stops.
    channels.unitDown.publish({ kind: 'process', id: worker.id, pid: worker.pid, reason: worker.bootFailure ? 'boot-failed' : reason, detail,
      ...(worker.metrics ? { metrics: worker.metrics } : {}) });
    this.#callHook(this.#settings.workerExit, 'worker_exit', { id: worker.id, pid: worker.pid, generation: worker.generation, reason, code, signal });
    if (this.#phase === 'stopping' || asked || !wasBooting) return;

    // It died while booting, on its own or stuck: the app may be unable to boot at all.
    const delay = this.#backoff.crashed();
    const crashes = this.#backoff.crashes;
    const failure = worker.bootError ?? `${worker.describe()} ${how} before it was ready`;
    const appError = worker.bootFailure ?? null;
    if (this.#reload && worker.generation === this.#reload.generation && !this.#reload.proven) {
      this.#abortReload(failure, appError);
    } else if (!this.#everReady && (code === EXIT_BOOT_FAILED || crashes >= MAX_BOOT_CRASHES)) {
      this.#die(new GatehouseError('ERR_WORKER_BOOT_FAILED', code === EXIT_BOOT_FAILED ? `${worker.describe()}: ${failure}` : `${failure} (${crashes} times in a row)`), appError);
    } else {
      const line = this.#bootCrashLine.next(failure);
      if (line !== null) channels.engine.publish({ engine: this.#options.engine, event: 'boot-crash', level: 'error',
        detail: `${line}; next worker in ${(delay / 1000).toFixed(1)}s (${crashes} in a row)` });
      for (const waiter of this.#scaleWaiters.splice(0)) waiter.reject(new GatehouseError('ERR_WORKER_BOOT_FAILED', failure));
    }
  }

  #abortReload(failure: string, appError: SerializedError | null): void {
    const reload = this.#reload!;
    this.#reload = null;
    const now = this.#clock.now();
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
    this.#sticky?.drop();
    for (const worker of this.#workers.values()) worker.kill('stop');
    this.#stopping = this.closed;
  }

  get fatalError(): GatehouseError | null {
    return this.#fatal;
  }

  #murder(now: number): void {
    for (const worker of this.#workers.values()) {
      if (worker.killed || now < worker.killAt) continue;
      channels.engine.publish({ engine: this.#options.engine, event: 'kill', level: 'warn',
        detail: `${worker.describe()} did not exit within its stop deadline (--graceful-timeout ${this.#settings.gracefulTimeout}s): killing it` });
      worker.kill(worker.downReason ?? 'stop');
    }
    for (const worker of this.#liveness.overdue()) {
      if (worker.killed || worker.downReason === 'timeout') continue; // killed, or its stack is being read
      const silent = this.#liveness.silentFor(worker);
      channels.engine.publish({ engine: this.#options.engine, event: 'timeout', level: 'error',
        detail: `${worker.describe()} sent no heartbeat for ${(silent / 1000).toFixed(1)}s (--timeout ${this.#settings.timeout}s), its event loop is stuck: killing it. ${doing(worker)}` });
      worker.downReason = 'timeout';
      killStuck(worker, (detail) => channels.engine.publish({ engine: this.#options.engine, event: 'stack', level: 'error', detail }));
    }
  }

  #manage(now: number): void {
    const live = [...this.#workers.values()].filter((w) => w.live);
    if (this.#reload && this.#reload.outgoing === null) {
      // The old generation is neither replaced nor recycled while the new one comes up.
      if (!this.#replace(this.#reload, live, now)) return;
      const reload = this.#reload;
      reload.outgoing = [...reload.drained, ...live.filter((w) => w.generation !== reload.generation && !reload.drained.includes(w))];
      this.#generation = reload.generation;
      this.#settings = reload.settings;
      this.#target = reload.target;
      for (const old of reload.outgoing) old.stop('reload', true, this.#settings.gracefulTimeout * 1000, now, true);
      channels.engine.publish({ engine: this.#options.engine, event: 'reloaded', detail: `generation ${reload.generation} is serving; the previous one drains` });
    }
    if (this.#reload?.outgoing?.every((w) => w.quiesced)) {
      this.#reload.waiter.resolve();
      this.#reload = null;
    }

    const serving = live.filter((w) => w.generation === this.#generation);
    const fresh = serving.filter((w) => !w.retiring);
    // Spawn up to the target, unless workers are dying at boot and the back-off is running.
    const missing = this.#target - fresh.length;
    const wait = Math.max(this.#backoff.wait(), this.#forkRetryAt - now);
    if (missing > 0) {
      if (wait > 0) this.#wakeAt(wait);
      else for (let i = 0; i < missing; i++) this.#spawn(this.#generation, now);
    }
    // Cull past the target: booting ones first (youngest), then the oldest (Gunicorn's choice).
    if (fresh.length > this.#target) {
      const order = [...fresh.filter((w) => w.state === 'booting').sort((a, b) => b.id - a.id), ...fresh.filter((w) => w.state === 'ready').sort((a, b) => a.id - b.id)];
      for (const worker of order.slice(0, fresh.length - this.#target)) worker.stop('scale', true, this.#settings.gracefulTimeout * 1000, now, true);
    }
    // Recycle: drain a retiring worker only once a replacement is ready, so capacity never dips.
    const readyFresh = fresh.filter((w) => w.state === 'ready').length;
    const retiring = serving.filter((w) => w.retiring && w.state === 'ready').sort((a, b) => a.id - b.id);
    const drainable = Math.min(retiring.length, readyFresh + retiring.length - this.#target);
    for (const worker of retiring.slice(0, Math.max(0, drainable))) worker.stop(worker.retiring!, true, this.#settings.gracefulTimeout * 1000, now, true);
    // Sticky clients stay where their address belongs, whatever the load.
    if (!this.#sticky) this.#handover.balance(now);
  }

  /**
   * One step of a reload: spawns new workers up to the batch and the ceiling, and (rolling)
   * stops one old worker for each new one ready beyond the target. A step is done when the
   * stopped worker has exited or lingers (only long-lived connections left), not when it exits.
   * True once the new generation alone makes the target.
   */
  #replace(reload: PendingReload, live: readonly WorkerHandle[], now: number): boolean {
    const next = live.filter((w) => w.generation === reload.generation);
    const ready = next.filter((w) => w.state === 'ready').length;
    if (reload.rolling) {
      if (ready > 0) reload.proven = true;
      const old = live.filter((w) => w.generation !== reload.generation).sort((a, b) => a.id - b.id);
      for (const worker of old.slice(0, Math.max(0, old.length + ready - reload.target))) {
        worker.stop('reload', true, reload.settings.gracefulTimeout * 1000, now, true);
        reload.drained.push(worker);
      }
    }
    const booting = next.length - ready;
    // An old worker kept only by long-lived connections may keep them for the whole graceful
    // timeout: new connections belong on new code before then, so it leaves the ceiling.
    const counted = [...this.#workers.values()].filter((w) => !w.lingering).length;
    const room = Math.min(reload.target - next.length, reload.batch - booting, reload.rolling ? reload.ceiling - counted : Infinity);
    const wait = Math.max(this.#backoff.wait(), this.#forkRetryAt - now);
    if (room > 0 && wait > 0) this.#wakeAt(wait);
    else for (let i = 0; i < room; i++) this.#spawn(reload.generation, now);
    return ready >= reload.target;
  }

  /** Its last message is at most a quarter of a heartbeat late: its loop is turning. */
  #heardFromLately(worker: WorkerHandle, now: number): boolean {
    return now - worker.lastHeartbeat < 1.25 * this.#liveness.intervalMs;
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
    this.#cancelTick?.();
    this.#cancelBackoff?.();
    this.#sticky?.drop();
    this.#closed();
  }

  #wakeAt(delayMs: number): void {
    this.#cancelBackoff?.();
    this.#cancelBackoff = this.#clock.setTimeout(() => this.#wake(), Math.ceil(delayMs));
  }

  // ---- workers ----

  #spawn(generation: number, now: number): void {
    const id = ++this.#nextId;
    const settings = this.#reload?.generation === generation ? this.#reload.settings : this.#settings;
    const recycleAt = recycleAfter(settings.maxRequests, settings.maxRequestsJitter);
    // The lowest slot no serving worker of its generation holds: a replacement (crash, recycle,
    // TTIN after TTOU) takes the slot its predecessor left, a new generation slots 0..N-1.
    const slot = freeSlot([...this.#workers.values()].filter((w) => w.generation === generation && w.live && !w.retiring).map((w) => w.slot));
    this.#callHook(settings.preFork, 'pre_fork', { id, generation });
    // Events never arrive during the spawn call itself (SpawnWorker), so `worker` is set by then.
    let worker!: WorkerHandle;
    try {
      const process = this.#spawnWorker({ id, generation }, {
        message: (message, handle) => {
          if (!isFromWorker(message)) return;
          if (message.type !== 'migrate') { this.#enqueue({ kind: 'message', worker, message }); return; }
          if (!handle) return;
          // Node started reading the socket it made for the handle; stop now, before the next poll
          // could read the client's next request here, where nobody would parse it.
          stopReading(handle);
          this.#enqueue({ kind: 'migrated', worker, socket: handle });
        },
        exit: (code, signal) => this.#enqueue({ kind: 'exit', worker, code, signal }),
        error: (error) => channels.engine.publish({ engine: this.#options.engine, event: 'worker-error', level: 'error', detail: `worker ${id}: ${error.message}` }),
      });
      worker = new WorkerHandle(id, generation, slot, process, now);
    } catch (error) {
      channels.engine.publish({ engine: this.#options.engine, event: 'fork-failed', level: 'error', detail: String(error) });
      this.#forkRetryAt = now + FORK_FAILED_WAIT_MS;
      return;
    }
    this.#workers.set(id, worker);
    this.#liveness.watch(worker);
    const config: WorkerConfig = {
      id, generation,
      settings: serializableSettings(settings),
      app: this.#options.app,
      configFile: this.#options.configFile,
      setupModules: this.#options.setupModules ?? [],
      entry: this.#options.workerEntry ?? IN_LOOP_BODY,
      data: this.#options.workerData ?? null,
      heartbeatMs: this.#liveness.intervalMs,
      maxRequests: Number.isFinite(recycleAt) ? recycleAt : 0,
      listeners: this.#options.listeners.length,
    };
    worker.send({ type: 'start', config });
    if (this.#drainAnnounced) worker.send({ type: 'drain-announced' });
    // Nothing serves yet: this worker accepts from now on and holds what it accepts until its
    // app is loaded, rather than the port refusing (it listens nowhere before the first worker).
    if (![...this.#workers.values()].some((w) => w.state === 'ready')) this.#shareListeners(worker);
  }

  /** The worker listens on every shared socket and accepts on it (worker/main.ts). */
  #shareListeners(worker: WorkerHandle): void {
    worker.listening = true;
    this.#options.listeners.forEach((listener, index) => worker.send({ type: 'listen', index }, listener.handle));
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
}

/** What a worker was doing when it went silent, as its scoreboard tells. */
function doing(worker: WorkerHandle): string {
  if (worker.state === 'booting') return 'It was loading the app.';
  const running = worker.process.running();
  if (running) return `It was running ${running.method} ${running.path}, started ${((Date.now() - running.startedAt) / 1000).toFixed(1)}s ago.`;
  return 'Its scoreboard names no request running.';
}

/** The app's error on one line: its message lines without stack frames (the stack stays in error.stack). */
function errorLine(error: SerializedError): string {
  const lines = error.message.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('at '));
  return `${error.code}: ${lines.join(' -- ')}`;
}

/** The app's own error rides along as `cause`, so a caller can show it rather than the wrapper. */
function withAppStack(error: GatehouseError, appError: SerializedError | null): GatehouseError {
  if (appError?.stack) error.stack = `${error.name}: ${error.message}\n    app error: ${appError.stack}`;
  if (appError) error.cause = GatehouseError.fromJSON(appError);
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
