/*
 * Making the process's module loaders apply inside an app thread. On Node 20 a worker thread
 * runs its `--require` preloads but not its `--import` ones (from execArgv or NODE_OPTIONS),
 * and customization hooks registered on the main thread (module.register, `--loader`) do not
 * reach it. So before an app thread imports the app, it repeats what the process did at start:
 * each `--import MODULE` is imported here, each `--loader MODULE` registered here. tsx needs
 * one exception: its `--import tsx` entry registers its hooks only on the main thread, so in a
 * thread its own API (tsx/esm/api, tsx/cjs/api) registers them. On the main thread (the
 * single engine, each prefork worker process) Node has done all of this already: nothing runs.
 */
import { createRequire, register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { GatehouseError } from '../errors/index.js';

export interface NodeLoader {
  readonly kind: 'import' | 'loader';
  readonly specifier: string;
}

const FLAG_KIND: Record<string, NodeLoader['kind']> = { '--import': 'import', '--loader': 'loader', '--experimental-loader': 'loader' };

/** The `--import`/`--loader` modules named by node flags (`--flag X` or `--flag=X`), in order. */
export function nodeLoaders(args: readonly string[]): NodeLoader[] {
  const loaders: NodeLoader[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const kind = FLAG_KIND[flag];
    if (!kind) continue;
    const specifier = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (specifier) loaders.push({ kind, specifier });
  }
  return loaders;
}

/** NODE_OPTIONS split as Node splits it: on spaces, double quotes group, backslash escapes. */
export function splitNodeOptions(value: string | undefined): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < (value ?? '').length; i++) {
    const c = value![i]!;
    if (c === '\\' && quoted && i + 1 < value!.length) { current += value![++i]; continue; }
    if (c === '"') { quoted = !quoted; started = true; continue; }
    if (c === ' ' && !quoted) {
      if (started) args.push(current);
      current = ''; started = false;
      continue;
    }
    current += c; started = true;
  }
  if (started) args.push(current);
  return args;
}

/** The loaders this process started with: NODE_OPTIONS first, then execArgv, as Node applies them. */
export function processLoaders(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): NodeLoader[] {
  return [...nodeLoaders(splitNodeOptions(env['NODE_OPTIONS'])), ...nodeLoaders(execArgv)];
}

/** Read as Node reads a loader flag: a path from the working directory, a URL as it is, a package name resolved from the working directory. */
function loaderUrl(specifier: string, cwd: string): string {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) return pathToFileURL(path.resolve(cwd, specifier)).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return specifier;
  return pathToFileURL(createRequire(path.join(cwd, 'noop.js')).resolve(specifier)).href;
}

/** tsx's entries that register on the main thread only, and the API calls that do it in a thread. */
const TSX_IN_THREAD: Record<string, readonly string[]> = { 'tsx': ['tsx/esm/api', 'tsx/cjs/api'], 'tsx/esm': ['tsx/esm/api'] };

async function applyInThread(loader: NodeLoader, cwd: string): Promise<void> {
  const parentURL = pathToFileURL(path.join(cwd, 'noop.js')).href;
  if (loader.kind === 'loader') { register(loader.specifier, parentURL); return; }
  const apis = TSX_IN_THREAD[loader.specifier];
  if (!apis) { await import(loaderUrl(loader.specifier, cwd)); return; }
  for (const api of apis) {
    const { register: registerTsx } = await import(loaderUrl(api, cwd)) as { register(): unknown };
    registerTsx();
  }
}

let applied: Promise<void> | null = null;

/** In an app thread, once: applies the process's `--import` and `--loader` modules. On a main thread, nothing. */
export function applyLoadersInThread(cwd: string = process.cwd()): Promise<void> {
  if (isMainThread) return Promise.resolve();
  applied ??= (async () => {
    for (const loader of processLoaders()) {
      try {
        await applyInThread(loader, cwd);
      } catch (error) {
        throw new GatehouseError('ERR_APP_IMPORT_FAILED', `the module loader --${loader.kind} ${loader.specifier} could not be applied in an app thread: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      }
    }
  })();
  return applied;
}
