/*
 * MAIN THREAD. The pool of app threads and their supervisor. Like Gunicorn's arbiter it is a
 * reconcile loop: events (a thread ready, dead, due for recycling, a scale request) only change
 * state, then `reconcile()` spawns or drains until the active generation has `target` live
 * threads. Supervision:
 * - heartbeats: a thread silent for `timeout` is terminated (its event loop is stuck) and
 *   replaced; its in-flight requests get 503, or 504 past their deadline;
 * - a thread that dies (uncaught exception, out of memory) costs only its in-flight requests;
 * - recycling (max-requests + jitter, heap near max-thread-memory) starts the replacement
 *   first and drains the old thread only once the replacement is ready, so no request fails;
 * - reload boots a whole new generation and switches routing to it when every thread of it
 *   is ready; the old generation drains. No socket is involved: the pool has none.
 * A replacement whose boot fails is retried with backoff (never a respawn loop); at start()
 * a boot failure rejects instead.
 */
import { randomInt } from 'node:crypto';
import { channels, GatehouseError, recordRequestUnit, type Settings, type UnitStats } from '@gatehouse/core';
import { AppThread, type AppThreadEvents, type ExitReason } from './app-thread.js';
import type { Exchange } from './exchange.js';
import { REOPEN_LOGS, type ThreadData } from './messages.js';

export interface ThreadPoolOptions {
  readonly settings: Readonly<Settings>;
  /** The app module; inline apps cannot cross to a thread. */
  readonly app: { readonly spec: string; readonly cwd?: string };
  /** Modules each thread imports before loading the app (EngineContext.setupModules). */
  readonly setupModules?: readonly string[];
  /** Name used in engine events ('threaded', or 'hybrid' when a worker process embeds the pool). */
  readonly engineName?: string;
}

type RestartCounts = Record<'crash' | 'timeout' | 'max-requests' | 'memory' | 'reload', number>;

const MIB = 1024 * 1024;
/** Fraction of max-thread-memory at which a thread is recycled before the hard limit kills it. */
const MEMORY_RECYCLE_FRACTION = 0.9;
const MAX_BOOT_BACKOFF_MS = 30_000;
/**
 * Young-generation cap per app thread. V8 lets it grow to ~48 MiB per isolate under
 * allocation pressure, so with N threads a hello-world server's RSS was mostly nursery
 * garbage (~210 MiB for 2 threads under wrk). 8 MiB measured the same requests/s at
 * ~50 MiB less RSS; an app whose objects outlive several scavenges may want more (the
 * main thread, which runs the protocol layer, keeps V8's default).
 */
const APP_THREAD_YOUNG_GENERATION_MB = 8;

export class ThreadPool implements AppThreadEvents {
  /** Called when a concurrency slot may have come free: the dispatcher serves its queue. */
  onCapacity: () => void = () => {};
  readonly #options: ThreadPoolOptions;
  readonly #settings: Readonly<Settings>;
  readonly #threads = new Set<AppThread>();
  /** Ready threads of the active generation, in spawn order: where requests go. */
  #routing: AppThread[] = [];
  #target: number;
  #generation = 0;
  #nextId = 1;
  #running = false;
  #supervisor: NodeJS.Timeout | null = null;
  #bootBackoffMs = 0;
  #bootBlockedUntil = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #reloading: Promise<void> | null = null;
  readonly #restarts: RestartCounts = { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: 0 };
  readonly #heartbeatMs: number;
  readonly #engine: string;

  constructor(options: ThreadPoolOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#target = Math.max(1, options.settings.threads);
    this.#engine = options.engineName ?? 'threaded';
    // A beat at a quarter of the timeout (capped at 1 s, so memory figures stay fresh).
    this.#heartbeatMs = Math.max(10, Math.min(1000, Math.floor((this.#settings.timeout * 1000) / 4)));
  }

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#target;
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
    this.#supervisor = setInterval(() => this.#supervise(), this.#heartbeatMs);
    this.#supervisor.unref();
    this.reconcile();
  }

  /** The least-loaded ready thread with a free slot, or null when every thread is at its bound. */
  pick(): AppThread | null {
    const bound = this.#settings.threadConcurrency;
    let best: AppThread | null = null;
    for (const thread of this.#routing) {
      const load = thread.exchanges.size;
      if (load < bound && (best === null || load < best.exchanges.size)) {
        best = thread;
        if (load === 0) break;
      }
    }
    return best;
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

  /** Rolls every thread onto freshly loaded app code; the old generation serves until the new one is ready. */
  reload(): Promise<void> {
    if (!this.#running) return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED'));
    this.#reloading ??= this.#reload().finally(() => { this.#reloading = null; });
    return this.#reloading;
  }

  async #reload(): Promise<void> {
    const next = this.#generation + 1;
    const cacheBust = `${Date.now()}-${next}`;
    const staged = Array.from({ length: this.#target }, () => this.#spawn(next, cacheBust));
    this.#publish('reload', `booting generation ${next} (${staged.length} threads)`);
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
    this.#updateRouting();
    for (const thread of previous) {
      if (thread.state === 'stopped') continue;
      this.#restarts.reload++;
      this.#drain(thread, 'reload');
    }
    this.reconcile();
    this.onCapacity();
    this.#publish('reloaded', `generation ${next} serving`);
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
    if (this.#supervisor) clearInterval(this.#supervisor);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#supervisor = this.#retryTimer = null;
    const threads = [...this.#threads];
    for (const thread of threads) {
      if (graceful) this.#drain(thread, 'stop', timeoutMs);
      else thread.kill('stop');
    }
    this.#updateRouting();
    // The supervisor is off: enforce the drain deadline here.
    const cutoff = graceful ? setTimeout(() => { for (const t of this.#threads) t.kill('stop'); }, timeoutMs + 1000) : null;
    await Promise.all(threads.map((t) => t.exited));
    if (cutoff) clearTimeout(cutoff);
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
    }));
  }

  /** Spawns or drains threads of the active generation until `target` are live; drains recycled threads once their replacements are ready. */
  reconcile(): void {
    if (!this.#running) return;
    const active = [...this.#threads].filter((t) => t.generation === this.#generation && t.state !== 'draining' && t.state !== 'stopped');
    const live = active.filter((t) => t.retiring === null);
    const missing = this.#target - live.length;
    if (missing > 0) {
      const wait = this.#bootBlockedUntil - Date.now();
      if (wait > 0) {
        this.#retryTimer ??= setTimeout(() => { this.#retryTimer = null; this.reconcile(); }, wait);
      } else {
        for (let i = 0; i < missing; i++) this.#spawn(this.#generation);
      }
    } else if (missing < 0) {
      // Fewest requests in flight first: a booting thread, then the least loaded.
      const extra = live.sort((a, b) => rank(a) - rank(b)).slice(0, -missing);
      for (const thread of extra) this.#drain(thread, 'scale');
    }
    const retiring = active.filter((t) => t.retiring !== null);
    const readyLive = live.filter((t) => t.state === 'ready').length;
    if (retiring.length > 0 && readyLive >= this.#target) {
      for (const thread of retiring) this.#drain(thread, thread.retiring!);
    }
  }

  // AppThreadEvents ---------------------------------------------------------------------

  ready(thread: AppThread): void {
    this.#bootBackoffMs = 0;
    channels.unitUp.publish({ kind: 'thread', id: thread.id, pid: process.pid, threadId: thread.threadId, detail: `generation ${thread.generation}` });
    if (thread.generation !== this.#generation) return; // staged by a reload: routed when the whole generation is ready
    this.#updateRouting();
    this.reconcile();
    this.onCapacity();
  }

  released(thread: AppThread): void {
    if (thread.state === 'draining') {
      if (thread.exchanges.size === 0) thread.shutdown(thread.retiring ?? 'stop', thread.drainDeadline - Date.now());
      return;
    }
    this.onCapacity();
  }

  exited(thread: AppThread, reason: ExitReason, error: Error | null, lost: readonly Exchange[]): void {
    this.#threads.delete(thread);
    this.#updateRouting();
    const inFlight = lost.length === 0 ? 'no request in flight'
      : `in flight: ${lost.slice(0, 5).map((e) => `${e.request.method} ${e.request.target}`).join(', ')}${lost.length > 5 ? ` and ${lost.length - 5} more` : ''}`;
    const detail = `thread ${thread.id} (threadId ${thread.threadId}, generation ${thread.generation})`;
    channels.unitDown.publish({ kind: 'thread', id: thread.id, pid: process.pid, threadId: thread.threadId, reason, detail: error ? `${inFlight}; ${error.message}` : inFlight });
    switch (reason) {
      case 'crash':
      case 'exit':
        this.#restarts.crash++;
        this.#publish('thread-crashed', `${detail} died (${error ? (error.stack ?? error.message) : 'exited'}); ${inFlight}; replacing it`, 'error');
        break;
      case 'timeout':
        this.#restarts.timeout++;
        this.#publish('thread-timeout', `${detail} sent no heartbeat for ${this.#settings.timeout}s and was terminated; ${inFlight}; replacing it`, 'error');
        break;
      case 'memory':
        if (thread.retiring !== 'memory') this.#restarts.memory++;
        this.#publish('thread-out-of-memory', `${detail} reached its heap limit (--max-thread-memory); ${inFlight}; replacing it`, 'error');
        break;
      case 'boot-failed':
        if (this.#running && thread.generation === this.#generation) {
          this.#bootBackoffMs = Math.min(MAX_BOOT_BACKOFF_MS, Math.max(1000, this.#bootBackoffMs * 2));
          this.#bootBlockedUntil = Date.now() + this.#bootBackoffMs;
          this.#publish('thread-boot-failed', `${detail} could not boot the app (${error?.message}); retrying in ${this.#bootBackoffMs} ms`, 'error');
        }
        break;
      default:
        break;
    }
    this.reconcile();
    this.onCapacity();
  }

  // ------------------------------------------------------------------------------------

  #spawn(generation: number, cacheBust?: string): AppThread {
    const settings = this.#settings;
    const data: ThreadData = {
      settings: cloneableSettings(settings),
      app: this.#options.app,
      setupModules: this.#options.setupModules ?? [],
      unit: { kind: 'thread', id: this.#nextId, generation },
      cacheBust,
      heartbeatMs: this.#heartbeatMs,
    };
    const limits = {
      maxYoungGenerationSizeMb: APP_THREAD_YOUNG_GENERATION_MB,
      ...(settings.maxThreadMemory > 0 ? { maxOldGenerationSizeMb: Math.max(8, Math.round(settings.maxThreadMemory / MIB)) } : {}),
    };
    const thread = new AppThread(this.#nextId++, generation, data, this, limits);
    if (settings.maxRequests > 0) thread.recycleAfter = settings.maxRequests + (settings.maxRequestsJitter > 0 ? randomInt(0, settings.maxRequestsJitter + 1) : 0);
    this.#threads.add(thread);
    return thread;
  }

  /** Runs every heartbeat interval: kills silent threads, recycles threads near their heap limit, cuts off overdue drains. */
  #supervise(): void {
    const now = Date.now();
    const timeoutMs = this.#settings.timeout * 1000;
    const memoryMark = this.#settings.maxThreadMemory * MEMORY_RECYCLE_FRACTION;
    for (const thread of this.#threads) {
      if (thread.state === 'stopped') continue;
      if (now - thread.lastBeat > timeoutMs) {
        thread.kill('timeout');
      } else if (thread.state === 'draining' && now > thread.drainDeadline) {
        thread.kill(thread.retiring ?? 'stop');
      } else if (memoryMark > 0 && thread.heapUsed > memoryMark && thread.retiring === null && thread.state === 'ready') {
        this.#retire(thread, 'memory');
      }
    }
  }

  /** Asks for a replacement; the thread keeps serving until the replacement is ready. */
  #retire(thread: AppThread, why: 'max-requests' | 'memory'): void {
    thread.retiring = why;
    this.#restarts[why]++;
    this.#publish('thread-recycle', `thread ${thread.id} recycled (${why === 'memory' ? `heap ${Math.round(thread.heapUsed / MIB)} MiB` : `${thread.requests} requests`})`);
    this.reconcile();
  }

  /** Stops routing to the thread; once its in-flight requests finish it runs shutdown() and exits. */
  #drain(thread: AppThread, reason: ExitReason, timeoutMs = this.#settings.gracefulTimeout * 1000): void {
    if (thread.state === 'stopped') return;
    if (thread.state === 'booting') { thread.kill(reason); return; }
    if (thread.state !== 'draining') {
      thread.state = 'draining';
      thread.drainDeadline = Date.now() + timeoutMs;
      if (thread.retiring === null && (reason === 'max-requests' || reason === 'memory')) thread.retiring = reason;
    } else {
      thread.drainDeadline = Math.min(thread.drainDeadline, Date.now() + timeoutMs);
    }
    this.#updateRouting();
    if (thread.exchanges.size === 0) thread.shutdown(reason, thread.drainDeadline - Date.now());
    else thread.expectExit(reason);
  }

  #updateRouting(): void {
    this.#routing = [...this.#threads].filter((t) => t.generation === this.#generation && t.state === 'ready');
  }

  #publish(event: string, detail: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    channels.engine.publish({ engine: this.#engine, event, detail, level });
  }
}

function rank(thread: AppThread): number {
  return thread.state === 'booting' ? -1 : thread.exchanges.size;
}

/** Settings minus hook functions, which cannot be structured-cloned into a thread. */
function cloneableSettings(settings: Readonly<Settings>): Readonly<Settings> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) out[key] = typeof value === 'function' ? null : value;
  return out as unknown as Settings;
}
