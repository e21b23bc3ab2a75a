/*
 * The `serve` command line, derived from the settings table: one option per setting
 * (kebab-case flag, alias, group), plus the few flags that are actions rather than settings
 * (--print-config, --check-config, --help, --version).
 *
 * Parsing is yargs-parser's, the tokenizer yargs itself runs, called directly: the process
 * that parses is the one that serves (`single`, and the prefork master), and the yargs
 * framework around the parser (usage layout, cliui, string widths, locales) is memory only
 * --help needs, so it is imported for --help alone. Conversion and validation are the
 * table's (so a bad value names its source the same way whether it came from a flag, a
 * variable or a file). No defaults are given to the parser: a key present in its output was
 * typed by the user. Unknown flags are caught here, to suggest the nearest flag.
 */
import parseArgs from 'yargs-parser';
import type { Argv } from 'yargs';
import { GatehouseError, SETTINGS, type SettingGroup, type SettingName, type SettingSpec } from '@gatehouse/core';
import { flagName, formatSettingValue, nearest, type SettingEntry } from '@gatehouse/core/internal';

const GROUP_TITLES: Record<SettingGroup, string> = {
  server: 'Server:', engine: 'Engine:', limits: 'Limits:', timeouts: 'Timeouts:', websocket: 'WebSocket:', logging: 'Logging:',
  proxy: 'Proxy:', tls: 'TLS:', dev: 'Development:', metrics: 'Metrics:', hooks: 'Hooks:',
};
const GROUP_ORDER: SettingGroup[] = ['server', 'engine', 'limits', 'timeouts', 'websocket', 'logging', 'proxy', 'tls', 'dev', 'metrics'];

/** Flags that are not settings. */
const ACTION_FLAGS = {
  'print-config': 'Print the effective settings and where each came from, then exit.',
  'check-config': 'Validate the settings and load the app (and engine), then exit 0, or 1 with the error.',
  help: 'Show this help.',
  version: 'Show the version.',
} as const;
const ACTION_ALIASES: Record<string, string> = { h: 'help' };

export interface CommandLine {
  readonly entries: SettingEntry[];
  readonly printConfig: boolean;
  readonly checkConfig: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

function cliSettings(): Array<[SettingName, SettingSpec<unknown>]> {
  return (Object.entries(SETTINGS) as Array<[SettingName, SettingSpec<unknown>]>)
    .filter(([, spec]) => spec.cli !== false && spec.kind !== 'hook');
}

function describe(name: SettingName, spec: SettingSpec<unknown>): string {
  const metavar = spec.metavar ?? (spec.kind === 'integer' ? (spec.auto ? 'N|auto' : 'N') : spec.kind === 'seconds' ? 'SECONDS' : spec.kind === 'bytes' ? 'BYTES' : spec.kind === 'choice' ? spec.choices!.join('|') : spec.kind === 'boolean' ? '' : 'VALUE');
  const only = spec.engines ? ` (${spec.engines.join(', ')})` : '';
  const shown = formatSettingValue(name, spec.default);
  // A boolean that is on by default is turned off with --no-NAME: say so, or nobody finds it.
  const fallback = spec.kind === 'boolean' ? (spec.default === true ? ` [default: on; --no-${flagName(name)} turns it off]` : '')
    : shown === '""' ? '' : ` [default: ${shown}]`;
  return `${metavar ? `${metavar}  ` : ''}${spec.doc}${only}${fallback}`;
}

/** How flags are read, the same for parsing and for the --help parser. */
const PARSER_CONFIGURATION = {
  'camel-case-expansion': false,
  'parse-numbers': false,
  'parse-positional-numbers': false,
  'duplicate-arguments-array': true,
  'boolean-negation': true,
  'strip-aliased': true,
  'halt-at-non-option': false,
} as const;

/** The yargs instance that lays out --help (yargs is imported only for it). */
async function helpParser(width?: number): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  let parser = (yargs([]) as Argv & { usageConfiguration(config: Record<string, boolean>): Argv })
    .usageConfiguration({ 'hide-types': true })
    .scriptName('serve')
    .usage('Usage: serve [options] APP\n\nServe APP (path/to/app.js, path:export or path:factory()) under a concurrency engine.\nSettings also come from gatehouse.config.{js,mjs,json}, GATEHOUSE_* variables and GATEHOUSE_CMD_ARGS;\nprecedence: defaults < WEB_CONCURRENCY (workers) < config file < environment < command line. See docs/configuration.md.\n\nAlso: serve check APP [options] (the same as --check-config), serve help, serve bench APP [options] to compare engines on APP (serve bench --help), and serve status|reload|scale N|stop to operate a running server over its control socket (serve status --help).')
    .parserConfiguration(PARSER_CONFIGURATION)
    .help(false)
    .version(false)
    .exitProcess(false)
    .wrap(width ?? Math.min(110, process.stdout.columns || 100));
  const groups = new Map<SettingGroup, string[]>();
  for (const [name, spec] of cliSettings()) {
    const flag = flagName(name);
    parser = parser.option(flag, {
      alias: spec.alias,
      describe: describe(name, spec),
      type: spec.kind === 'boolean' ? 'boolean' : 'string',
      requiresArg: spec.kind !== 'boolean',
    });
    groups.set(spec.group, [...(groups.get(spec.group) ?? []), flag]);
  }
  for (const group of GROUP_ORDER) if (groups.has(group)) parser = parser.group(groups.get(group)!, GROUP_TITLES[group]);
  for (const [flag, text] of Object.entries(ACTION_FLAGS)) parser = parser.option(flag, { type: 'boolean', describe: text });
  parser = parser.alias('help', 'h');
  return parser.group(Object.keys(ACTION_FLAGS), 'Actions:');
}

/** Every flag spelling that exists, for unknown-flag detection and suggestions. */
function knownFlags(): Map<string, string> {
  const known = new Map<string, string>(); // spelling -> canonical flag
  for (const [name, spec] of cliSettings()) {
    known.set(flagName(name), flagName(name));
    if (spec.alias) known.set(spec.alias, flagName(name));
  }
  for (const flag of Object.keys(ACTION_FLAGS)) known.set(flag, flag);
  for (const [alias, flag] of Object.entries(ACTION_ALIASES)) known.set(alias, flag);
  return known;
}

/**
 * Parses args into setting entries. `via` names where the args came from when they are not the
 * real command line (GATEHOUSE_CMD_ARGS), for messages and --print-config.
 */
export function parseCommandLine(args: readonly string[], via?: string): CommandLine {
  const known = knownFlags();
  const argv = readFlags(args, known, via);
  for (const key of Object.keys(argv)) {
    if (key === '_' || key === '$0' || known.has(key)) continue;
    const typed = key.length === 1 ? `-${key}` : `--${key}`;
    const guess = nearest(key, [...new Set(known.values())].filter((flag) => flag.length > 1));
    throw new GatehouseError('ERR_SETTING_UNKNOWN', `flag ${typed}${via ? ` in ${via}` : ''}${guess ? ` (did you mean --${guess}?)` : ''}`);
  }
  const entries: SettingEntry[] = [];
  const positionals = argv._.map(String);
  if (positionals.length > 1) {
    throw new GatehouseError('ERR_SETTING_INVALID', `unexpected argument "${positionals[1]}"${via ? ` in ${via}` : ''}: serve takes one APP; put options before or after it`);
  }
  if (positionals.length === 1) entries.push({ name: 'app', raw: positionals[0], source: { kind: 'cli', flag: 'APP', via } });
  for (const [name, spec] of cliSettings()) {
    const flag = flagName(name);
    let raw = argv[flag];
    if (raw === undefined) continue;
    // A flag given twice: lists keep every value, other settings take the last (Unix habit).
    if (Array.isArray(raw) && spec.kind !== 'list') raw = raw[raw.length - 1];
    if (spec.kind === 'list' && !Array.isArray(raw)) raw = [raw];
    entries.push({ name, raw, source: { kind: 'cli', flag: `--${flag}`, via } });
  }
  return {
    entries,
    printConfig: argv['print-config'] === true,
    checkConfig: argv['check-config'] === true,
    help: argv.help === true,
    version: argv.version === true,
  };
}

/**
 * The flags as typed: booleans (with --no-NAME), every other setting a string that needs a
 * value, as the --help parser declares them (requiresArg there, one argument here).
 */
function readFlags(args: readonly string[], known: Map<string, string>, via?: string): Record<string, unknown> & { _: Array<string | number> } {
  const booleans = Object.keys(ACTION_FLAGS);
  const strings: string[] = [];
  const alias: Record<string, string> = { ...Object.fromEntries(Object.entries(ACTION_ALIASES).map(([short, flag]) => [flag, short])) };
  for (const [name, spec] of cliSettings()) {
    const flag = flagName(name);
    (spec.kind === 'boolean' ? booleans : strings).push(flag);
    if (spec.alias) alias[flag] = spec.alias;
  }
  const { argv, error } = parseArgs.detailed([...args], {
    boolean: booleans, string: strings, alias, narg: Object.fromEntries(strings.map((flag) => [flag, 1])), configuration: PARSER_CONFIGURATION,
  });
  if (error) {
    const typed = /following: (\S+)/.exec(error.message)?.[1];
    if (!typed) throw error;
    throw new GatehouseError('ERR_SETTING_INVALID', `flag --${known.get(typed) ?? typed}${via ? ` in ${via}` : ''} needs a value`);
  }
  return argv as Record<string, unknown> & { _: Array<string | number> };
}

/** The --help text. */
export async function helpText(width?: number): Promise<string> {
  return (await helpParser(width)).getHelp();
}

/** Splits GATEHOUSE_CMD_ARGS like a shell would: spaces separate, quotes group, backslash escapes. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") { quote = c; started = true; }
    else if (c === '\\' && i + 1 < text.length) { current += text[++i]; started = true; }
    else if (/\s/.test(c)) { if (started) { out.push(current); current = ''; started = false; } }
    else { current += c; started = true; }
  }
  if (quote) throw new GatehouseError('ERR_SETTING_INVALID', `GATEHOUSE_CMD_ARGS has an unclosed ${quote} quote`);
  if (started) out.push(current);
  return out;
}
