/*
 * The master's view of one worker process (Puma's cluster/worker_handle.rb): identity, what
 * the worker last reported, and what the master has decided about it. It never runs worker
 * code; the worker's side is worker/main.ts. Only the arbiter mutates these fields, from its
 * reconcile loop.
 */
import type net from 'node:net';
import type { SerializedError, UnitState, UnitStats } from '@gatehouse/core';
import type { ToWorker } from './messages.js';
import type { WorkerProcess } from './worker-process.js';

/** Why a worker went (or is going) down; the first five are counted in EngineStats.restarts. */
export type DownReason = 'crash' | 'timeout' | 'max-requests' | 'memory' | 'reload' | 'scale' | 'stop' | 'exit';

export class WorkerHandle {
  state: UnitState = 'booting';
  /** Clock time of the last message from the worker (for balancing: is its connection count fresh). */
  lastHeartbeat: number;
  requests = 0;
  inFlight = 0;
  upgraded: number | undefined;
  rss = 0;
  utilization: number | undefined;
  queueDepth: number | undefined;
  /**
   * Open connections as its last heartbeat said, adjusted by the connections moved since;
   * null when its body cannot give connections back (then it is left out of balancing).
   */
  connections: number | null = null;
  /** Clock time of the last `shed` it was sent; no other until a heartbeat after it. */
  shedAt = -Infinity;
  metrics: Record<string, unknown> | undefined;
  children: readonly UnitStats[] | undefined;
  /** Set when the worker should be replaced; it keeps serving until a replacement is ready. */
  retiring: 'max-requests' | 'memory' | null = null;
  /** Set when the master told it to stop or killed it: the reason its exit is reported with. */
  downReason: DownReason | null = null;
  /** After `stop`: it said no request can reach it any more (or it exited). */
  quiesced = false;
  /**
   * After `stop`: it said only long-lived connections (WebSockets, tunnels, HTTP/2 sessions)
   * keep it (or it exited), so a rolling reload does not count it against its ceiling.
   */
  lingering = false;
  /** Clock time past which a stopping worker is killed. */
  killAt = Infinity;
  killed = false;
  /** The app error it reported while booting. */
  bootError: string | null = null;
  bootFailure: SerializedError | null = null;
  readonly startedAt = Date.now();
  /** It was sent the shared sockets to listen on (at spawn when nothing served yet, else once booted). */
  listening = false;
  /** Sockets the master is handing to this worker, until the message is written. */
  readonly handedOver = new Set<net.Socket>();

  constructor(
    readonly id: number,
    readonly generation: number,
    /** Its place in --sticky routing (handover.ts): a replacement takes the slot of the worker it replaces. */
    readonly slot: number,
    readonly process: WorkerProcess,
    now: number,
  ) {
    this.lastHeartbeat = now;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Serving, or about to: counts toward the worker target. */
  get live(): boolean {
    return this.state === 'booting' || this.state === 'ready';
  }

  send(message: ToWorker, handle?: net.Socket | object, done?: (error: Error | null) => void, keepOpen = false): void {
    this.process.send(message, handle, keepOpen, done);
  }

  /**
   * Tells the worker to stop; it is killed if it has not exited `timeoutMs` (+ slack) from now.
   * `handOff`: other workers stay, so its idle connections come back to be served by them.
   */
  stop(reason: DownReason, graceful: boolean, timeoutMs: number, now: number, handOff = false): void {
    if (this.state === 'stopped') return;
    this.downReason ??= reason;
    if (this.state !== 'draining') {
      this.state = 'draining';
      this.send({ type: 'stop', graceful, timeoutMs, handOff: handOff && graceful });
    }
    // The worker cuts off connections at timeoutMs itself, then runs shutdown(): allow for it.
    this.killAt = Math.min(this.killAt, now + timeoutMs + KILL_SLACK_MS);
  }

  kill(reason: DownReason): void {
    this.downReason ??= reason;
    if (this.killed) return;
    this.killed = true;
    this.process.kill();
  }

  describe(): string {
    return `worker ${this.id} (pid ${this.pid})`;
  }

  stats(): UnitStats {
    return {
      id: this.id, kind: 'process', pid: this.pid, state: this.state, generation: this.generation,
      requests: this.requests, inFlight: this.inFlight, memory: this.rss, startedAt: this.startedAt,
      ...(this.connections !== null ? { connections: this.connections } : {}),
      ...(this.upgraded !== undefined ? { upgraded: this.upgraded } : {}),
      ...(this.utilization !== undefined ? { utilization: this.utilization } : {}),
      ...(this.queueDepth !== undefined ? { queueDepth: this.queueDepth } : {}),
      ...(this.children ? { children: this.children } : {}),
      ...(this.metrics ? { metrics: this.metrics } : {}),
    };
  }
}

/** Time a stopping worker gets beyond its drain deadline to run shutdown() and exit. */
export const KILL_SLACK_MS = 2000;
