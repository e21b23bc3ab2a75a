import type { CatalogueEntry } from './catalogue.js';

/** Settings, flags, config files and environment variables. */
export const SETTINGS_ERRORS = {
  ERR_SETTING_INVALID: { status: 500, message: 'Invalid setting', hint: 'See docs/configuration.md or serve --help for the allowed values.' },
  ERR_SETTING_UNKNOWN: { status: 500, message: 'Unknown setting', hint: 'See serve --help for the settings that exist.' },
  ERR_CONFIG_FILE: { status: 500, message: 'Config file could not be loaded', hint: 'Check that the file exists and exports an object of settings.' },
  ERR_BIND_INVALID: { status: 500, message: 'Invalid bind address', hint: 'Use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N.' },
} as const satisfies Record<string, CatalogueEntry>;
