/*
 * PROVISIONAL minimal loader (default export or path:name); the full loader with factories,
 * fetch/node detection and every error path replaces this file.
 */
import path from 'node:path';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { GatehouseError } from '../errors/index.js';
import type { AppSource, LoadedApp, Application, LifecycleHook } from '../gateway/types.js';

export interface LoadOptions {
  readonly interface?: 'auto' | 'gateway' | 'fetch' | 'node';
  /** Appended to the module URL so a reload imports fresh code. */
  readonly cacheBust?: string;
}

export async function loadApp(source: AppSource, options: LoadOptions = {}): Promise<LoadedApp> {
  if (source.kind === 'inline') return source.app;
  const [file, exportName] = splitSpec(source.spec);
  const resolved = path.resolve(source.cwd ?? process.cwd(), file);
  if (!fs.existsSync(resolved)) throw new GatehouseError('ERR_APP_NOT_FOUND', resolved);
  const url = pathToFileURL(resolved).href + (options.cacheBust ? `?v=${options.cacheBust}` : '');
  const mod = await import(url) as Record<string, unknown>;
  const exported = mod[exportName ?? 'default'];
  if (exported === undefined) throw new GatehouseError('ERR_APP_EXPORT_MISSING', `${file} has no export "${exportName ?? 'default'}"`);
  if (typeof exported !== 'function') throw new GatehouseError('ERR_APP_NOT_AN_APP', `${file}:${exportName ?? 'default'}`);
  return {
    app: exported as Application,
    startup: mod.startup as LifecycleHook | undefined,
    shutdown: mod.shutdown as LifecycleHook | undefined,
    interface: 'gateway',
  };
}

function splitSpec(spec: string): [string, string | undefined] {
  const colon = spec.lastIndexOf(':');
  if (colon > 1) return [spec.slice(0, colon), spec.slice(colon + 1)];
  return [spec, undefined];
}
