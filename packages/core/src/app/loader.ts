/*
 * The app loader: from a specifier (`path`, `path:name`, `path:a.b`, `path:factory()`) to a
 * LoadedApp every engine can run. It runs wherever the app runs (the single engine's loop,
 * each prefork worker, each app thread), so it only reads files and imports modules: no state
 * is shared between two loads. The steps each live in their own module:
 * spec.ts (parse), resolve.ts (find the file), import.ts (import, explain failures),
 * listen-guard.ts (an app that starts its own server), upgrade-watch.ts (servers given upgrade
 * listeners), detect.ts (which interface, adapt it).
 * This file picks the export and the lifecycle hooks.
 */
import { GatehouseError } from '../errors/index.js';
import { validate } from '../gateway/validator.js';
import { installFetchGlobals } from '../gateway/adapters/fetch-globals.js';
import type { AppSource, LifecycleHook, LoadedApp } from '../gateway/types.js';
import { adaptApp, describeValue, isAppLike, type AdaptedApp, type Candidate, type InterfaceChoice } from './detect.js';
import { appStack, importAppModule, type ModuleNamespace } from './import.js';
import { awaitLateListen, refusingListen } from './listen-guard.js';
import { resolveAppFile } from './resolve.js';
import { watchingUpgradeListeners } from './upgrade-watch.js';
import { formatExportPath, parseAppSpec, type AppSpec } from './spec.js';

export interface LoadOptions {
  readonly interface?: InterfaceChoice;
  /** Appended to the entry module's URL so a reload imports fresh entry code (its imports stay cached). */
  readonly cacheBust?: string;
  /** For a fetch-handler app, install the lightweight global Response (the fetchGlobals setting). */
  readonly fetchGlobals?: boolean;
  /** Wrap the app in the Gateway Interface validator (development and tests). */
  readonly validate?: boolean;
}

export async function loadApp(source: AppSource, options: LoadOptions = {}): Promise<LoadedApp> {
  const loaded = source.kind === 'inline' ? source.app : await loadModuleApp(source.spec, source.cwd ?? process.cwd(), options);
  return options.validate ? { ...loaded, app: validate(loaded.app) } : loaded;
}

async function loadModuleApp(specifier: string, cwd: string, options: LoadOptions): Promise<LoadedApp> {
  const spec = parseAppSpec(specifier);
  const file = resolveAppFile(spec.file, cwd);
  return refusingListen(file, () => watchingUpgradeListeners(async () => {
    const ns = await importAppModule(file, options.cacheBust);
    await awaitLateListen(ns);
    const choice = options.interface ?? 'auto';
    const candidate = spec.factory ? await callFactory(spec, file, ns) : pickExport(spec, file, ns, choice);
    const adapted = await adaptApp(candidate, choice);
    // Here, where the app runs, and only for a fetch handler: never in a master or for others.
    if (adapted.interface === 'fetch' && options.fetchGlobals === true) installFetchGlobals();
    return { app: adapted.app, interface: adapted.interface, ...lifecycle(ns, candidate, file, adapted) };
  }));
}

/** Default export first, then a named `app` export; or exactly the export the spec names. */
function pickExport(spec: AppSpec, file: string, ns: ModuleNamespace, choice: InterfaceChoice): Candidate {
  if (!spec.named) {
    const first: Candidate = { value: esModuleDefault(ns.default), where: `the default export of ${file}` };
    const second: Candidate = { value: ns.app, where: `the export "app" of ${file}` };
    if (first.value !== undefined && isAppLike(first, choice)) return first;
    if (second.value !== undefined && isAppLike(second, choice)) return second;
    if (first.value !== undefined) return first;
    if (second.value !== undefined) return second;
    throw new GatehouseError('ERR_APP_EXPORT_MISSING', `${file} has no default export and no export named "app"; ${listExports(ns)}`);
  }
  return walk(spec, file, ns);
}

/**
 * A CommonJS module compiled from ES module syntax (tsc, Babel, a TypeScript loader's CommonJS
 * path) marks its exports `__esModule` and keeps its default export as `exports.default`; Node
 * gives the whole exports object as the default import, so the app is one level down.
 */
function esModuleDefault(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const exports = value as Record<string, unknown>;
  return exports['__esModule'] === true && exports['default'] !== undefined ? exports['default'] : value;
}

/** Follows `name.prop.prop` from the module namespace, remembering the owner for `this`. */
function walk(spec: AppSpec, file: string, ns: ModuleNamespace): Candidate {
  const [exportName, ...props] = spec.exportPath as [string, ...string[]];
  if (!(exportName in ns)) {
    throw new GatehouseError('ERR_APP_EXPORT_MISSING', `${file} has no export named "${exportName}"; ${listExports(ns)}`);
  }
  let value: unknown = ns[exportName];
  let owner: object | undefined;
  let path = exportName;
  for (const prop of props) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || !(prop in (value as object))) {
      throw new GatehouseError('ERR_APP_EXPORT_MISSING', `"${path}" in ${file} has no property "${prop}" (it is ${describeValue(value)})`);
    }
    owner = value as object;
    value = (value as Record<string, unknown>)[prop];
    path += `.${prop}`;
  }
  return { value, owner, where: `"${path}" in ${file}`, declaredFetch: props.length > 0 && props[props.length - 1] === 'fetch' };
}

/** `path:factory()`: the export is called with no arguments; its awaited result is the app. */
async function callFactory(spec: AppSpec, file: string, ns: ModuleNamespace): Promise<Candidate> {
  const target = walk({ ...spec, factory: false }, file, ns);
  const name = formatExportPath(spec);
  if (typeof target.value !== 'function') {
    throw new GatehouseError('ERR_APP_NOT_AN_APP', `${name} in ${file}: "${spec.exportPath.join('.')}" is ${describeValue(target.value)}, which cannot be called`);
  }
  let result: unknown;
  try {
    result = await (target.value as (this: unknown) => unknown).call(target.owner);
  } catch (error) {
    throw new GatehouseError('ERR_APP_FACTORY_THREW', `${name} in ${file}\n${appStack(error)}`, { cause: error });
  }
  return { value: result, where: `the result of ${name} in ${file}` };
}

/**
 * startup/shutdown: module-level exports win; otherwise properties of an app that is an
 * object (`export default { fetch, startup, shutdown }`). Functions are not searched: a
 * framework's app function carries many properties that are not ours. A framework's own
 * start (Fastify's ready()) runs after the app's startup, its stop before the app's shutdown.
 */
function lifecycle(ns: ModuleNamespace, candidate: Candidate, file: string, framework: AdaptedApp): { startup?: LifecycleHook; shutdown?: LifecycleHook } {
  const holder = typeof candidate.value === 'object' && candidate.value !== null ? candidate.value as Record<string, unknown> : null;
  const hook = (name: 'startup' | 'shutdown'): LifecycleHook | undefined => {
    const [value, where, self] = ns[name] !== undefined
      ? [ns[name], `the export "${name}" of ${file}`, undefined]
      : [holder?.[name], `${candidate.where}.${name}`, holder];
    if (value === undefined) return undefined;
    if (typeof value !== 'function') throw new GatehouseError('ERR_APP_BAD_HOOK', `${where} is ${describeValue(value)}`);
    return self ? (value as LifecycleHook).bind(self) : value as LifecycleHook;
  };
  const startup = reportingStartupFailure(inOrder(hook('startup'), framework.startup), file);
  const shutdown = inOrder(framework.shutdown, hook('shutdown'));
  return { ...(startup && { startup }), ...(shutdown && { shutdown }) };
}

function inOrder(first: LifecycleHook | undefined, second: LifecycleHook | undefined): LifecycleHook | undefined {
  if (!first || !second) return first ?? second;
  return async () => { await first(); await second(); };
}

/**
 * Every engine calls startup() in its own way; wrapping it here means each of them reports a
 * failure the same way: ERR_APP_STARTUP_FAILED with the app's stack in the message (it may
 * have to cross a process or thread boundary as data).
 */
function reportingStartupFailure(startup: LifecycleHook | undefined, file: string): LifecycleHook | undefined {
  if (!startup) return undefined;
  return async function startupOfApp(): Promise<void> {
    try {
      await startup();
    } catch (error) {
      throw new GatehouseError('ERR_APP_STARTUP_FAILED', `startup() of ${file}\n${appStack(error)}`, { cause: error });
    }
  };
}

function listExports(ns: ModuleNamespace): string {
  const names = Object.keys(ns).filter((name) => name !== 'module.exports');
  return names.length === 0 ? 'it exports nothing' : `its exports are: ${names.join(', ')}`;
}
