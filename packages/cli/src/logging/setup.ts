/*
 * The setup module: logging, access log, request hooks and per-request metrics for ONE process
 * or thread. Diagnostics channels are per process and per thread, so the master runs this for
 * itself and every engine imports it in each worker process and app thread it starts
 * (EngineContext.setupModules: `default (settings, unit)`), before loading the app.
 *
 * It subscribes to core's channels: requestEnd -> access log line + metrics; requestError ->
 * "METHOD path" error line with the stack; protocolError -> debug/info; unit and engine events
 * -> info/warn; logsReopen -> reopen files (USR1); metricsCollect -> this unit's counters.
 */
import pino, { type Logger } from 'pino';
import {
  channels, loadConfigHooks,
  type AppWarningMessage, type ConnectionMessage, type EngineMessage, type LogsReopenMessage, type MetricsCollectMessage,
  type ProtocolErrorMessage, type RequestEndMessage, type RequestErrorMessage, type RequestStartMessage,
  type Settings, type UnitMessage,
} from '@gatehouse/core/app-runtime';
import { openDestination, type LogDestination } from './destination.js';
import { prettyStream } from './pretty.js';
import { compileAccessLogFormat } from './access-format.js';
import { SNAPSHOT_KEY, UnitMetrics } from '../metrics/unit-metrics.js';

export interface SetupUnit {
  /** master: the process that runs the engine (and, for single/threaded, the HTTP side). */
  readonly kind: 'master' | 'process' | 'thread';
  readonly id?: number;
  readonly pid?: number;
  readonly threadId?: number;
}

export interface Observer {
  readonly logger: Logger;
  /** Human-readable lines on a terminal: where the start-up banner belongs. */
  readonly terminal: boolean;
  readonly metrics: UnitMetrics;
  /** Reopen log files (after logrotate moved them). */
  reopen(): void;
  flush(): void;
  /** Unsubscribe and close files. */
  close(): void;
}

const QUIET_PROTOCOL_ERRORS = new Set(['ERR_HTTP_CLIENT_GONE', 'ERR_HTTP_HEADERS_TIMEOUT', 'ERR_HTTP_BODY_TIMEOUT']);
const BAD_EXITS = new Set(['crash', 'timeout', 'memory']);

/*
 * JSON records carry ISO 8601 time by default: a log collector or a person reading a file
 * needs no conversion, and the string still sorts. `--log-time epoch` keeps pino's
 * milliseconds for tools that expect a number.
 */
export function createLogger(settings: Readonly<Settings>, unit: SetupUnit): { logger: Logger; destination: LogDestination; terminal: boolean } {
  const destination = openDestination(settings.errorLog, { dash: 2, sync: true });
  const pretty = settings.logFormat === 'pretty' || (settings.logFormat === 'auto' && destination.isTTY);
  const base: Record<string, unknown> = { pid: unit.pid ?? process.pid };
  if (unit.kind !== 'master') base.unit = unit.id ?? 0;
  if (unit.kind === 'thread' && unit.threadId !== undefined) base.thread = unit.threadId;
  const stream = pretty ? prettyStream(destination, destination.isTTY) : { write: (line: string) => destination.write(line) };
  const timestamp = settings.logTime === 'epoch' ? pino.stdTimeFunctions.epochTime : pino.stdTimeFunctions.isoTime;
  const logger = pino({ level: settings.logLevel, base, timestamp }, stream);
  return { logger, destination, terminal: pretty && destination.isTTY };
}

/** Synchronous part: subscribe with the hooks already in hand. */
export function observe(settings: Readonly<Settings>, unit: SetupUnit): Observer {
  const { logger, destination, terminal } = createLogger(settings, unit);
  const metrics = new UnitMetrics();
  // The master opens the access log at once (a bad path fails the start); a worker or thread
  // opens it with its first line, since in some engines its requests end elsewhere.
  const openAccess = () => openDestination(settings.accessLog, { dash: 1, sync: false, batchBytes: 8192 });
  let access: LogDestination | null = settings.accessLog && unit.kind === 'master' ? openAccess() : null;
  const formatLine = settings.accessLog ? compileAccessLogFormat(settings.accessLogFormat, {
    engine: settings.engine, pid: unit.pid ?? process.pid, unitId: unit.id ?? 0, thread: unit.kind === 'thread',
  }) : null;
  const preRequest = typeof settings.preRequest === 'function' ? settings.preRequest : null;
  const postRequest = typeof settings.postRequest === 'function' ? settings.postRequest : null;
  const subscriptions: Array<() => void> = [];
  const on = <T>(channel: { subscribe(fn: (m: unknown) => void): void; unsubscribe(fn: (m: unknown) => void): void }, fn: (m: T) => void) => {
    const safe = (message: unknown) => {
      try { fn(message as T); } catch (error) { logger.error({ err: error }, 'log subscriber failed'); }
    };
    channel.subscribe(safe);
    subscriptions.push(() => channel.unsubscribe(safe));
  };

  // Core builds a requestEnd message per request only while someone listens: listen only
  // when something uses it (metrics, access log, post_request), so the default pays nothing.
  const metricsOn = settings.metricsBind !== '';
  if (metricsOn || formatLine || postRequest) {
    on<RequestEndMessage>(channels.requestEnd, (m) => {
      if (metricsOn) metrics.observe(m.status, Number(m.endedAt - m.startedAt) / 1e9);
      if (formatLine) (access ??= openAccess()).write(formatLine(m) + '\n');
      if (postRequest) callHook(logger, 'post_request', postRequest, m.request, { status: m.status, bytes: m.bytes, response: m.response });
    });
  }
  if (preRequest) on<RequestStartMessage>(channels.requestStart, (m) => callHook(logger, 'pre_request', preRequest, m.request));
  on<RequestErrorMessage>(channels.requestError, (m) => {
    const where = m.request ? `${m.request.method} ${m.request.target}` : 'request';
    // A client hanging up is not the server's error: its access-log status says it happened.
    if ((m.error as { code?: unknown } | null)?.code === 'ERR_HTTP_CLIENT_GONE') {
      logger.debug({ code: 'ERR_HTTP_CLIENT_GONE', phase: m.phase }, `${where}: the client went away before the response was complete`);
      return;
    }
    logger.error({ err: m.error, phase: m.phase }, where);
  });
  on<AppWarningMessage>(channels.appWarning, (m) => {
    logger.warn({ code: m.error.code }, m.error.message);
  });
  on<ProtocolErrorMessage>(channels.protocolError, (m) => {
    const level = QUIET_PROTOCOL_ERRORS.has(m.code) ? 'debug' : 'info';
    logger[level]({ code: m.code, status: m.status, remote: m.remote, detail: m.detail }, `${m.status} ${m.code} from ${m.remote}`);
  });
  if (metricsOn) {
    on<ConnectionMessage>(channels.connectionOpen, () => { metrics.connections++; });
    on<ConnectionMessage>(channels.connectionClose, () => { if (metrics.connections > 0) metrics.connections--; });
  }
  on<UnitMessage>(channels.unitUp, (m) => {
    logger.info({ unitKind: m.kind, unitId: m.id, unitPid: m.pid, threadId: m.threadId }, `${m.kind} ${m.id} up${m.pid ? ` (pid ${m.pid})` : ''}`);
  });
  // A unit that could not boot the app, and the engine's "fatal" event, carry the error that
  // start() rejects with, which its caller reports (serve prints it as its one line): at debug
  // here, so a start-up failure reads as one error, not one per worker and thread.
  on<UnitMessage>(channels.unitDown, (m) => {
    const level = m.reason === 'boot-failed' ? 'debug' : m.reason && BAD_EXITS.has(m.reason) ? 'warn' : 'info';
    logger[level]({ unitKind: m.kind, unitId: m.id, unitPid: m.pid, threadId: m.threadId, reason: m.reason, detail: m.detail },
      `${m.kind} ${m.id} down${m.reason ? ` (${m.reason})` : ''}${m.detail ? `: ${m.detail}` : ''}`);
  });
  // The engine's "ready" is at debug: the one ready record is the server's (its addresses and
  // engine as fields), and under hybrid every worker process's threaded engine is ready too.
  // "fatal" carries the error start() rejects with, reported once by the caller.
  on<EngineMessage>(channels.engine, (m) => {
    const level = m.event === 'fatal' || m.event === 'ready' ? 'debug' : m.level ?? 'info';
    logger[level]({ engine: m.engine, engineEvent: m.event, detail: m.detail }, m.detail ? `${m.event}: ${m.detail}` : m.event);
  });
  const reopen = () => { destination.reopen(); access?.reopen(); };
  on<LogsReopenMessage>(channels.logsReopen, reopen);
  on<MetricsCollectMessage>(channels.metricsCollect, (m) => { m.into[SNAPSHOT_KEY] = metrics.snapshot(); });

  const flush = () => { access?.flushSync(); destination.flushSync(); };
  process.on('exit', flush);
  return {
    logger,
    terminal,
    metrics,
    reopen,
    flush,
    close() {
      for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
      process.off('exit', flush);
      access?.end();
      destination.end();
    },
  };
}

function callHook(logger: Logger, name: string, hook: (...args: any[]) => unknown, ...args: unknown[]): void {
  try {
    const result = hook(...args);
    if (result instanceof Promise) result.catch((error: unknown) => logger.error({ err: error, hook: name }, `${name} hook failed`));
  } catch (error) {
    logger.error({ err: error, hook: name }, `${name} hook failed`);
  }
}

/**
 * The entry engines call in each worker process / app thread. Settings arrive as JSON there
 * (hooks dropped), so request hooks are re-read from the config file.
 */
export default async function setup(settings: Readonly<Settings>, unit: Partial<SetupUnit> = {}): Promise<Observer> {
  const hooks = settings.config && typeof settings.preRequest !== 'function' && typeof settings.postRequest !== 'function'
    ? await loadConfigHooks(settings.config)
    : {};
  const kind = unit.kind ?? (unit.threadId !== undefined ? 'thread' : 'process');
  const observer = observe({ ...settings, ...hooks }, { ...unit, kind });
  // An app thread's uncaught exception ends the thread and reaches its engine, which logs it
  // and replaces the thread; a worker process has no one above it in the log stream.
  if (kind === 'process') logUncaughtExceptions(observer, `worker process ${unit.id ?? process.pid}`, (code) => process.exit(code));
  return observer;
}

/**
 * Node writes an uncaught exception raw to stderr, in the middle of the JSON log: it becomes
 * one fatal record carrying the stack (one line, with the stack below it, when pretty), and
 * then the process exits 1, as Node itself would.
 */
export function logUncaughtExceptions(observer: Observer, where: string, exit: (code: number) => void): void {
  process.on('uncaughtException', (error, origin) => {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    observer.logger.fatal({ err: error, origin }, `uncaught exception in ${where}: ${text}`);
    observer.flush();
    exit(1);
  });
}
