/*
 * Turning a raw value (flag text, env text, or a config-file value of any JSON type) into a
 * setting's typed value. Every failure is one ERR_SETTING_INVALID line that names the setting,
 * the value, what is allowed, and where the value came from, so the operator can fix the right
 * file or variable without guessing.
 */
import { GatehouseError } from '../errors/index.js';
import { SETTINGS, type SettingName, type Settings } from './table.js';
import type { SettingSpec } from './types.js';

/** Where a setting's effective value came from (shown by --print-config). */
export type SettingSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string; readonly key: string }
  /** The config file itself, found in the current directory rather than named. */
  | { readonly kind: 'found'; readonly path: string }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'cli'; readonly flag: string; readonly via?: string }
  | { readonly kind: 'option'; readonly key: string };

export function describeSource(source: SettingSource): string {
  switch (source.kind) {
    case 'default': return 'default';
    case 'file': return `config file ${source.path} (key ${source.key})`;
    case 'found': return `found in ${source.path}`;
    case 'env': return `env ${source.variable}`;
    case 'cli': {
      const what = source.flag === 'APP' ? 'the APP argument' : `flag ${source.flag}`;
      return source.via ? `${what} in ${source.via}` : what;
    }
    case 'option': return `createServer option ${source.key}`;
  }
}

/** A human description of the values a setting accepts. */
export function allowedValues(spec: SettingSpec<unknown>): string {
  switch (spec.kind) {
    case 'string': return 'a string';
    case 'integer': {
      const range = spec.max !== undefined ? `a whole number from ${spec.min ?? 0} to ${spec.max}` : `a whole number >= ${spec.min ?? 0}`;
      return spec.auto ? `${range}, or auto (one per usable CPU)` : range;
    }
    case 'seconds': return 'a number of seconds >= 0 (fractions allowed)';
    case 'bytes': return 'a whole number of bytes >= 0, optionally with k, m or g (e.g. 512m)';
    case 'boolean': return 'true or false';
    case 'list': return 'one or more values (repeat the flag, or separate with commas)';
    case 'choice': return `one of ${spec.choices!.join(', ')}`;
    case 'hook': return 'a function exported from a .js or .mjs config file';
  }
}

/**
 * What coerceSetting returns for `auto` (or `max`, the word PM2 users type) on a setting that
 * accepts it; resolveSettings replaces it with a number once every layer is applied.
 */
export const AUTO = 'auto';
const AUTO_WORDS = new Set(['auto', 'max']);

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Converts and validates; returns the value (or AUTO) or throws ERR_SETTING_INVALID naming the source. */
export function coerceSetting<K extends SettingName>(name: K, raw: unknown, source: SettingSource): Settings[K] {
  const spec = SETTINGS[name] as SettingSpec<unknown>;
  const fail = (why?: string): never => {
    const shown = typeof raw === 'function' ? '[function]' : typeof raw === 'string' ? JSON.stringify(raw) : safeJson(raw);
    const allowed = why ?? allowedValues(spec);
    throw new GatehouseError('ERR_SETTING_INVALID', `${name} = ${shown} from ${describeSource(source)}: expected ${allowed}`);
  };
  const value = convert(spec, raw, fail);
  if (value === AUTO && spec.auto) return value as Settings[K];
  const problem = spec.validate?.(value);
  if (problem !== undefined) fail(problem);
  return value as Settings[K];
}

function convert(spec: SettingSpec<unknown>, raw: unknown, fail: (why?: string) => never): unknown {
  switch (spec.kind) {
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number') return String(raw);
      return fail();
    case 'integer': {
      if (spec.auto && typeof raw === 'string' && AUTO_WORDS.has(raw.trim().toLowerCase())) return AUTO;
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < (spec.min ?? 0) || (spec.max !== undefined && n > spec.max)) return fail();
      return n;
    }
    case 'seconds': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n < (spec.min ?? 0) || (spec.max !== undefined && n > spec.max)) return fail();
      return n;
    }
    case 'bytes': {
      if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : fail();
      const match = typeof raw === 'string' ? /^\s*(\d+)\s*([kmg]?)(i?b)?\s*$/i.exec(raw) : null;
      if (!match) return fail();
      const n = Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]!;
      return Number.isSafeInteger(n) ? n : fail();
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && TRUE_WORDS.has(raw.trim().toLowerCase())) return true;
      if (typeof raw === 'string' && FALSE_WORDS.has(raw.trim().toLowerCase())) return false;
      return fail();
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : fail();
      const out: string[] = [];
      for (const item of items) {
        if (typeof item !== 'string') return fail();
        for (const part of item.split(',')) if (part.trim() !== '') out.push(part.trim());
      }
      return out;
    }
    case 'choice':
      if (typeof raw === 'string' && spec.choices!.includes(raw)) return raw;
      return fail();
    case 'hook':
      if (raw === null || raw === undefined) return null;
      return typeof raw === 'function' ? raw : fail();
  }
}

function safeJson(value: unknown): string {
  try { return JSON.stringify(value) ?? String(value); } catch { return String(value); }
}

/** How a value prints in --print-config and the docs. */
export function formatSettingValue(name: SettingName, value: unknown): string {
  const spec = SETTINGS[name];
  if (spec.kind === 'hook') return typeof value === 'function' ? `[function ${(value as { name?: string }).name || 'anonymous'}]` : '(none)';
  if (Array.isArray(value)) return value.join(',');
  if (value === '') return '""';
  return String(value);
}
