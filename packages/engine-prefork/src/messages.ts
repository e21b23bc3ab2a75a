/*
 * What the master and a worker process say to each other over the IPC channel: one tagged
 * union per direction (vitest's WorkerRequest/WorkerResponse, not Puma's one-letter pipe
 * protocol). JSON serialization; the master's bound sockets and accepted connections ride
 * along as the IPC handle of `listen` and `connection`.
 *
 * A worker's life in messages:
 *   master: start(config)           worker: heartbeat ... (from its first tick, so a stuck import is seen)
 *                                   worker: booted            (app loaded, startup() done) | boot-failed
 *   master: listen x N (+ socket)   worker: ready             (serving every listener)
 *           (sent right after start instead while no worker is ready: the first boot)
 *   ...     connection (+ socket)   worker: heartbeat, retire (max-requests reached)
 *   master: stop                    worker: migrate x idle connections, quiesced, lingering (when only
 *                                           long-lived connections keep it), a final heartbeat
 *                                           (its metrics complete), exits 0 after shutdown()
 */
import { GatehouseError, type SerializedError, type Settings, type UnitStats } from '@gatehouse/core/worker-runtime';

/** Exit code of a worker that could not load or start the app (Gunicorn's WORKER_BOOT_ERROR). */
export const EXIT_BOOT_FAILED = 3;

/** Everything a worker needs, sent once in `start`. Settings arrive with hooks set to null. */
export interface WorkerConfig {
  readonly id: number;
  readonly generation: number;
  readonly settings: Settings;
  readonly app: { readonly spec: string; readonly cwd?: string };
  /** Config file to re-read the worker-side hooks (postFork) from. */
  readonly configFile?: string;
  readonly setupModules: readonly string[];
  /** Module (file URL or absolute path) whose default export makes this worker's WorkerBody. */
  readonly entry: string;
  /** Passed to the entry as is: the hybrid engine's thread settings, for example. */
  readonly data: unknown;
  readonly heartbeatMs: number;
  /** 0 = never; max-requests plus this worker's share of the jitter. */
  readonly maxRequests: number;
  /** How many `listen` messages the worker gets (arbiter.ts says when); 0 (--sticky): it is ready once booted. */
  readonly listeners: number;
}

/**
 * The request a worker's event loop is running, as its scoreboard says (worker-process.ts):
 * the most recently started one that has not ended.
 */
export interface RunningRequest {
  readonly method: string;
  readonly path: string;
  /** Date.now() when it reached the app. */
  readonly startedAt: number;
}

/** The worker's descriptor for its scoreboard: fork's stdio slot after the IPC channel (3). */
export const SCOREBOARD_FD = 4;
/** The scoreboard is one record of this many bytes, rewritten in place. */
export const SCOREBOARD_BYTES = 512;

/** One record: a JSON line (the path cut to 256 characters), or an empty line when nothing is running. */
export function encodeScoreboard(request: RunningRequest | null): Buffer {
  const record = Buffer.alloc(SCOREBOARD_BYTES, 0x20);
  const line = request ? JSON.stringify({ method: request.method, path: request.path.slice(0, 256), startedAt: request.startedAt }) : '';
  record.write(`${line}\n`, 0, 'utf8');
  return record;
}

export type ToWorker =
  | { readonly type: 'start'; readonly config: WorkerConfig }
  /** Carries a bound socket (core's bindForWorkers) as its handle: listen on it and accept. */
  | { readonly type: 'listen'; readonly index: number }
  /** Carries a socket the master accepted itself as its handle. */
  | { readonly type: 'connection'; readonly index: number }
  /**
   * Stop taking requests and leave. With `handOff`, idle keep-alive connections go back to the
   * master first (as `migrate`), for the workers that stay; then the listeners close, the rest
   * drain, and `quiesced` says no new request can reach this worker any more.
   */
  | { readonly type: 'stop'; readonly graceful: boolean; readonly timeoutMs: number; readonly handOff: boolean }
  | { readonly type: 'reopen-logs' }
  /** A graceful stop is coming (--stop-delay): go on serving, but answer readiness with 503. */
  | { readonly type: 'drain-announced' }
  /** Give up to `count` idle keep-alive connections back, one at a time; a newer `shed` replaces this one (worker/shed.ts). */
  | { readonly type: 'shed'; readonly count: number };

export type FromWorker =
  | { readonly type: 'heartbeat'; readonly requests: number; readonly inFlight: number; readonly rss: number;
      /** Open upgraded connections (WebSockets, tunnels), when the body counts them. */
      readonly upgraded?: number;
      /** Event-loop utilization over the last heartbeat interval (UnitStats.utilization). */
      readonly utilization?: number;
      readonly queueDepth?: number;
      /** Open connections, when the body can give idle ones back (WorkerBody.shed). */
      readonly connections?: number;
      readonly metrics?: Record<string, unknown>; readonly children?: readonly UnitStats[] }
  | { readonly type: 'booted' }
  | { readonly type: 'boot-failed'; readonly error: SerializedError; readonly phase: 'setup' | 'load' | 'startup' }
  | { readonly type: 'ready' }
  /** The worker wants to be replaced (max-requests reached); it keeps serving until told to stop. */
  | { readonly type: 'retire'; readonly reason: 'max-requests'; readonly requests: number }
  /** Carries an idle keep-alive connection given back after `shed` or `stop`, reading stopped, for another worker. */
  | { readonly type: 'migrate' }
  /** After `stop`: its listeners are closed and no connection left here will carry another request. */
  | { readonly type: 'quiesced' }
  /**
   * After `quiesced`: no request is running and every connection left is long-lived (upgraded,
   * or an HTTP/2 session told GOAWAY); it stays until they close or its drain times out.
   */
  | { readonly type: 'lingering' };

export function isFromWorker(value: unknown): value is FromWorker {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Serializes any thrown value; non-Gatehouse errors keep their own message and stack. */
export function serializeError(error: unknown, fallback: SerializedError['code']): SerializedError {
  const e = error as { code?: unknown; name?: unknown; message?: unknown; detail?: unknown; stack?: unknown } | null;
  if (e && e.name === 'GatehouseError' && typeof e.code === 'string') {
    return { code: e.code as SerializedError['code'], message: String(e.message), detail: e.detail as string | undefined, stack: e.stack as string | undefined };
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: fallback, message: new GatehouseError(fallback, detail).message, detail, stack: error instanceof Error ? error.stack : undefined };
}
