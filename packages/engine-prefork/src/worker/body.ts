/*
 * The seam between the worker process's supervision plumbing (main.ts: IPC, heartbeats,
 * stop) and what the worker actually runs. The default body runs the app on the worker's
 * own event loop (in-loop-body.ts); the hybrid engine gives the same master a body that runs
 * a thread pool instead. A body module's default export is a WorkerBodyFactory; the master
 * is told its path as `workerEntry`, and each worker imports it.
 */
import type net from 'node:net';
import type { Settings, UnitStats } from '@gatehouse/core';
import type { HealthState } from '@gatehouse/core/internal';

export interface WorkerUnit {
  /** The master's number for this worker, unique for the master's life. */
  readonly id: number;
  readonly generation: number;
  readonly pid: number;
}

export interface WorkerBodyContext {
  /** Settings as JSON (hooks are null; main.ts re-reads postFork from the config file). */
  readonly settings: Readonly<Settings>;
  readonly app: { readonly spec: string; readonly cwd?: string };
  readonly unit: WorkerUnit;
  /** The master's `workerData`, untouched. */
  readonly data: unknown;
  /**
   * Call as each request reaches the app, and call what it returns when the app has answered:
   * it counts toward max-requests and keeps the scoreboard naming the request that runs, so a
   * request that blocks the event loop is named in the timeout log line.
   */
  requestStarted(method: string, path: string): () => void;
}

export interface WorkerBodyStats {
  readonly requests: number;
  readonly inFlight: number;
  /** Open upgraded connections (UnitStats.upgraded). */
  readonly upgraded?: number;
  /** Open connections; reported only by a body whose shed() can give them back (plain TCP). */
  readonly connections?: number;
  /** Sub-units (app threads of a hybrid worker), reported as UnitStats.children. */
  readonly children?: readonly UnitStats[];
  /** Requests waiting for a free app thread, for a body that queues them (UnitStats.queueDepth). */
  readonly queueDepth?: number;
}

export interface WorkerBody {
  /** Loads the app and runs its startup(); rejects with the app's error. No socket is open yet. */
  boot(): Promise<void>;
  /** Serve connections accepted on a listening server the master shared. */
  attach(listener: net.Server): void;
  /** Serve one connection the master accepted itself and handed over. */
  handle(socket: net.Socket): void;
  /**
   * Give up to `count` idle keep-alive connections back as sockets whose reading is stopped,
   * for the master to hand to a less loaded worker (HttpService.releaseIdle). Optional: a body
   * without it is never asked.
   */
  shed?(count: number): net.Socket[];
  /**
   * The worker stops while others serve on: from now on each connection is given to `release`
   * as it reaches a moment between requests (HttpService.handOff), instead of closing. Called
   * before close(). Optional: without it, a stopping worker's connections close after a grace.
   */
  handOff?(release: (socket: net.Socket) => void): void;
  /**
   * After close() began: no request is running and only long-lived connections are left
   * (HttpService.lingering), so the master may start this worker's replacement. Optional:
   * without it, a stopping worker holds its place until it exits.
   */
  readonly lingering?: boolean;
  /** Stop accepting; finish (graceful) or drop in-flight requests within timeoutMs; run shutdown(). */
  close(graceful: boolean, timeoutMs: number): Promise<void>;
  stats(): WorkerBodyStats;
  /** What its health paths answer (after boot): the worker sets `draining` when the master announces a stop. */
  readonly health?: HealthState;
}

export type WorkerBodyFactory = (context: WorkerBodyContext) => WorkerBody | Promise<WorkerBody>;
