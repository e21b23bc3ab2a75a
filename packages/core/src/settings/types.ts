/*
 * The shape of a setting's definition. The table in table.ts is the one place each
 * setting is defined; CLI flags, config-file keys, GATEHOUSE_* variables, --print-config and
 * docs/configuration.md are all derived from it.
 */
export type SettingGroup = 'server' | 'engine' | 'limits' | 'timeouts' | 'logging' | 'proxy' | 'tls' | 'dev' | 'hooks' | 'metrics' | 'websocket';
export type EngineName = 'single' | 'prefork' | 'threaded' | 'hybrid';

/** How the raw text of a flag or env var becomes a value. */
export type SettingKind =
  | 'string'
  | 'integer'   // whole number, >= 0 unless `min` says otherwise
  | 'seconds'   // a number of seconds, fractions allowed
  | 'bytes'     // a whole number of bytes; text may carry k/m/g (powers of 1024)
  | 'boolean'
  | 'list'      // repeatable flag; env/file value may be comma-separated
  | 'choice'
  | 'hook';     // a function: config file only

export interface SettingSpec<T> {
  readonly kind: SettingKind;
  readonly default: T;
  readonly group: SettingGroup;
  /** One line for --help and docs/configuration.md. */
  readonly doc: string;
  /** Single-letter CLI alias. */
  readonly alias?: string;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** An integer setting that also accepts `auto` (alias `max`): sized from the usable CPUs by auto-size.ts. */
  readonly auto?: boolean;
  /** Which engines read it; absent means every engine. */
  readonly engines?: readonly EngineName[];
  /** false: no CLI flag (config file / env only). Hooks never have one. */
  readonly cli?: boolean;
  /** false: not read from GATEHOUSE_* variables. Hooks never are. */
  readonly env?: boolean;
  /** false: not accepted as a config-file key (e.g. `config` itself). */
  readonly file?: boolean;
  /** Placeholder for the value in --help and the docs (e.g. HOST:PORT). */
  readonly metavar?: string;
  /**
   * true: a running server cannot change it; a reload (HUP) that finds a new value keeps the
   * old one and names it in a warning. Absent: a reload applies it to the units it starts.
   */
  readonly restart?: boolean;
  /** Extra check beyond kind/min/max/choices; returns what is wrong, or undefined. */
  readonly validate?: (value: T) => string | undefined;
}
