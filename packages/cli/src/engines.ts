/*
 * Which engine class `--engine NAME` means, in one lookup: a name in the engine table (the
 * built-ins, each imported lazily so a package that is not installed costs nothing until asked
 * for, and any engine an embedder added with registerEngine()), else a path to a module, else a
 * package name; a module's default export or `engine` is the class. The composition root binds
 * the class once in the container (core's createContainer), which constructs it by DI. A third
 * party ships an engine without touching Gatehouse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { GatehouseError, SingleEngine, type EngineClass } from '@gatehouse/core';
import { nearest } from '@gatehouse/core/internal';

type EngineLoader = () => Promise<EngineClass>;

const ENGINES = new Map<string, EngineLoader>([
  ['single', async () => SingleEngine as unknown as EngineClass],
  ['prefork', () => builtIn('prefork', '@gatehouse/engine-prefork')],
  ['threaded', () => builtIn('threaded', '@gatehouse/engine-threaded')],
  ['hybrid', () => builtIn('hybrid', '@gatehouse/engine-hybrid')],
]);

export interface EngineResolveOptions {
  readonly cwd?: string;
}

/** Names `--engine` accepts: an engine class, or a function that imports one when first asked for. */
export function registerEngine(name: string, engine: EngineClass | EngineLoader): void {
  ENGINES.set(name, isEngineClass(engine) ? async () => engine : engine);
}

export function engineNames(): string[] {
  return [...ENGINES.keys()].sort();
}

export async function resolveEngine(name: string, options: EngineResolveOptions = {}): Promise<EngineClass> {
  const cwd = options.cwd ?? process.cwd();
  const named = ENGINES.get(name);
  if (named) return named();
  if (looksLikePath(name)) {
    const file = path.resolve(cwd, name);
    if (!fs.existsSync(file)) throw new GatehouseError('ERR_ENGINE_UNKNOWN', `"${name}": no such file ${file}`);
    return engineClassOf(await import(pathToFileURL(file).href) as Record<string, unknown>, name);
  }
  let module: Record<string, unknown> | undefined;
  try {
    const resolved = createRequire(path.join(cwd, 'package.json')).resolve(name);
    module = await import(pathToFileURL(resolved).href) as Record<string, unknown>;
  } catch (error) {
    if (!isNotFound(error, name) && (error as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    try { module = await importFromCli(name); } catch (inner) { if (!isNotFound(inner, name)) throw inner; }
  }
  if (!module) {
    const guess = nearest(name, engineNames());
    throw new GatehouseError('ERR_ENGINE_UNKNOWN', `"${name}"${guess ? ` (did you mean ${guess}?)` : ''}; known: ${engineNames().join(', ')}, or a package name or path exporting an engine class`);
  }
  return engineClassOf(module, name);
}

async function builtIn(name: string, pkg: string): Promise<EngineClass> {
  let module: Record<string, unknown>;
  try {
    module = await importFromCli(pkg);
  } catch (error) {
    if (!isNotFound(error, pkg)) throw error;
    throw new GatehouseError('ERR_ENGINE_NOT_INSTALLED', `--engine ${name} needs the package ${pkg}`, { cause: error });
  }
  return engineClassOf(module, pkg);
}

function importFromCli(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier) as Promise<Record<string, unknown>>;
}

function looksLikePath(name: string): boolean {
  return name.startsWith('.') || path.isAbsolute(name) || /\.(c|m)?js$/.test(name);
}

function isNotFound(error: unknown, specifier: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(specifier);
}

function isEngineClass(value: unknown): value is EngineClass {
  return typeof value === 'function' && typeof (value as { prototype?: { start?: unknown } }).prototype?.start === 'function';
}

function engineClassOf(module: Record<string, unknown>, from: string): EngineClass {
  for (const candidate of [module.default, module.engine, (module.default as Record<string, unknown> | undefined)?.engine]) {
    if (isEngineClass(candidate)) return candidate;
  }
  throw new GatehouseError('ERR_ENGINE_INVALID', `${from} exports no class with start() as its default export or as \`engine\``);
}
