/*
 * Layering settings: defaults < config file < environment < command line (Gunicorn's order).
 * Each layer is a list of entries (setting name, raw value, source); resolving converts every
 * raw value with the table's rules and remembers which layer won, for --print-config. A count
 * left at `auto` by the winning layer is sized from the usable CPUs last (auto-size.ts).
 */
import { GatehouseError } from '../errors/index.js';
import { SETTINGS, defaultSettings, type SettingName, type Settings } from './table.js';
import { camelName, envName } from './names.js';
import { coerceSetting, type SettingSource } from './parse.js';
import { nearest } from './suggest.js';
import type { SettingSpec } from './types.js';
import { applyAutoSize, needsAutoSize, type AutoSized } from './auto-size.js';
import { usableCpus } from '../usable-cpus.js';

export interface SettingEntry {
  readonly name: SettingName;
  readonly raw: unknown;
  readonly source: SettingSource;
}

export interface ResolvedSettings {
  readonly settings: Settings;
  readonly sources: Readonly<Record<SettingName, SettingSource>>;
  /** The counts that were `auto`, with what they became and why. */
  readonly autoSized: AutoSized;
}

const DEFAULT_SOURCE: SettingSource = { kind: 'default' };

/** Applies layers in order (later wins); throws the first ERR_SETTING_INVALID. */
export function resolveSettings(...layers: ReadonlyArray<readonly SettingEntry[]>): ResolvedSettings {
  const settings = defaultSettings() as unknown as Record<string, unknown>;
  const sources = {} as Record<SettingName, SettingSource>;
  for (const name of Object.keys(SETTINGS) as SettingName[]) sources[name] = DEFAULT_SOURCE;
  for (const layer of layers) {
    for (const entry of layer) {
      settings[entry.name] = coerceSetting(entry.name, entry.raw, entry.source);
      sources[entry.name] = entry.source;
    }
  }
  const autoSized = needsAutoSize(settings) ? applyAutoSize(settings, usableCpus()) : {};
  return { settings: settings as unknown as Settings, sources, autoSized };
}

/** GATEHOUSE_<SCREAMING_SNAKE> variables; empty values count as unset. */
export function entriesFromEnv(env: NodeJS.ProcessEnv): SettingEntry[] {
  const entries: SettingEntry[] = [];
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, SettingSpec<unknown>]>) {
    if (spec.kind === 'hook' || spec.env === false) continue;
    const variable = envName(name);
    const raw = env[variable];
    if (raw !== undefined && raw !== '') entries.push({ name, raw, source: { kind: 'env', variable } });
  }
  return entries;
}

/**
 * Entries from an object whose keys may be camelCase, kebab-case or snake_case (a config file,
 * or createServer options). An unknown key is an error that suggests the nearest name.
 */
export function entriesFromObject(
  object: Readonly<Record<string, unknown>>,
  sourceFor: (key: string) => SettingSource,
  where: string,
): SettingEntry[] {
  const entries: SettingEntry[] = [];
  for (const [key, raw] of Object.entries(object)) {
    if (raw === undefined) continue;
    const name = camelName(key);
    if (!(name in SETTINGS)) {
      const guess = nearest(name, Object.keys(SETTINGS));
      throw new GatehouseError('ERR_SETTING_UNKNOWN', `"${key}" in ${where}${guess ? ` (did you mean ${guess}?)` : ''}`);
    }
    entries.push({ name: name as SettingName, raw, source: sourceFor(key) });
  }
  return entries;
}
