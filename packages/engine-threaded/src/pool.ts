/*
 * MAIN THREAD. The pool of app threads and their supervisor. Like Gunicorn's arbiter it is a
 * reconcile loop: events (a thread ready, dead, due for recycling, a scale request) only change
 * state, then `reconcile()` spawns or drains until the active generation has `target` live
 * threads. What to do when is core's supervision policy (engine/supervision.ts), the same one
 * the prefork arbiter follows:
 * - liveness: a thread silent for `timeout` is terminated (its event loop is stuck) and
 *   replaced, its in-flight requests get 503, or 504 past their deadline; `--timeout 0` turns
 *   the check off; a pool whose own timer came late (the process was stopped or paused) restarts
 *   every thread's clock instead of blaming them;
 * - a thread that dies (uncaught exception, out of memory) costs only its in-flight requests;
 *   one that dies before it was ever ready is replaced only after the boot back-off (1 s
 *   doubling to 30 s), and its repeated log line is folded;
 * - recycling: a thread that has been given its max-requests (+ its jitter) requests, or whose
 *   heap passed 90% of max-thread-memory, takes no more: it finishes what it holds and exits
 *   while its replacement boots (a limit is a bound, and an app that leaks keeps leaking while
 *   a replacement boots). Other threads serve meanwhile; with none free, requests wait in the
 *   queue, so recycling fails no request;
 * - reload, by --reload-strategy. generation: a whole new generation boots and routing
 *   switches to it when every thread of it is ready; the old generation drains. rolling: a
 *   first batch (--reload-batch threads) boots; once it is ready the new generation is the
 *   active one and shares routing with the old threads still serving, and each further new
 *   thread that is ready drains one old one, never more than target + batch threads alive.
 *   A first batch that cannot boot abandons the reload (the old threads serve on); a later
 *   thread that dies booting is replaced after the boot back-off, as any. Settings a reload
 *   brings are the new threads'. No socket is involved: the pool has none.
 * - a draining thread (reload, recycle, scale, stop) keeps serving the upgraded connections
 *   whose app it runs (their tunnels, tunnel.ts) until they close or its graceful timeout:
 *   shortly before, the app is asked to end them its protocol's way, at it they are cut.
 * At start() a boot failure rejects instead. Threads come from a SpawnThread and time from a
 * PoolClock, so the whole policy runs in tests on stand-in threads and a fake clock.
 */
import { channels, GatehouseError, type Settings, type UnitStats } from '@gatehouse/core';
import {
  BootBackoff, Liveness, RepeatedLine, freeSlot, goingAwayLead, recordRequestUnit, rendezvousPick, recycleAfter, restartCounts, serializableSettings, shouldRecycleForMemory,
  type RestartCounts,
} from '@gatehouse/core/internal';
import { AppThread, spawnWorkerThread, type AppThreadEvents, type ExitReason, type SpawnThread } from './app-thread.js';
import type { Exchange } from './exchange.js';
import { killStuckThread } from './thread-stack.js';
import { REOPEN_LOGS, type ThreadData } from './messages.js';

/** Time and timers as the pool uses them (a fake one in tests). */
export interface PoolClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
  /** Runs `fn` once after `ms` unless the returned function is called first. */
  after(ms: number, fn: () => void): () => void;
}

/** performance.now() and unref'd Node timers: the pool never keeps a process alive. */
export const systemClock: PoolClock = {
  now: () => performance.now(),
  every(ms, fn) { const timer = setInterval(fn, ms); timer.unref(); return () => clearInterval(timer); },
  after(ms, fn) { const timer = setTimeout(fn, ms); timer.unref(); return () => clearTimeout(timer); },
};

export interface ThreadPoolOptions {
  readonly settings: Readonly<Settings>;
  /** The app module; inline apps cannot cross to a thread. */
  readonly app: { readonly spec: string; readonly cwd?: string };
  /** Modules each thread imports before loading the app (EngineContext.setupModules). */
  readonly setupModules?: readonly string[];
  /** Name used in engine events ('threaded', or 'hybrid' when a worker process embeds the pool). */
  readonly engineName?: string;
  /** Starts an app thread (default: a worker_threads Worker running thread-entry.ts). */
  readonly spawnThread?: SpawnThread;
  readonly clock?: PoolClock;
}

const MIB = 1024 * 1024;
/** A thread that has not been ready yet gets at least this long to boot before it is judged stuck. */
const BOOT_TIMEOUT_FLOOR_MS = 10_000;
/**
 * Young-generation cap per app thread. Uncapped, V8 grows each isolate's nursery under
 * allocation pressure until a hello-world server's RSS is mostly nursery garbage; this cap
 * bounds that at the same requests/s (docs/benchmarks.md, section 'Memory per unit'). An app
 * whose objects outlive several scavenges may want more (the main thread, which runs the
 * protocol layer, keeps V8's default).
 */
const APP_THREAD_YOUNG_GENERATION_MB = 8;

interface RollingReload {
  /** Old threads still serving. */
  readonly old: Set<AppThread>;
  readonly batch: number;
  /** The most threads alive at once. */
  readonly ceiling: number;
  readonly done: () => void;
}

export class ThreadPool implements AppThreadEvents {
  /** Called when a concurrency slot may have come free: the dispatcher serves its queue. */
  onCapacity: () => void = () => {};
  readonly #options: ThreadPoolOptions;
  #settings: Readonly<Settings>;
  readonly #threads = new Set<AppThread>();
  /** Ready threads of the active generation (and, while a reload rolls, the old ones still serving), in spawn order: where requests go. */
  #routing: AppThread[] = [];
  #target: number;
  #generation = 0;
  #nextId = 1;
  #running = false;
  #stopSupervisor: (() => void) | null = null;
  #cancelRetry: (() => void) | null = null;
  #reloading: Promise<void> | null = null;
  /** A rolling reload past its first batch: the old threads still to drain, and its end. */
  #rolling: RollingReload | null = null;
  readonly #restarts: RestartCounts = restartCounts();
  readonly #clock: PoolClock;
  readonly #spawnThread: SpawnThread;
  readonly #liveness: Liveness<AppThread>;
  readonly #backoff: BootBackoff;
  readonly #bootFailureLine: RepeatedLine;
  readonly #engine: string;

  constructor(options: ThreadPoolOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#target = Math.max(1, options.settings.threads);
    this.#engine = options.engineName ?? 'threaded';
    this.#clock = options.clock ?? systemClock;
    this.#spawnThread = options.spawnThread ?? spawnWorkerThread;
    const now = this.#clock.now;
    this.#liveness = new Liveness({ timeoutSeconds: this.#settings.timeout, bootTimeoutMs: BOOT_TIMEOUT_FLOOR_MS, clock: now });
    this.#backoff = new BootBackoff({ clock: now });
    this.#bootFailureLine = new RepeatedLine({ clock: now });
  }

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#target;
  }

  /** App threads of the serving generation that are ready to take requests. */
  get readyCount(): number {
    return this.#routing.length;
  }

  get restarts(): Readonly<RestartCounts> {
    return this.#restarts;
  }

  /** Boots every thread; resolves when all are ready, rejects with the app's error if one cannot boot. */
  async start(): Promise<void> {
    this.#generation = 1;
    const threads = Array.from({ length: this.#target }, () => this.#spawn(1));
    try {
      await Promise.all(threads.map((t) => t.ready));
    } catch (error) {
      for (const thread of this.#threads) thread.kill('boot-failed');
      await Promise.all([...this.#threads].map((t) => t.exited));
      throw error;
    }
    this.#running = true;
    this.#stopSupervisor = this.#clock.every(this.#liveness.intervalMs, () => this.supervise());
    this.reconcile();
  }

  /**
   * The least-loaded ready thread with a free slot, or null when every thread is at its bound.
   * Load is requests in flight; among equally loaded threads the one with fewer upgraded
   * connections wins, so WebSockets (which stay on the thread whose app accepted them, and
   * hold no slot) spread over the threads.
   */
  pick(): AppThread | null {
    const bound = this.#settings.threadConcurrency;
    let best: AppThread | null = null;
    for (const thread of this.#routing) {
      const load = thread.exchanges.size;
      if (load >= bound) continue;
      if (best === null || load < best.exchanges.size || (load === best.exchanges.size && thread.tunnels.size < best.tunnels.size)) {
        best = thread;
        if (load === 0 && thread.tunnels.size === 0) break;
      }
    }
    return best;
  }

  /**
   * --sticky: the routed thread `address` belongs to, by rendezvous hashing over thread slots
   * (core's engine/rendezvous.ts), whatever its load; null when no thread is ready. Of two in
   * one slot (a rolling reload's old and new thread) the newer serves.
   */
  route(address: string): AppThread | null {
    return rendezvousPick(address, STICKY_SEED, this.#routing, (t) => t.slot, (a, b) => a.generation - b.generation || a.id - b.id);
  }

  /** Whether the thread still takes requests (route() may pick it). */
  routes(thread: AppThread): boolean {
    return thread.state === 'ready' && this.#routing.includes(thread);
  }

  /** Whether the thread has a free concurrency slot (--thread-concurrency). */
  hasRoom(thread: AppThread): boolean {
    return thread.exchanges.size < this.#settings.threadConcurrency;
  }

  /** Upgraded connections open on the main side (tunnels) and bridge sockets the threads last reported open. */
  upgraded(): { tunnels: number; bridges: number } {
    let tunnels = 0;
    let bridges = 0;
    for (const thread of this.#threads) { tunnels += thread.tunnels.size; bridges += thread.bridges; }
    return { tunnels, bridges };
  }

  /** Every exchange a thread holds: running, or answered and not yet released. */
  forEachExchange(visit: (exchange: Exchange) => void): void {
    for (const thread of this.#threads) for (const exchange of thread.exchanges.values()) visit(exchange);
  }

  run(thread: AppThread, exchange: Exchange): void {
    recordRequestUnit(exchange.request, thread.id);
    thread.run(exchange);
    if (thread.requests >= thread.recycleAfter && thread.retiring === null) this.#retire(thread, 'max-requests');
  }

  /** Rolls every thread onto freshly loaded app code (and `settings`, if given); old threads serve until new ones are ready. */
  reload(settings?: Readonly<Settings>): Promise<void> {
    if (!this.#running) return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED'));
    this.#reloading ??= this.#reload(settings ?? this.#settings).finally(() => { this.#reloading = null; });
    return this.#reloading;
  }

  async #reload(settings: Readonly<Settings>): Promise<void> {
    const next = this.#generation + 1;
    // A re-read config that leaves --threads as it was keeps a TTIN/TTOU target.
    const target = settings.threads === this.#settings.threads ? this.#target : Math.max(1, settings.threads);
    const rolling = settings.reloadStrategy === 'rolling';
    const batch = rolling ? Math.min(target, Math.max(1, settings.reloadBatch)) : target;
    const ceiling = Math.max(target, this.#threads.size) + batch;
    const cacheBust = `${Date.now()}-${next}`; // wall time: unique across runs of the process
    const staged = Array.from({ length: batch }, () => this.#spawn(next, cacheBust, settings));
    this.#publish('reload', `booting generation ${next} (${target} threads, ${rolling ? `rolling, ${batch} at a time` : 'all at once'})`);
    try {
      await Promise.all(staged.map((t) => t.ready));
    } catch (error) {
      for (const thread of staged) thread.kill('boot-failed');
      this.#publish('reload-failed', `generation ${next} did not boot, generation ${this.#generation} keeps serving: ${(error as Error).message}`, 'error');
      throw error;
    }
    if (!this.#running) {
      for (const thread of staged) thread.kill('stop');
      return;
    }
    const previous = [...this.#threads].filter((t) => t.generation < next);
    this.#generation = next;
    this.#settings = settings;
    this.#target = target;
    if (rolling) {
      await new Promise<void>((done) => {
        this.#rolling = { old: new Set(previous), batch, ceiling, done };
        this.#updateRouting();
        this.reconcile();
        this.onCapacity();
      });
    } else {
      this.#updateRouting();
      for (const thread of previous) this.#drain(thread, 'reload');
      this.reconcile();
      this.onCapacity();
    }
    this.#publish('reloaded', `generation ${next} serving`);
  }

  /**
   * One step of a rolling reload: drains an old thread for each new one ready beyond the
   * target, spawns new ones up to the batch and the ceiling (which a drained thread holding
   * only upgraded connections does not count against); ends when no old thread serves.
   */
  #roll(rolling: RollingReload): void {
    for (const thread of rolling.old) if (thread.state === 'draining' || thread.state === 'stopped') rolling.old.delete(thread);
    const next = [...this.#threads].filter((t) => t.generation === this.#generation && t.state !== 'draining' && t.state !== 'stopped');
    const ready = next.filter((t) => t.state === 'ready').length;
    const old = [...rolling.old].sort((a, b) => a.id - b.id);
    for (const thread of old.slice(0, Math.max(0, old.length + ready - this.#target))) {
      rolling.old.delete(thread);
      this.#drain(thread, 'reload');
    }
    if (rolling.old.size === 0) {
      this.#rolling = null;
      rolling.done();
      this.reconcile();
      return;
    }
    // A drained thread kept alive only by upgraded connections does not hold the roll up: it
    // may keep them for the whole graceful timeout, and new requests belong on new code. One
    // with nothing left is on its way out (shutdown()) and counts until it has gone, so the
    // ceiling holds memory near one generation.
    let alive = 0;
    for (const thread of this.#threads) if (!(thread.state === 'draining' && thread.exchanges.size === 0 && thread.tunnels.size > 0)) alive++;
    const room = Math.min(this.#target - next.length, rolling.batch - (next.length - ready), rolling.ceiling - alive);
    if (room <= 0) return;
    const wait = this.#backoff.wait();
    if (wait > 0) this.#cancelRetry ??= this.#clock.after(wait, () => { this.#cancelRetry = null; this.reconcile(); });
    else for (let i = 0; i < room; i++) this.#spawn(this.#generation);
  }

  /** Adds or removes threads; resolves when added threads are ready (or failed to boot). */
  async scale(delta: number): Promise<void> {
    const before = new Set(this.#threads);
    this.#target = Math.max(1, this.#target + Math.trunc(delta));
    this.#publish('scale', `${this.#target} threads`);
    this.reconcile();
    const added = [...this.#threads].filter((t) => !before.has(t));
    await Promise.allSettled(added.map((t) => t.ready));
  }

  reopenLogs(): void {
    for (const thread of this.#threads) thread.post([REOPEN_LOGS]);
  }

  /** graceful: each thread finishes its in-flight requests (within timeoutMs), runs shutdown(), exits. Otherwise terminated now. */
  async stop(graceful: boolean, timeoutMs: number): Promise<void> {
    this.#running = false;
    this.#rolling?.done();
    this.#rolling = null;
    this.#stopSupervisor?.();
    this.#cancelRetry?.();
    this.#stopSupervisor = this.#cancelRetry = null;
    const threads = [...this.#threads];
    for (const thread of threads) {
      if (graceful) this.#drain(thread, 'stop', timeoutMs);
      else thread.kill('stop');
    }
    this.#updateRouting();
    // The supervisor is off: enforce the drain deadline here.
    const cancelCutoff = graceful ? this.#clock.after(timeoutMs + 1000, () => { for (const t of this.#threads) t.kill('stop'); }) : null;
    await Promise.all(threads.map((t) => t.exited));
    cancelCutoff?.();
  }

  stats(): UnitStats[] {
    return [...this.#threads].map((t) => ({
      id: t.id,
      kind: 'thread' as const,
      pid: process.pid,
      threadId: t.threadId,
      state: t.state,
      generation: t.generation,
      requests: t.requests,
      inFlight: t.inFlight,
      memory: t.heapUsed,
      startedAt: t.startedAt,
      utilization: t.utilization,
    }));
  }

  /** Spawns or drains threads of the active generation until `target` are live. */
  reconcile(): void {
    if (!this.#running) return;
    if (this.#rolling) { this.#roll(this.#rolling); return; }
    // A recycled thread is draining already: it is not live.
    const live = [...this.#threads].filter((t) => t.generation === this.#generation && t.state !== 'draining' && t.state !== 'stopped');
    const missing = this.#target - live.length;
    if (missing > 0) {
      const wait = this.#backoff.wait();
      if (wait > 0) {
        this.#cancelRetry ??= this.#clock.after(wait, () => { this.#cancelRetry = null; this.reconcile(); });
      } else {
        for (let i = 0; i < missing; i++) this.#spawn(this.#generation);
      }
    } else if (missing < 0) {
      // Fewest requests in flight first: a booting thread, then the least loaded.
      const extra = live.sort((a, b) => rank(a) - rank(b)).slice(0, -missing);
      for (const thread of extra) this.#drain(thread, 'scale');
    }
  }

  // AppThreadEvents ---------------------------------------------------------------------

  ready(thread: AppThread): void {
    this.#liveness.ready(thread);
    this.#backoff.reset();
    this.#bootFailureLine.reset();
    channels.unitUp.publish({ kind: 'thread', id: thread.id, pid: process.pid, threadId: thread.threadId, detail: `generation ${thread.generation}` });
    if (thread.generation !== this.#generation) return; // staged by a reload: routed when the whole generation is ready
    this.#updateRouting();
    this.reconcile();
    this.onCapacity();
  }

  beat(thread: AppThread): void {
    this.#liveness.beat(thread);
    if (thread.state === 'ready' && thread.retiring === null && shouldRecycleForMemory(thread.heapUsed, this.#settings.maxThreadMemory)) this.#retire(thread, 'memory');
  }

  released(thread: AppThread): void {
    if (thread.state === 'draining') {
      if (thread.idle) thread.shutdown(thread.retiring ?? 'stop', thread.drainDeadline - this.#clock.now());
      else if (thread.exchanges.size === 0 && this.#rolling) this.reconcile(); // it holds only upgraded connections now: room to roll on
      return;
    }
    this.onCapacity();
  }

  exited(thread: AppThread, reason: ExitReason, error: Error | null, lost: readonly Exchange[]): void {
    this.#threads.delete(thread);
    this.#liveness.forget(thread);
    this.#updateRouting();
    const inFlight = lost.length === 0 ? 'no request in flight'
      : `in flight: ${lost.slice(0, 5).map((e) => `${e.request.method} ${e.request.target}`).join(', ')}${lost.length > 5 ? ` and ${lost.length - 5} more` : ''}`;
    const detail = `thread ${thread.id} (threadId ${thread.threadId}, generation ${thread.generation})`;
    if (reason === 'crash' || reason === 'exit') this.#restarts.crash++;
    if (reason === 'timeout') this.#restarts.timeout++;
    if (reason === 'memory' && thread.retiring !== 'memory') this.#restarts.memory++;
    if (!thread.wasReady && EARLY_CRASHES.has(reason) && this.#running && thread.generation === this.#generation) {
      this.#earlyCrash(thread, reason, error);
    } else {
      channels.unitDown.publish({ kind: 'thread', id: thread.id, pid: process.pid, threadId: thread.threadId, reason, detail: error ? `${inFlight}; ${error.message}` : inFlight });
      switch (reason) {
        case 'crash':
        case 'exit':
          this.#publish('thread-crashed', `${detail} died (${error ? (error.stack ?? error.message) : 'exited'}); ${inFlight}; replacing it`, 'error');
          break;
        case 'timeout':
          this.#publish('thread-timeout', `${detail} sent no heartbeat for ${this.#settings.timeout}s and was terminated; ${inFlight}; replacing it`, 'error');
          break;
        case 'memory':
          if (thread.retiring === 'memory' && !error) break; // recycled in time: thread-recycle said so
          this.#publish('thread-out-of-memory', `${detail} reached its heap limit (--max-thread-memory); ${inFlight}; replacing it`, 'error');
          break;
        default:
          break;
      }
    }
    this.reconcile();
    this.onCapacity();
  }

  /**
   * A replacement died before it was ever ready (the app cannot boot, or kills its thread while
   * booting): the next spawn waits out the back-off, and the log line, the same each time, is
   * folded. The thread never came up, so no unit:down is published for it.
   */
  #earlyCrash(thread: AppThread, reason: ExitReason, error: Error | null): void {
    const delay = this.#backoff.crashed();
    const why = error ? error.message : reason === 'timeout' ? 'stuck while booting, no heartbeat' : 'it exited';
    const line = this.#bootFailureLine.next(why, `an app thread died before it was ready (${why})`);
    if (line !== null) this.#publish('thread-boot-failed', `${line}; next thread in ${delay / 1000}s (thread ${thread.id}, ${this.#backoff.crashes} in a row)`, 'error');
  }

  // ------------------------------------------------------------------------------------

  #spawn(generation: number, cacheBust?: string, settings: Readonly<Settings> = this.#settings): AppThread {
    const data: ThreadData = {
      settings: serializableSettings(settings),
      app: this.#options.app,
      setupModules: this.#options.setupModules ?? [],
      unit: { kind: 'thread', id: this.#nextId, generation },
      cacheBust,
      heartbeatMs: this.#liveness.intervalMs,
    };
    const limits = {
      maxYoungGenerationSizeMb: APP_THREAD_YOUNG_GENERATION_MB,
      ...(settings.maxThreadMemory > 0 ? { maxOldGenerationSizeMb: Math.max(8, Math.round(settings.maxThreadMemory / MIB)) } : {}),
    };
    const thread = new AppThread(this.#nextId++, generation, this.#spawnThread(data, limits), this);
    // The lowest slot no live thread of its generation holds: a replacement takes its predecessor's.
    thread.slot = freeSlot([...this.#threads].filter((t) => t.generation === generation && t.state !== 'draining' && t.state !== 'stopped').map((t) => t.slot));
    thread.recycleAfter = recycleAfter(settings.maxRequests, settings.maxRequestsJitter);
    this.#threads.add(thread);
    this.#liveness.watch(thread);
    return thread;
  }

  /** Runs every heartbeat interval: kills threads the liveness policy finds overdue, cuts off overdue drains. */
  supervise(): void {
    for (const thread of this.#liveness.overdue()) if (thread.state !== 'stopped') killStuckThread(thread, (detail) => this.#publish('stack', detail, 'error'));
    const now = this.#clock.now();
    for (const thread of this.#threads) {
      if (thread.state === 'draining' && now > thread.drainDeadline) thread.kill(thread.retiring ?? 'stop');
    }
  }

  /** The thread takes no more requests and drains; reconcile() spawns its replacement. */
  #retire(thread: AppThread, why: 'max-requests' | 'memory'): void {
    thread.retiring = why;
    this.#restarts[why]++;
    this.#publish('thread-recycle', `thread ${thread.id} recycled (${why === 'memory' ? `heap ${Math.round(thread.heapUsed / MIB)} MiB, over 90% of --max-thread-memory` : `${thread.requests} requests`})`);
    this.#drain(thread, why);
    this.reconcile();
  }

  /** Stops routing to the thread; once its in-flight requests finish it runs shutdown() and exits. */
  #drain(thread: AppThread, reason: ExitReason, timeoutMs = this.#settings.gracefulTimeout * 1000): void {
    if (thread.state === 'stopped') return;
    if (reason === 'reload' && thread.state !== 'draining') this.#restarts.reload++;
    if (thread.state === 'booting') { thread.kill(reason); return; }
    if (thread.state !== 'draining') {
      thread.state = 'draining';
      thread.drainDeadline = this.#clock.now() + timeoutMs;
      if (thread.retiring === null && (reason === 'max-requests' || reason === 'memory')) thread.retiring = reason;
    } else {
      thread.drainDeadline = Math.min(thread.drainDeadline, this.#clock.now() + timeoutMs);
    }
    this.#updateRouting();
    this.#endTunnelsBy(thread, thread.drainDeadline);
    if (thread.idle) thread.shutdown(reason, thread.drainDeadline - this.#clock.now());
    else thread.expectExit(reason);
  }

  /**
   * A draining thread keeps its upgraded connections (it alone runs their app) until they
   * close or `deadline`: shortly before it they are told to go away (goingAwayLead), at it
   * they are destroyed, and the thread, idle then, exits.
   */
  #endTunnelsBy(thread: AppThread, deadline: number): void {
    thread.cancelTunnelEnd?.();
    const left = Math.max(0, deadline - this.#clock.now());
    const cancelGoingAway = this.#clock.after(left - goingAwayLead(left), () => thread.tunnelsGoingAway());
    const cancelCut = this.#clock.after(left, () => thread.cutTunnels());
    thread.cancelTunnelEnd = () => { cancelGoingAway(); cancelCut(); };
  }

  #updateRouting(): void {
    const old = this.#rolling?.old;
    this.#routing = [...this.#threads].filter((t) => t.state === 'ready' && (t.generation === this.#generation || old?.has(t)));
  }

  #publish(event: string, detail: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    channels.engine.publish({ engine: this.#engine, event, detail, level });
  }
}

/** Rendezvous seed of the thread level (hybrid's master hashes the same address with another). */
const STICKY_SEED = 'thread';

/** Deaths of a thread that was never ready which count as its boot failing (not a stop, scale or reload). */
const EARLY_CRASHES: ReadonlySet<ExitReason> = new Set(['crash', 'exit', 'boot-failed', 'timeout', 'memory']);

function rank(thread: AppThread): number {
  return thread.state === 'booting' ? -1 : thread.inFlight;
}
