/*
 * Where the CLI's settings come from, in precedence order: defaults < WEB_CONCURRENCY <
 * config file < environment (GATEHOUSE_* variables, then GATEHOUSE_CMD_ARGS, which are extra
 * command-line arguments as Gunicorn's GUNICORN_CMD_ARGS) < the command line.
 *
 * WEB_CONCURRENCY is the worker count a PaaS (Heroku, Render) sets for the app; as Gunicorn
 * does, it is read as the default of `workers`, so anything the operator wrote wins over it.
 *
 * The config file is the one named by --config (command line, CMD_ARGS or GATEHOUSE_CONFIG),
 * else gatehouse.config.{js,mjs,json} in the current directory.
 */
import path from 'node:path';
import {
  CGROUP_ROOT_VARIABLE, ENV_PREFIX, entriesFromConfigFile, entriesFromEnv, envName, findConfigFile, nearest, readConfigFile, resolveSettings,
  type ResolvedSettings, type SettingEntry,
} from '@gatehouse/core/internal';
import { SETTINGS, type SettingName, type SettingSpec } from '@gatehouse/core';
import { parseCommandLine, splitArgs, type CommandLine } from './command-line.js';
import { checkAccessLogFormat } from './logging/access-format.js';

export const CMD_ARGS_VARIABLE = 'GATEHOUSE_CMD_ARGS';
export const WEB_CONCURRENCY_VARIABLE = 'WEB_CONCURRENCY';

export interface LoadedSettings extends ResolvedSettings {
  readonly commandLine: CommandLine;
  /** Absolute path of the config file read, if any. */
  readonly configFile?: string;
  /** Problems that do not stop the server (a GATEHOUSE_* variable that names no setting). */
  readonly warnings: readonly string[];
}

/** `again`: a reload re-reads the config file (a JS one is imported afresh). */
export async function loadSettings(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string, again = false): Promise<LoadedSettings> {
  const commandLine = parseCommandLine(args);
  const cmdArgsText = env[CMD_ARGS_VARIABLE];
  const cmdArgs = cmdArgsText ? parseCommandLine(splitArgs(cmdArgsText), CMD_ARGS_VARIABLE).entries : [];
  const envEntries = entriesFromEnv(env);
  const webConcurrency = env[WEB_CONCURRENCY_VARIABLE];
  const paasEntries: SettingEntry[] = webConcurrency ? [{ name: 'workers', raw: webConcurrency, source: { kind: 'env', variable: WEB_CONCURRENCY_VARIABLE } }] : [];

  // Which config file: the highest-precedence `config` entry, else one found in cwd.
  const named = [...commandLine.entries, ...cmdArgs, ...envEntries].find((entry) => entry.name === 'config');
  let configFile: string | undefined;
  let fileEntries: SettingEntry[] = [];
  if (named && named.raw !== '') configFile = path.resolve(cwd, String(named.raw));
  else {
    configFile = findConfigFile(cwd);
    if (configFile) fileEntries.push({ name: 'config', raw: configFile, source: { kind: 'found', path: cwd } });
  }
  if (configFile) fileEntries = [...fileEntries, ...entriesFromConfigFile(configFile, await readConfigFile(configFile, again))];

  const resolved = resolveSettings(paasEntries, fileEntries, envEntries, cmdArgs, commandLine.entries);
  if (configFile && resolved.settings.config) resolved.settings.config = configFile;
  checkAccessLogFormat(resolved.settings.accessLogFormat, resolved.sources.accessLogFormat);
  return { ...resolved, commandLine, configFile, warnings: unknownVariables(env) };
}

/** Every variable that is read: one per setting that may come from the environment, CMD_ARGS, and the tests' cgroup root. */
function knownVariables(): string[] {
  const names = (Object.entries(SETTINGS) as Array<[SettingName, SettingSpec<unknown>]>)
    .filter(([, spec]) => spec.kind !== 'hook' && spec.env !== false)
    .map(([name]) => envName(name));
  return [...names, CMD_ARGS_VARIABLE, CGROUP_ROOT_VARIABLE];
}

/** A misspelled GATEHOUSE_* variable would be ignored without a word: name it and the nearest one. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = knownVariables();
  const warnings: string[] = [];
  for (const variable of Object.keys(env)) {
    if (!variable.startsWith(ENV_PREFIX) || known.includes(variable)) continue;
    const guess = nearest(variable.slice(ENV_PREFIX.length), known.map((name) => name.slice(ENV_PREFIX.length)));
    warnings.push(`${variable} is not a Gatehouse setting and is ignored${guess ? ` (did you mean ${ENV_PREFIX}${guess}?)` : ''}; see serve --help or docs/configuration.md`);
  }
  return warnings;
}
