/*
 * The Engine contract. An engine decides where the app runs (this event loop, worker
 * processes, worker threads) and who supervises it; it never parses HTTP. It wires sockets to
 * core's protocol layer (`HttpService`) and gives it a `Dispatcher`.
 *
 * Engines are constructed by the DI container (see container.ts): an engine is an
 * @injectable() class that implements this interface and takes the EngineContext with
 * @inject(TOKENS.EngineContext), built-in and third-party alike.
 */
import type { AppSource } from '../gateway/types.js';
import type { ListenAddress } from '../net/listen.js';
import type { Settings } from '../settings/table.js';

export type { ListenAddress };

export type UnitState = 'booting' | 'ready' | 'draining' | 'stopped';

/** A worker process or an app thread, as its supervisor sees it. */
export interface UnitStats {
  readonly id: number;
  readonly kind: 'process' | 'thread';
  readonly pid?: number;
  readonly threadId?: number;
  readonly state: UnitState;
  readonly generation: number;
  readonly requests: number;
  readonly inFlight: number;
  /** Open connections the app took by accepting an upgrade (WebSockets, tunnels), where the engine counts them. */
  readonly upgraded?: number;
  /** RSS for a process, heap used for a thread, in bytes. */
  readonly memory: number;
  readonly startedAt: number;
  /** Open connections, where the engine balances them between units (prefork workers on plain TCP). */
  readonly connections?: number;
  /**
   * Busy fraction (0..1) of the unit's event loop over its last heartbeat interval
   * (performance.eventLoopUtilization), where its engine measures it.
   */
  readonly utilization?: number;
  /** Requests waiting in this unit for a free app thread (a hybrid worker process). */
  readonly queueDepth?: number;
  readonly children?: readonly UnitStats[];
  /**
   * What channels.metricsCollect subscribers put in `into`, collected in this unit's own
   * process/thread (never its children's), carried as opaque JSON for the master's metrics.
   */
  readonly metrics?: Readonly<Record<string, unknown>>;
}

export interface EngineStats {
  readonly engine: string;
  readonly pid: number;
  readonly generation: number;
  readonly units: readonly UnitStats[];
  readonly restarts: Readonly<Record<'crash' | 'timeout' | 'max-requests' | 'memory' | 'reload', number>>;
  readonly queueDepth?: number;
}

export interface StopOptions {
  /** true (TERM, QUIT): finish in-flight requests within gracefulTimeout. false (INT): close now. */
  readonly graceful?: boolean;
  /** Overrides settings.gracefulTimeout, in seconds. */
  readonly timeout?: number;
}

export interface EngineContext {
  readonly settings: Readonly<Settings>;
  readonly app: AppSource;
  /** Path of the config file the settings came from, so child processes can re-read its hooks. */
  readonly configFile?: string;
  /**
   * Module specifiers every worker process and app thread imports before loading the app,
   * each exporting `default (settings, unit) => void | Promise<void>`. Diagnostics channels are
   * per process and per thread, so this is how the CLI subscribes its logger in each of them.
   */
  readonly setupModules?: readonly string[];
}

export interface Engine {
  readonly name: string;
  /** Binds every listener, boots the app, resolves when the first request can be served. */
  start(): Promise<void>;
  stop(options?: StopOptions): Promise<void>;
  /**
   * Zero-downtime: new app code is serving before the old stops; when it resolves, every new
   * request meets the new code. `settings`, when given (a HUP that re-read the config), are
   * what the new units start with; an engine applies what it can to new units and keeps the
   * rest, and if the new code cannot boot it keeps serving with the old code and settings.
   */
  reload(settings?: Readonly<Settings>): Promise<void>;
  /** Adds (delta > 0) or removes (delta < 0) workers or threads; TTIN/TTOU call it with ±1. */
  scale(delta: number): Promise<void>;
  /** USR1: reopen log files (for logrotate). */
  reopenLogs(): void;
  readonly addresses: readonly ListenAddress[];
  stats(): EngineStats;
  /** Resolves when the engine has stopped, by stop() or on its own (fatal boot error). */
  readonly closed: Promise<void>;
}

export type EngineClass = new (context: EngineContext) => Engine;
