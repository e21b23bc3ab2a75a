/*
 * Config files: gatehouse.config.{js,mjs,json} found in the current directory, or --config
 * FILE. A JS config may export settings as a default object and/or as named exports (as a
 * Gunicorn config module does with top-level variables), and hooks as functions, e.g.
 * `export function on_starting(settings) {}`.
 *
 * Functions cannot cross a process or thread boundary, so engines give their children the
 * settings as JSON (serializableSettings) plus the config file's path, and each child that
 * needs hooks re-reads them with loadConfigHooks(path).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GatehouseError } from '../errors/index.js';
import { appStack, syntaxErrorAt } from '../app/import.js';
import { SETTINGS, type SettingName, type Settings } from './table.js';
import { camelName } from './names.js';
import { entriesFromObject, type SettingEntry } from './resolve.js';
import type { SettingSpec } from './types.js';

export const CONFIG_FILE_NAMES = ['gatehouse.config.js', 'gatehouse.config.mjs', 'gatehouse.config.json'] as const;

/** The first of CONFIG_FILE_NAMES present in `cwd`, as an absolute path. */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = path.join(cwd, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The file's settings object, keys as written. Throws ERR_CONFIG_FILE naming the file and the reason. */
let rereads = 0;

/** `again`: a JS file is imported afresh (ESM caches a module per URL), as a reload re-reads it. */
export async function readConfigFile(file: string, again = false): Promise<Record<string, unknown>> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new GatehouseError('ERR_CONFIG_FILE', `${absolute}: no such file`);
  if (absolute.endsWith('.json')) {
    let data: unknown;
    const text = fs.readFileSync(absolute, 'utf8');
    try {
      data = JSON.parse(text);
    } catch (error) {
      // V8 quotes the text around the error, newlines and all: keep the message on its line.
      throw new GatehouseError('ERR_CONFIG_FILE', `${jsonErrorAt(absolute, text)}\n${(error as Error).message.replace(/\n/g, '\\n')}`, { cause: error });
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new GatehouseError('ERR_CONFIG_FILE', `${absolute}: the top level must be an object`);
    return data as Record<string, unknown>;
  }
  let module: Record<string, unknown>;
  try {
    const url = pathToFileURL(absolute);
    if (again) url.search = `reread=${Date.now()}-${++rereads}`;
    module = await import(url.href) as Record<string, unknown>;
  } catch (error) {
    throw new GatehouseError('ERR_CONFIG_FILE', await syntaxErrorAt(error, absolute) ?? `${absolute}\n${appStack(error)}`, { cause: error });
  }
  const out: Record<string, unknown> = {};
  const fromDefault = module.default;
  if (fromDefault !== undefined) {
    if (typeof fromDefault !== 'object' || fromDefault === null || Array.isArray(fromDefault)) {
      throw new GatehouseError('ERR_CONFIG_FILE', `${absolute}: the default export must be an object of settings`);
    }
    Object.assign(out, fromDefault);
  }
  for (const [key, value] of Object.entries(module)) if (key !== 'default' && key !== 'module.exports') out[key] = value;
  return out;
}

/**
 * `FILE:LINE`, the line and a caret under the first character JSON.parse rejects. V8 gives a
 * position for only some errors, so the position is found by bisection: a prefix that stops
 * before the bad character fails only for stopping early (at its end, or "end of JSON input").
 */
function jsonErrorAt(file: string, text: string): string {
  const failsEarly = (end: number) => {
    try { JSON.parse(text.slice(0, end)); return false; } catch (error) {
      const message = (error as Error).message;
      const position = /at position (\d+)/.exec(message);
      return position ? Number(position[1]) < end : !/end of JSON input/.test(message);
    }
  };
  let low = 0;
  let high = text.length;
  if (!failsEarly(high)) return `${file}:${text.split('\n').length}`;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (failsEarly(middle)) high = middle; else low = middle + 1;
  }
  const at = low - 1;
  // A newline that is rejected (after `tru`, say) points at the end of its line.
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = text.indexOf('\n', lineStart) === -1 ? text.length : text.indexOf('\n', lineStart);
  const line = text.slice(0, lineStart).split('\n').length;
  return `${file}:${line}\n${text.slice(lineStart, lineEnd)}\n${' '.repeat(at - lineStart)}^`;
}

/** The file's entries for resolveSettings(); a key that is not a setting is an error. */
export function entriesFromConfigFile(file: string, object: Readonly<Record<string, unknown>>): SettingEntry[] {
  const absolute = path.resolve(file);
  const entries = entriesFromObject(object, (key) => ({ kind: 'file', path: absolute, key }), `config file ${absolute}`);
  for (const entry of entries) {
    if ((SETTINGS[entry.name] as SettingSpec<unknown>).file === false) {
      throw new GatehouseError('ERR_SETTING_INVALID', `${entry.name} in config file ${absolute}: this setting cannot be set inside a config file`);
    }
  }
  return entries;
}

const HOOK_NAMES = (Object.keys(SETTINGS) as SettingName[]).filter((name) => SETTINGS[name].kind === 'hook');

/**
 * The hooks a config file exports, for a worker process or thread: it gets its settings as
 * JSON and calls this with context.configFile (or settings.config) to get the functions back.
 */
export async function loadConfigHooks(configFile: string | undefined): Promise<Partial<Settings>> {
  if (!configFile || configFile.endsWith('.json')) return {};
  const object = await readConfigFile(configFile);
  const hooks: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const name = camelName(key);
    if ((HOOK_NAMES as string[]).includes(name) && typeof value === 'function') hooks[name] = value;
  }
  return hooks as Partial<Settings>;
}

/** A copy safe for JSON / postMessage / process.send: hooks become null. */
export function serializableSettings(settings: Readonly<Settings>): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) {
    out[name] = typeof value === 'function' ? null : Array.isArray(value) ? [...value] : value;
  }
  return out as unknown as Settings;
}
