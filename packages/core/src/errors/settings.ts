import type { CatalogueEntry } from './entry.js';

/** Settings, flags, config files and environment variables. */
export const SETTINGS_ERRORS = {
  ERR_SETTING_INVALID: { status: 500, message: 'Invalid setting', hint: 'See docs/configuration.md or serve --help for the allowed values.' },
  ERR_SETTING_UNKNOWN: { status: 500, message: 'Unknown setting', hint: 'See serve --help for the settings that exist.' },
  ERR_CONFIG_FILE: { status: 500, message: 'Config file could not be loaded', hint: 'Fix the file at the place shown: it must exist, parse, and hold (JSON) or export (JS) an object of settings.' },
  ERR_BIND_INVALID: { status: 500, message: 'Invalid bind address', hint: 'Use HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N.' },
  ERR_APP_REQUIRED: { status: 500, message: 'No app given', hint: 'Name the app to serve: serve path/to/app.js (or set app in the config file, or GATEHOUSE_APP).' },
  ERR_ENGINE_NOT_INSTALLED: { status: 500, message: 'Engine package is not installed', hint: 'Install it next to @gatehouse/cli (npm install PACKAGE), or pick another --engine.' },
  ERR_PID_FILE: { status: 500, message: 'Could not write the pid file', hint: 'Another server may be running with this --pid file; stop it, or pick another path.' },
  ERR_TLS_CONFIG: { status: 500, message: 'TLS certificate or key could not be used', hint: 'Check --certfile/--keyfile (PEM, matching pair, readable by the server), --ca-certs, --ciphers and --tls-min-version; the OpenSSL reason is shown.' },
  ERR_USER_UNKNOWN: { status: 500, message: 'No such user or group', hint: 'Name an existing user (--user) and group (--group), or give numeric ids.' },
  ERR_LOG_OPEN: { status: 500, message: 'Could not open a log file', hint: 'Check that the directory exists and is writable, or log to "-".' },
} as const satisfies Record<string, CatalogueEntry>;
