/*
 * `serve [options] APP`: resolve settings (defaults < config file < env < command line), then
 * one of --help, --version, --print-config, --check-config, or serve: start the engine through
 * createServer's composition root, write --pid, route signals through the action loop, watch
 * files under --reload, and exit when the engine has stopped.
 *
 * `serve help` is --help and `serve check APP` is --check-config APP (as `serve bench` is the
 * benchmarking tool): words an operator types expecting a subcommand are not taken for an app.
 * `serve status|reload|scale|stop` talk to a running server over its control socket
 * (control/client.ts), which serve claims before the engine starts (control/server.ts).
 *
 * Exit codes: 0 after a requested stop; 1 when the app or engine cannot start or the engine
 * stopped on its own; 2 for a usage error (bad setting, unknown flag or engine, no app).
 */
import fs from 'node:fs';
import { SETTINGS, loadApp, type SettingName, type Settings } from '@gatehouse/core';
import { checkAppInThread, formatSettingValue, type SettingSource } from '@gatehouse/core/internal';
import { helpText } from './command-line.js';
import { WEB_CONCURRENCY_VARIABLE, loadSettings, type LoadedSettings } from './load-settings.js';
import { containerFor, errorLine, startServer, type GatehouseServer } from './server.js';
import { logUncaughtExceptions, observe, type Observer } from './logging/setup.js';
import { resolveEngine } from './engines.js';
import { writePidFile, type PidFile } from './pid-file.js';
import { notifySystemd } from './systemd-notify.js';
import { bannerLines } from './banner.js';
import { GatehouseError, isGatehouseError } from '@gatehouse/core';
import { controlMain, isControlCommand } from './control/client.js';
import { claimControlSocket, type ControlSocket } from './control/server.js';
import { controlSocketPath } from './control/socket-path.js';

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** Errors in what the operator typed, found after settings resolved (exit 2 like any other bad value). */
const USAGE_ERRORS: ReadonlySet<string> = new Set(['ERR_ENGINE_UNKNOWN']);

function exitCodeFor(error: unknown): number {
  return isGatehouseError(error) && USAGE_ERRORS.has(error.code) ? EXIT_USAGE : EXIT_FAILURE;
}

/** The typed message a parent process gets over IPC once the server listens (tests, supervisors). */
export interface ReadyMessage {
  readonly type: 'gatehouse:ready';
  readonly pid: number;
  readonly engine: string;
  readonly addresses: readonly string[];
  readonly metrics?: string;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<void> {
  // `serve bench ...` is the benchmarking tool; imported only when asked for.
  if (argv[0] === 'bench') {
    const { benchMain } = await import('@gatehouse/bench');
    process.exitCode = await benchMain([...argv.slice(1)]);
    return;
  }
  if (isControlCommand(argv[0])) {
    process.exitCode = await controlMain(argv[0], argv.slice(1), env, cwd);
    return;
  }
  if (argv[0] === 'help') { process.stdout.write(`${await helpText()}\n`); return; }
  if (argv[0] === 'check') argv = ['--check-config', ...argv.slice(1)];
  let loaded: LoadedSettings;
  try {
    loaded = await loadSettings(argv, env, cwd);
  } catch (error) {
    return fail(error, EXIT_USAGE);
  }
  const { commandLine, settings } = loaded;
  // serve logs them once its logger exists; the one-shot actions print them here.
  if (commandLine.help || commandLine.version || commandLine.printConfig || commandLine.checkConfig) {
    for (const warning of loaded.warnings) process.stderr.write(`serve: warning: ${warning}\n`);
  }
  if (commandLine.help) { process.stdout.write(`${await helpText()}\n`); return; }
  if (commandLine.version) { process.stdout.write(`${version()}\n`); return; }
  if (commandLine.printConfig) { process.stdout.write(printConfig(loaded)); return; }
  if (!settings.app) return fail(new GatehouseError('ERR_APP_REQUIRED'), EXIT_USAGE);
  if (commandLine.checkConfig) return checkConfig(loaded, cwd);
  return serve(loaded, cwd, async () => (await loadSettings(argv, env, cwd, true)).settings);
}

function fail(error: unknown, code: number): void {
  process.stderr.write(`serve: ${errorLine(error)}\n`);
  process.exitCode = code;
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `gatehouse ${pkg.version} (node ${process.version})`;
}

/** One line per setting: `name = value  # layer: where`, and for an `auto` count what it became and why. */
export function printConfig({ settings, sources, autoSized }: LoadedSettings): string {
  const names = Object.keys(SETTINGS) as SettingName[];
  const width = Math.max(...names.map((n) => n.length));
  let out = '# Effective settings. Precedence: default < WEB_CONCURRENCY (workers) < file < env < cli.\n';
  for (const name of names) {
    const auto = autoSized[name as keyof typeof autoSized];
    out += `${name.padEnd(width)} = ${formatSettingValue(name, settings[name])}  # ${whereFrom(sources[name])}${auto ? `; ${auto.why}` : ''}\n`;
  }
  return out;
}

/** `layer: detail`, the layer being one of default, file, env, cli. */
function whereFrom(source: SettingSource): string {
  switch (source.kind) {
    case 'default': return 'default';
    case 'file': return `file: ${source.path} (key ${source.key})`;
    case 'found': return `file: found in ${source.path}`;
    case 'env': return source.variable === WEB_CONCURRENCY_VARIABLE ? `env: ${source.variable} (the PaaS worker count, below the config file)` : `env: ${source.variable}`;
    case 'cli': return source.via ? `env: ${source.flag} in ${source.via}` : `cli: ${source.flag}`;
    case 'option': return `cli: createServer option ${source.key}`;
  }
}

/**
 * Engines that load the app in worker threads: --check-config loads it in one too, since module
 * loaders (a TypeScript loader) reach threads differently from processes.
 */
const ENGINES_WITH_APP_THREADS = new Set(['threaded', 'hybrid']);

async function checkConfig({ settings, configFile }: LoadedSettings, cwd: string): Promise<void> {
  try {
    await resolveEngine(settings.engine, { cwd });
    const inThread = ENGINES_WITH_APP_THREADS.has(settings.engine);
    const form = inThread
      ? await checkAppInThread(settings.app, cwd, { interface: settings.interface })
      : (await loadApp({ kind: 'module', spec: settings.app, cwd }, { interface: settings.interface })).interface;
    process.stdout.write(`ok: settings are valid${configFile ? ` (config file ${configFile})` : ''}; app ${settings.app} loads${inThread ? ' in an app thread' : ''} (${form}); engine ${settings.engine}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`serve: ${errorLine(error)}\n`);
    process.exit(exitCodeFor(error));
  }
}

async function serve(loaded: LoadedSettings, cwd: string, reread: () => Promise<Settings>): Promise<void> {
  const { settings, configFile } = loaded;
  let observer: Observer;
  try {
    observer = observe(settings, { kind: 'master' });
  } catch (error) {
    return fail(error, EXIT_FAILURE);
  }
  const logger = observer.logger;
  if (observer.terminal) for (const line of bannerLines({ version: version(), settings, sources: loaded.sources, configFile, cwd })) logger.info(line);
  for (const warning of loaded.warnings) logger.warn({ event: 'unknown-variable' }, warning);
  for (const [name, auto] of Object.entries(loaded.autoSized)) logger.info({ event: 'auto-size', setting: name, value: auto.value }, `${name} = ${auto.value}: ${auto.why}`);
  let pidFile: PidFile | undefined;
  let control: ControlSocket | undefined;
  let server: GatehouseServer;
  const exit = (code: number): never => {
    control?.remove();
    pidFile?.remove();
    observer.flush();
    process.exit(code);
  };
  logUncaughtExceptions(observer, 'the master', exit);
  // Taken before any worker starts, so that none inherits NOTIFY_SOCKET.
  const systemd = notifySystemd(process.env, logger);
  try {
    if (settings.pid) pidFile = writePidFile(settings.pid, cwd);
    const socketPath = controlSocketPath(settings, cwd);
    if (socketPath) control = await claimControlSocket(socketPath);
    const container = await containerFor({ settings, app: { kind: 'module', spec: settings.app, cwd }, configFile, cwd, reread }, observer);
    server = await startServer(container, { signals: true });
  } catch (error) {
    process.stderr.write(`serve: ${errorLine(error)}\n`);
    return exit(exitCodeFor(error));
  }
  systemd?.serving(server);
  control?.attach(server);
  // Loaded only under --reload: the watcher (chokidar) is memory a production server does not need.
  const watcher = settings.reload ? (await import('./dev-reload.js')).watchAppFiles(settings, cwd, logger, () => server.actions.enqueue({ kind: 'reload' })) : null;
  // Ready means serving and, under --reload, seeing every change from now on.
  await watcher?.ready;
  if (process.send) {
    const ready: ReadyMessage = { type: 'gatehouse:ready', pid: process.pid, engine: server.engine.name, addresses: server.addresses.map((a) => a.url), metrics: server.metricsAddress?.url };
    process.send(ready);
    process.channel?.unref();
  }
  await server.closed;
  await watcher?.close();
  const requested = server.actions.stopping !== null;
  logger.info({ event: 'stopped' }, requested ? 'stopped' : 'the engine stopped on its own');
  await systemd?.close();
  exit(requested ? 0 : EXIT_FAILURE);
}
