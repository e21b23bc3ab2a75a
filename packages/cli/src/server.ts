/*
 * Composition root shared by the CLI and embedders: settings -> logging in this process ->
 * engine class -> inversify container -> started server. `serve` is createServer() plus
 * signals, a pid file and --reload.
 *
 *   const server = await createServer({ app: 'app.js', engine: 'prefork', workers: 4 });
 *   await server.reload(); await server.scale(+1); await server.close({ graceful: true });
 *
 * To swap a part before start, build the container, rebind, then start it:
 *
 *   const container = await createContainerFor({ app: 'app.js' });
 *   container.rebindSync(TOKENS.Engine).to(MyEngine).inSingletonScope();  // an @injectable() engine
 *   const server = await startServer(container);
 *
 * (Rebinding TOKENS.EngineContext changes the settings/app the engine gets.)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Container } from 'inversify';
import {
  GatehouseError, TOKENS, isGatehouseError, createContainer,
  type AppSource, type Engine, type EngineContext, type EngineStats, type ListenAddress, type LoadedApp, type Settings, type StopOptions,
} from '@gatehouse/core';
import {
  ActionLoop, entriesFromConfigFile, entriesFromObject, readConfigFile, resolveSettings, type EngineAction, type SettingEntry,
} from '@gatehouse/core/internal';
import type { Logger } from 'pino';
import { resolveEngine } from './engines.js';
import { checkAccessLogFormat } from './logging/access-format.js';
import { observe, type Observer } from './logging/setup.js';
import { settingsForReload } from './reload-settings.js';
import type { MetricsServer } from './metrics/server.js';

/** Import this module in every worker process and app thread (EngineContext.setupModules). */
export const SETUP_MODULE = fileURLToPath(new URL('./logging/setup.js', import.meta.url));

/** Any setting (camelCase, kebab-case or snake_case keys), plus the app as a path or an already loaded app. */
export type ServerOptions = { readonly app: string | LoadedApp; readonly cwd?: string }
  & { readonly [K in Exclude<keyof Settings, 'app'>]?: Settings[K] extends string[] ? string | string[] : K extends 'workers' | 'threads' ? number | 'auto' : Settings[K] }
  & Readonly<Record<string, unknown>>;

/** Where the settings and the app came from, as the CLI resolved them. */
export interface ServerInput {
  readonly settings: Settings;
  readonly app: AppSource;
  readonly configFile?: string;
  readonly cwd?: string;
  /** Resolves the settings again from the same sources (a reload re-reads the config file and environment). */
  readonly reread?: () => Promise<Settings>;
}

export interface GatehouseServer {
  readonly engine: Engine;
  /** The running settings: a reload that re-read the config changes them. */
  readonly settings: Readonly<Settings>;
  readonly logger: Logger;
  readonly addresses: readonly ListenAddress[];
  /** The --metrics-bind listener, if any. */
  readonly metricsAddress?: ListenAddress;
  /**
   * Serialized with signals: one reload or scale at a time. Re-reads the config file (and, from
   * the command line, the environment) first. Rejects if the new config is invalid or the new
   * code fails to load: the old settings and code keep serving.
   */
  reload(): Promise<void>;
  /** Adds (delta > 0) or removes (delta < 0) worker processes or threads, as TTIN/TTOU do. */
  scale(delta: number): Promise<void>;
  reopenLogs(): void;
  close(options?: StopOptions): Promise<void>;
  stats(): EngineStats;
  /** Resolves when the engine has stopped (by close(), a signal, or on its own). */
  readonly closed: Promise<void>;
  /** The loop signals go through (the CLI installs its handlers on it). */
  readonly actions: ActionLoop;
}

export const OBSERVER = Symbol.for('gatehouse.cli.Observer');
/** `() => Promise<Settings>`: where a reload re-reads the settings from (ServerInput.reread). */
export const REREAD_SETTINGS = Symbol.for('gatehouse.cli.RereadSettings');

/** Validates options with the settings table (a config file named by `config` is read first). */
export async function settingsFromOptions(options: ServerOptions, again = false): Promise<ServerInput> {
  const { app, cwd = process.cwd(), ...rest } = options;
  const layers: SettingEntry[][] = [];
  if (typeof rest.config === 'string' && rest.config) {
    const file = path.resolve(cwd, rest.config);
    layers.push(entriesFromConfigFile(file, await readConfigFile(file, again)));
  }
  const optionEntries = entriesFromObject(rest, (key) => ({ kind: 'option', key }), 'createServer options');
  if (typeof app === 'string') optionEntries.push({ name: 'app', raw: app, source: { kind: 'option', key: 'app' } });
  layers.push(optionEntries);
  const { settings, sources } = resolveSettings(...layers);
  checkAccessLogFormat(settings.accessLogFormat, sources.accessLogFormat);
  if (settings.config) settings.config = path.resolve(cwd, settings.config);
  const source: AppSource = typeof app === 'string' ? { kind: 'module', spec: app, cwd } : { kind: 'inline', app };
  const reread = async () => (await settingsFromOptions(options, true)).settings;
  return { settings, app: source, configFile: settings.config || undefined, cwd, reread };
}

/** Builds the container for resolved input; the observer (logging in this process) is bound in it. */
export async function containerFor(input: ServerInput, observer?: Observer): Promise<Container> {
  const own = observer ?? observe(input.settings, { kind: 'master' });
  const context: EngineContext = {
    settings: input.settings,
    app: input.app,
    configFile: input.configFile,
    setupModules: [SETUP_MODULE],
  };
  try {
    const engineClass = await resolveEngine(input.settings.engine, { cwd: input.cwd });
    const container = createContainer(context, engineClass);
    container.bind(OBSERVER).toConstantValue(own);
    if (input.reread) container.bind(REREAD_SETTINGS).toConstantValue(input.reread);
    return container;
  } catch (error) {
    if (!observer) own.close();
    throw error;
  }
}

export async function createContainerFor(options: ServerOptions): Promise<Container> {
  return containerFor(await settingsFromOptions(options));
}

export async function createServer(options: ServerOptions): Promise<GatehouseServer> {
  return startServer(await createContainerFor(options));
}

export interface StartOptions {
  /**
   * Install the process's signal handlers (what `serve` does). They go in before the engine
   * starts, so a signal never meets Node's default (HUP kills) once a connection can be
   * accepted; what arrives during start runs once it has finished.
   */
  readonly signals?: boolean;
}

/** Resolves TOKENS.Engine from the container and starts it, with hooks, metrics and logging. */
export async function startServer(container: Container, options: StartOptions = {}): Promise<GatehouseServer> {
  const observer = container.get<Observer>(OBSERVER);
  const context = container.get<EngineContext>(TOKENS.EngineContext);
  const reread = container.isBound(REREAD_SETTINGS) ? container.get<() => Promise<Settings>>(REREAD_SETTINGS) : null;
  let settings = context.settings;
  /** Settings a reload in progress brings; the running ones once it succeeds. */
  let incoming: Readonly<Settings> | null = null;
  const logger = observer.logger;
  let engine: Engine;
  try {
    engine = container.get<Engine>(TOKENS.Engine);
  } catch (error) {
    observer.close();
    throw error;
  }
  let server!: GatehouseServer;
  const actions = new ActionLoop(engine, {
    before: async (action: EngineAction, signal) => {
      logger.info({ event: action.kind, signal, ...(action.kind === 'scale' ? { delta: action.delta } : {}), ...(action.kind === 'stop' ? { graceful: action.graceful } : {}) },
        describeAction(action, signal));
      if (action.kind === 'reload') await callHook(settings.onReload, 'on_reload', server).catch((error) => logger.error({ err: error }, 'on_reload hook failed'));
      if (action.kind === 'reopen-logs') observer.reopen();
      if (action.kind === 'reload' && reread) {
        const next = settingsForReload(settings, await reread());
        if (next.warning) logger.warn({ event: 'reload-needs-restart' }, next.warning);
        incoming = next.settings;
        return { kind: 'reload', settings: next.settings };
      }
    },
    done: (action) => {
      if (action.kind === 'reload' && incoming) {
        settings = incoming;
        logger.level = settings.logLevel;
      }
      incoming = null;
      if (action.kind === 'reload') logger.info({ event: 'reloaded', generation: engine.stats().generation }, 'reload done: the new code is serving');
      if (action.kind === 'scale') logger.info({ event: 'scaled', units: engine.stats().units.length }, `now ${engine.stats().units.length} unit(s)`);
    },
    force: (signal) => {
      // Only reachable through handlers the CLI installed: a second INT/TERM means "now".
      logger.warn({ event: 'forced-exit', signal }, `second ${signal} during stop: exiting now`);
      observer.flush();
      process.exit(1);
    },
    failed: (action, error) => {
      incoming = null;
      logActionFailure(logger, action, error);
    },
  });
  actions.hold();
  if (options.signals) actions.install();
  let metrics: MetricsServer | undefined;
  try {
    await callHook(settings.onStarting, 'on_starting', settings);
    // Loaded only with --metrics-bind: prom-client (and the tracing API it loads) is memory a
    // server without the endpoint does not need.
    if (settings.metricsBind) {
      const { createMetricsRegistry, startMetricsServer } = await import('./metrics/server.js');
      metrics = await startMetricsServer(settings.metricsBind, createMetricsRegistry(engine, observer.metrics));
    }
    await engine.start();
  } catch (error) {
    actions.uninstall();
    await metrics?.close();
    observer.close();
    throw error;
  }
  const closed = engine.closed.then(async () => {
    actions.uninstall();
    await metrics?.close();
  });
  server = {
    engine,
    get settings() { return settings; },
    logger,
    get addresses() { return engine.addresses; },
    metricsAddress: metrics?.address,
    reload: () => actions.perform({ kind: 'reload' }),
    scale: (delta: number) => {
      const step = Math.sign(delta) as 1 | -1;
      let chain = Promise.resolve();
      for (let i = 0; i < Math.abs(delta); i++) chain = chain.then(() => actions.perform({ kind: 'scale', delta: step }));
      return chain;
    },
    reopenLogs: () => { void actions.perform({ kind: 'reopen-logs' }); },
    close: async (options: StopOptions = {}) => {
      await actions.perform({ kind: 'stop', graceful: options.graceful ?? true });
      await closed;
      observer.flush();
    },
    stats: () => engine.stats(),
    closed,
    actions,
  };
  actions.release();
  logger.info({ event: 'ready', engine: engine.name, addresses: engine.addresses.map((a) => a.url), metrics: metrics?.address.url },
    `listening on ${engine.addresses.map((a) => a.url).join(', ')} (engine ${engine.name})`);
  await callHook(settings.whenReady, 'when_ready', server).catch((error) => logger.error({ err: error }, 'when_ready hook failed'));
  return server;
}

/** The log line for an action that failed, whether a signal or the control socket asked for it. */
export function logActionFailure(logger: Logger, action: EngineAction, error: unknown): void {
  logger.error({ err: error, event: `${action.kind}-failed` }, action.kind === 'reload'
    ? `reload failed; the previous version keeps serving: ${errorLine(error)}`
    : `${action.kind} failed: ${errorLine(error)}`);
}

function describeAction(action: EngineAction, signal?: string): string {
  const by = signal ? ` (${signal})` : '';
  switch (action.kind) {
    case 'stop': return `${action.graceful ? 'graceful' : 'fast'} stop${by}`;
    case 'reload': return `reloading${by}`;
    case 'scale': return `scaling ${action.delta > 0 ? 'up' : 'down'} by one${by}`;
    case 'reopen-logs': return `reopening log files${by}`;
  }
}

async function callHook(hook: ((...args: any[]) => unknown) | null, name: string, ...args: unknown[]): Promise<void> {
  if (typeof hook !== 'function') return;
  try {
    await hook(...args);
  } catch (error) {
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { hook: name });
  }
}

/** Failures of workers to boot the app, which carry the app's own error as their cause. */
const BOOT_FAILURES: ReadonlySet<string> = new Set(['ERR_WORKER_BOOT_FAILED', 'ERR_RELOAD_FAILED']);

/**
 * The one line a terminal or a log message shows for an error. When workers could not boot
 * the app, the line is the app's own error (its cause), the same one the single engine shows.
 */
export function errorLine(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (isGatehouseError(error) && BOOT_FAILURES.has(error.code) && isGatehouseError(cause)) return errorLine(cause);
  if (isGatehouseError(error) && typeof (error as GatehouseError).toLine === 'function') return (error as GatehouseError).toLine();
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
