/*
 * MAIN THREAD. The supervisor's view of one app thread (Puma's worker_handle.rb, kept apart
 * from the thread's own code in thread-entry.ts): its port (a worker_threads Worker, or a
 * stand-in in tests), its state, its in-flight exchanges and its tunnels (upgraded connections
 * whose app runs here). It routes the thread's messages to their exchanges and tunnels and
 * tells the pool of its beats, and when the thread dies it answers every exchange the thread
 * held, according to why it died, and cuts its tunnels. Deciding what to do next (replace,
 * recycle, drain) and judging liveness are the pool's job.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { GatehouseError, type UnitState } from '@gatehouse/core';
import {
  BEAT, BOOT_FAILED, READY, SHUTDOWN, STOPPED, TUNNEL_CLOSE, TUNNEL_OUT, TUNNEL_OUT_END, TUNNEL_PULL,
  TAG, ID, HEAP_USED_FIELD, UTILIZATION_FIELD, BRIDGES_FIELD, BOOT_ERROR_FIELD, type FromThread, type ThreadData, type ToThread,
} from './messages.js';
import type { Exchange, ExchangeHost } from './exchange.js';
import { Tunnel, type TunnelHost } from './tunnel.js';
import { deserializeError } from './wire-errors.js';
import { Outbox, unbatch, type MessageTarget } from './outbox.js';

/** Why a thread went down, as unit:down events and EngineStats.restarts name it. */
export type ExitReason = 'crash' | 'exit' | 'timeout' | 'memory' | 'max-requests' | 'reload' | 'scale' | 'stop' | 'boot-failed';

export interface AppThreadEvents {
  ready(thread: AppThread): void;
  /** A heartbeat (its heap figure is in `heapUsed`). */
  beat(thread: AppThread): void;
  /** A concurrency slot came free, or a tunnel closed. */
  released(thread: AppThread): void;
  exited(thread: AppThread, reason: ExitReason, error: Error | null, lost: readonly Exchange[]): void;
}

const THREAD_ENTRY = new URL('./thread-entry.js', import.meta.url);

/** What the main thread holds of an app thread: a Worker has this shape. */
export interface ThreadPort extends MessageTarget {
  readonly threadId: number;
  terminate(): unknown;
  /** 'message' (a batch of FromThread), 'error' (an uncaught exception, an out-of-memory). */
  on(event: 'message' | 'error', listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  once(event: 'exit', listener: (code: number) => void): unknown;
}

/** Starts an app thread running thread-entry.ts with `data` as its workerData. */
export type SpawnThread = (data: ThreadData, resourceLimits: ResourceLimits) => ThreadPort;

export const spawnWorkerThread: SpawnThread = (data, resourceLimits) =>
  new Worker(THREAD_ENTRY, { workerData: data, resourceLimits, name: `gatehouse-app-${data.unit.id}` });

export class AppThread implements ExchangeHost, TunnelHost {
  readonly id: number;
  readonly generation: number;
  readonly worker: ThreadPort;
  /** Captured at spawn: Worker.threadId reads -1 once the thread has exited. */
  readonly threadId: number;
  readonly startedAt = Date.now();
  readonly exchanges = new Map<number, Exchange>();
  /** Upgraded connections whose app runs on this thread; they hold no concurrency slot. */
  readonly tunnels = new Map<number, Tunnel>();
  /** Bridge sockets the thread reported open at its last timed beat (its side of `tunnels`). */
  bridges = 0;
  /** Cancels the timers that end this draining thread's tunnels (pool.ts). */
  cancelTunnelEnd: (() => void) | null = null;
  state: UnitState = 'booting';
  requests = 0;
  heapUsed = 0;
  /** Event-loop utilization over the thread's last heartbeat interval. */
  utilization = 0;
  /** It has been ready: a death before this is an early crash (boot back-off). */
  wasReady = false;
  /** Requests after which this thread is recycled (max-requests + its own jitter); Infinity = never. */
  recycleAfter = Infinity;
  /** Why it is being recycled (max-requests, memory): it takes no new request and drains. */
  retiring: 'max-requests' | 'memory' | null = null;
  /** Its place in --sticky routing (pool.ts route()): a replacement takes the slot of the thread it replaces. */
  slot = 0;
  /** When a draining thread is cut off even if requests are still in flight. */
  drainDeadline = Infinity;
  /** Resolves when the thread can serve; rejects with the app's boot error. */
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  #exitReason: ExitReason | null = null;
  #error: Error | null = null;
  #bootError: GatehouseError | null = null;
  #readyResolve!: () => void;
  #readyReject!: (error: Error) => void;
  #shutdownTimer: NodeJS.Timeout | null = null;
  readonly #events: AppThreadEvents;
  readonly #outbox: Outbox<ToThread>;

  constructor(id: number, generation: number, worker: ThreadPort, events: AppThreadEvents) {
    this.id = id;
    this.generation = generation;
    this.#events = events;
    this.ready = new Promise((resolve, reject) => { this.#readyResolve = resolve; this.#readyReject = reject; });
    this.ready.catch(() => {}); // a replacement's boot failure is reported through `exited`
    this.worker = worker;
    this.threadId = this.worker.threadId;
    this.#outbox = new Outbox<ToThread>(this.worker);
    this.worker.on('message', unbatch((message: FromThread) => this.#onMessage(message)));
    this.worker.on('error', (error) => { this.#error ??= error; });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => { this.#onExit(); resolve(); }));
  }

  /** Requests in flight and upgraded connections open: what this thread is serving. */
  get inFlight(): number {
    return this.exchanges.size + this.tunnels.size;
  }

  /** No request in flight and no upgraded connection open: a draining thread may exit. */
  get idle(): boolean {
    return this.exchanges.size === 0 && this.tunnels.size === 0;
  }

  /** MAIN THREAD: hands an exchange to this thread. */
  run(exchange: Exchange): void {
    this.requests++;
    this.exchanges.set(exchange.id, exchange);
    exchange.start(this);
  }

  post(message: ToThread): void {
    if (this.state !== 'stopped') this.#outbox.send(message);
  }

  release(exchange: Exchange): void {
    if (this.exchanges.delete(exchange.id)) this.#events.released(this);
  }

  /** MAIN THREAD: the request `id` turned into an upgraded connection served by this thread. */
  openTunnel(id: number): Tunnel {
    const tunnel = new Tunnel(id, this);
    this.tunnels.set(id, tunnel);
    return tunnel;
  }

  tunnelClosed(tunnel: Tunnel): void {
    if (this.tunnels.delete(tunnel.id)) this.#events.released(this);
  }

  /** The graceful timeout is near: every upgraded connection here ends its protocol's way. */
  tunnelsGoingAway(): void {
    for (const tunnel of this.tunnels.values()) tunnel.goingAway();
  }

  /** Destroys every upgraded connection here. */
  cutTunnels(): void {
    for (const tunnel of [...this.tunnels.values()]) tunnel.cut();
  }

  /** Terminates now (stuck, fast stop, boot failed). In-flight exchanges are answered by `exited`. */
  kill(reason: ExitReason): void {
    this.#exitReason ??= reason;
    void this.worker.terminate();
  }

  /** Records why this thread will go down, for when it does (a drain that is still finishing requests). */
  expectExit(reason: ExitReason): void {
    this.#exitReason ??= reason;
  }

  /** Asks the thread to run the app's shutdown() and exit; terminates it if that takes longer than `timeoutMs`. */
  shutdown(reason: ExitReason, timeoutMs: number): void {
    this.#exitReason ??= reason;
    if (this.state === 'stopped' || this.#shutdownTimer) return;
    if (this.state === 'booting') { this.kill(reason); return; }
    this.#outbox.send([SHUTDOWN]);
    this.#shutdownTimer = setTimeout(() => this.kill(reason), Math.max(0, timeoutMs));
    this.#shutdownTimer.unref();
  }

  /** A short description of the requests in flight, for log lines. */
  describeInFlight(): string {
    if (this.exchanges.size === 0) return 'no request in flight';
    const shown = [...this.exchanges.values()].slice(0, 5).map((e) => `${e.request.method} ${e.request.target}`);
    const more = this.exchanges.size > shown.length ? ` and ${this.exchanges.size - shown.length} more` : '';
    return `in flight: ${shown.join(', ')}${more}`;
  }

  #onMessage(message: FromThread): void {
    switch (message[TAG]) {
      case BEAT:
        this.heapUsed = message[HEAP_USED_FIELD];
        this.utilization = message[UTILIZATION_FIELD] ?? this.utilization;
        this.bridges = message[BRIDGES_FIELD] ?? this.bridges;
        this.#events.beat(this);
        return;
      case READY:
        this.state = 'ready';
        this.wasReady = true;
        this.#readyResolve();
        this.#events.ready(this);
        return;
      case BOOT_FAILED:
        this.#bootError = deserializeError(message[BOOT_ERROR_FIELD]);
        this.kill('boot-failed');
        return;
      case STOPPED:
        this.kill(this.#exitReason ?? 'stop');
        return;
      case TUNNEL_OUT:
      case TUNNEL_OUT_END:
      case TUNNEL_PULL:
      case TUNNEL_CLOSE:
        this.tunnels.get(message[ID])?.onMessage(message);
        return;
      default:
        this.exchanges.get(message[ID])?.onMessage(message);
    }
  }

  #onExit(): void {
    const wasBooting = this.state === 'booting';
    this.state = 'stopped';
    this.#outbox.clear();
    if (this.#shutdownTimer) clearTimeout(this.#shutdownTimer);
    this.cancelTunnelEnd?.();
    const tunnels = [...this.tunnels.values()];
    this.tunnels.clear();
    for (const tunnel of tunnels) tunnel.cut();
    const error = this.#error;
    const reason: ExitReason = this.#exitReason ??
      ((error as NodeJS.ErrnoException | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : error ? 'crash' : 'exit');
    if (wasBooting) {
      this.#readyReject(this.#bootError ?? new GatehouseError('ERR_WORKER_BOOT_FAILED', `app thread ${this.id} exited while booting${error ? `: ${error.message}` : ''}`));
    }
    const lost = [...this.exchanges.values()];
    this.exchanges.clear();
    for (const exchange of lost) {
      const [failure, respond] = lostError(reason, exchange, this);
      exchange.threadLost(failure, respond);
    }
    this.#events.exited(this, reason, this.#bootError ?? error, lost);
  }
}

/** What an in-flight request is answered when its thread dies, and whether as a response (503/504) or a rejection (500). */
function lostError(reason: ExitReason, exchange: Exchange, thread: AppThread): [GatehouseError, boolean] {
  const where = `thread ${thread.id}, ${exchange.request.method} ${exchange.request.target}`;
  switch (reason) {
    case 'crash':
    case 'exit':
      return [new GatehouseError('ERR_THREAD_CRASHED', where), false];
    case 'memory':
      return [new GatehouseError('ERR_THREAD_OUT_OF_MEMORY', where), true];
    case 'timeout':
      return exchange.pastDeadline
        ? [new GatehouseError('ERR_HTTP_REQUEST_TIMEOUT', where), true]
        : [new GatehouseError('ERR_THREAD_STUCK', where), true];
    default:
      // Cut off at the end of a drain (graceful timeout), or a fast stop.
      return [new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', where), true];
  }
}
