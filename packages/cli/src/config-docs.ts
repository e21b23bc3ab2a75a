/*
 * docs/configuration.md, generated from the settings table (and the access-log atoms and
 * metrics defined in this package), so the reference cannot drift from the code. A test
 * compares the file with this output and names the command that regenerates it.
 */
import { SETTINGS, type SettingGroup, type SettingName, type SettingSpec } from '@gatehouse/core';
import { allowedValues, envName, flagName, formatSettingValue, snakeName } from '@gatehouse/core/internal';
import { ACCESS_LOG_ATOMS, ACCESS_LOG_PRESETS } from './logging/access-format.js';
import { DURATION_BUCKETS } from './metrics/unit-metrics.js';

export const REGENERATE_COMMAND = 'npx --yes pnpm@10.34.8 build && node packages/cli/scripts/gen-config-docs.mjs';

const GROUPS: Array<[SettingGroup, string]> = [
  ['server', 'Server'], ['engine', 'Engine'], ['limits', 'Limits'], ['timeouts', 'Timeouts'], ['logging', 'Logging'],
  ['proxy', 'Proxy'], ['tls', 'TLS'], ['dev', 'Development'], ['metrics', 'Metrics'], ['hooks', 'Hooks (config file only)'],
];

const cell = (text: string) => text.replace(/\|/g, '\\|');

function row(name: SettingName, spec: SettingSpec<unknown>): string {
  const flag = spec.cli === false || spec.kind === 'hook' ? (name === 'app' ? 'APP (positional)' : '—') : `\`--${flagName(name)}\`${spec.alias ? `, \`-${spec.alias}\`` : ''}`;
  const env = spec.kind === 'hook' || spec.env === false ? '—' : `\`${envName(name)}\``;
  const key = spec.file === false ? '—' : `\`${name}\`${snakeName(name) !== name ? ` / \`${snakeName(name)}\`` : ''}`;
  const engines = spec.engines ? ` Engines: ${spec.engines.join(', ')}.` : '';
  const restart = spec.restart ? ' **Restart to change**: a reload keeps the running value.' : '';
  const def = spec.kind === 'hook' ? '—' : `\`${formatSettingValue(name, spec.default)}\``;
  return `| ${flag} | ${env} | ${key} | ${def} | ${cell(spec.doc)}${engines}${restart} Accepts ${cell(allowedValues(spec))}. |`;
}

export function renderConfigurationDoc(): string {
  const out: string[] = [];
  out.push(`<!-- GENERATED from packages/core/src/settings/table.ts by packages/cli/src/config-docs.ts. Do not edit: change the table, then run: ${REGENERATE_COMMAND} -->`);
  out.push('', '# Configuration', '');
  out.push(
    'Every setting is defined once, in the settings table (`packages/core/src/settings/table.ts`). The command-line flags,',
    'config-file keys, environment variables, `serve --help`, `serve --print-config` and this page all come from it.',
    '',
    '## Where settings come from',
    '',
    'Precedence, lowest first: **defaults < `WEB_CONCURRENCY` (workers only) < config file < environment < command line**.',
    '',
    '- **`WEB_CONCURRENCY`**: the worker count a PaaS (Heroku, Render) sets. As Gunicorn does, `serve` reads it as the default',
    '  of `workers`: below the config file, `GATEHOUSE_WORKERS` and the command line. `--print-config` names it as the source.',
    '- **Config file**: `--config FILE` (or `GATEHOUSE_CONFIG`), else the first of `gatehouse.config.js`, `gatehouse.config.mjs`,',
    '  `gatehouse.config.json` in the current directory. Keys may be camelCase (`maxRequests`), kebab-case (`max-requests`)',
    '  or snake_case (`max_requests`). A JS config exports settings as a default object and/or named exports, and hooks as',
    '  functions (`export function on_starting(settings) {}`); JSON cannot hold hooks. An unknown key is an error that',
    '  suggests the nearest name.',
    '- **Environment**: `GATEHOUSE_<NAME>` (e.g. `GATEHOUSE_WORKERS=4`; lists comma-separated; booleans true/false/1/0/yes/no),',
    '  then `GATEHOUSE_CMD_ARGS`, extra command-line arguments (`GATEHOUSE_CMD_ARGS="--workers 3 --access-log -"`, like',
    '  Gunicorn\'s `GUNICORN_CMD_ARGS`), which win over the individual variables.',
    '- **Command line**: `serve [options] APP`. A list setting (`--bind`) may be repeated; another setting given twice takes the last value.',
    '',
    '`serve --print-config APP` prints every effective setting and where it came from (`default`, `file`, `env`, `cli`), and for',
    'an `auto` count what it became and why.',
    '`serve --check-config APP` validates the settings, resolves the engine and loads the app, then exits 0, or 1 with the error line.',
    '',
    'A wrong value stops `serve` with exit code 2 and one line that names the setting, the value, what is allowed and',
    'where it came from, e.g.',
    '',
    '    serve: ERR_SETTING_INVALID: Invalid setting: workers = "many" from env GATEHOUSE_WORKERS: expected a whole number >= 1, or auto (one per usable CPU). See docs/configuration.md or serve --help for the allowed values.',
    '',
    'An unknown flag gets the nearest existing one (`--wokers` -> `did you mean --workers?`).',
    '',
    '## Reloading settings',
    '',
    'A reload (`kill -HUP` the master, or `server.reload()`) reads the settings again from the same sources: the config',
    'file (a JS one is imported afresh) and the environment, under the command line. What can change while serving',
    '(workers, threads, timeouts, max-requests, log level, access log format, ...) applies to the units the reload starts.',
    'A setting marked **Restart to change** below keeps its running value, and one warning line names each one that',
    'differs. An invalid new config (a syntax error, a bad value) fails the reload with one error line: the old settings',
    'and the old code keep serving. Under `threaded`, the settings the I/O thread reads (protocol limits and timeouts,',
    '`--max-queue`) keep their start-up value; the app threads get the rest.',
    '',
    'Durations are in seconds (fractions allowed); sizes are bytes with an optional `k`, `m` or `g` (powers of 1024).',
    '`workers` and `threads` also take `auto` (`max` is the same): one per CPU the process may use, from its affinity mask and',
    'cgroup CPU quota; `--print-config` shows the number and why (engines.md, "How many units: auto", has the rule per engine).',
    '`GATEHOUSE_CGROUP_ROOT` (default `/sys/fs/cgroup`) makes the quota reader look elsewhere; it is for tests.',
  );
  for (const [group, title] of GROUPS) {
    const names = (Object.keys(SETTINGS) as SettingName[]).filter((n) => SETTINGS[n].group === group);
    if (names.length === 0) continue;
    out.push('', `## ${title}`, '', '| Flag | Environment | Config key | Default | Meaning |', '| --- | --- | --- | --- | --- |');
    for (const name of names) out.push(row(name, SETTINGS[name] as SettingSpec<unknown>));
  }
  out.push(
    '',
    '## Hooks: when each runs',
    '',
    '`on_starting`, `when_ready` and `on_reload` run in the master (the `serve` process). `pre_fork`, `post_fork` and',
    '`worker_exit` are called by process-based engines. `pre_request` and `post_request` run in each process or',
    'thread where requests are handled (they are called from core\'s request diagnostics events; a hook that throws is',
    'logged, the request goes on). Worker processes and threads get their settings as JSON, so they re-read hooks from',
    'the config file (`loadConfigHooks(settings.config)` in `@gatehouse/core`). A throwing `on_starting` stops the start.',
    '',
    '## Logging',
    '',
    'The error log is JSON lines (pino) by default, human-readable when it is a terminal or with `--log-format pretty`.',
    'The access log is a separate stream with its own destination. Both take `-`, `stdout`, `stderr` or a file path;',
    'files are opened for appending by every worker process and thread, and `kill -USR1` reopens them after logrotate',
    'has moved them. Start-up logs exactly one record with `"event":"ready"`, carrying the `engine` and the listening',
    '`addresses`. JSON records carry `time` as ISO 8601 in UTC (`"2026-01-02T03:04:05.678Z"`); `--log-time epoch` gives',
    'milliseconds since 1970 instead, for tools that expect pino\'s number.',
    '',
    'On a terminal (pretty logs on a TTY) `serve` first prints a banner, as Gunicorn does: the version, the engine with',
    'its units (`Engine: prefork, 4 workers`), the app path and interface, and where the settings came from (config',
    'file, `GATEHOUSE_*` variables, command-line flags); then the ready line names the addresses. JSON logs carry no',
    'banner: `--print-config` tells the same.',
    '',
    'Access-log presets:',
    '',
    ...Object.entries(ACCESS_LOG_PRESETS).map(([name, format]) => `- \`${name}\`: \`${format}\``),
    '',
    'Atoms (write `%(atom)s`):',
    '',
    '| Atom | Value |',
    '| --- | --- |',
    ...Object.entries(ACCESS_LOG_ATOMS).map(([atom, doc]) => `| \`%(${atom})s\` | ${cell(doc)} |`),
    '',
    '## Signals',
    '',
    '| Signal | Effect |',
    '| --- | --- |',
    '| TERM, QUIT | graceful stop: finish in-flight requests within `--graceful-timeout` |',
    '| INT | fast stop |',
    '| second INT or TERM during a stop | exit now |',
    '| HUP | reload: new app code serving before the old stops; if it fails to load, the old keeps serving |',
    '| TTIN / TTOU | one more / one fewer worker process or thread |',
    '| USR1 | reopen log files |',
    '',
    'Signal handlers only enqueue; one loop runs the actions in order, so a burst of HUPs is one reload at a time.',
    '',
    '## Metrics',
    '',
    '`--metrics-bind HOST:PORT` serves Prometheus text at `/metrics` on a listener of its own in the master:',
    '',
    '| Metric | Type | Meaning |',
    '| --- | --- | --- |',
    '| `gatehouse_requests_total{status_class}` | counter | requests answered, by 1xx..5xx |',
    `| \`gatehouse_request_duration_seconds\` | histogram | head received to response end; buckets ${DURATION_BUCKETS.join(', ')} |`,
    '| `gatehouse_requests_in_flight` | gauge | requests being handled |',
    '| `gatehouse_open_connections` | gauge | client connections open |',
    '| `gatehouse_task_queue_depth` | gauge | requests waiting for a free app thread (threaded, hybrid) |',
    '| `gatehouse_units_alive{kind}` | gauge | worker processes / app threads not stopped |',
    '| `gatehouse_restarts_total{cause}` | counter | replacements by cause: crash, timeout, max-requests, memory, reload |',
    '| `gatehouse_engine_generation` | gauge | app generation, +1 per reload |',
    '| `gatehouse_listen_backlog{port}` | gauge | connections waiting to be accepted (Linux, from /proc/net/tcp; the limit is not exported: /proc does not show it and only netlink sock_diag, which needs a native module, does) |',
    '| `gatehouse_master_*` | various | the master process\'s own CPU, memory, event-loop lag (prom-client defaults) |',
    '',
    '**How per-request figures reach the master.** Requests end in worker processes and threads, and diagnostics',
    'channels are per process and per thread. Each unit runs the CLI\'s setup module (`EngineContext.setupModules`),',
    'which counts requests by status class, a duration histogram and open connections. When an engine unit reports its',
    'stats to its supervisor, it first publishes core\'s `channels.metricsCollect` with `{ into: {} }`; the setup',
    'module fills `into.gatehouse` with its cumulative counters, and the engine carries `into` unchanged as',
    '`UnitStats.metrics`. At each scrape the master adds its own counters to the latest report of every live unit and',
    'to the last report of every unit that has gone away (so counters never go backwards when a worker is replaced;',
    'requests served after a dead unit\'s last report are not counted). No cluster IPC is needed, and any engine that',
    'fills `UnitStats.metrics` gets the figures, whatever carries its stats.',
    '',
    '## Development: --reload',
    '',
    '`--reload` watches the app\'s directory (recursively; node_modules and dot-files ignored) and, after 150 ms',
    'without further changes, asks the engine for its zero-downtime reload. If the edited code does not load (a syntax',
    'error), the error is logged and the previous version keeps serving.',
    '',
    '## Embedding',
    '',
    '```js',
    "import { createServer, createContainerFor, startServer, TOKENS } from '@gatehouse/cli';",
    '',
    "const server = await createServer({ app: 'app.js', engine: 'prefork', workers: 4, accessLog: '-' });",
    'server.addresses; server.stats();',
    'await server.reload(); await server.scale(+1);',
    'await server.close({ graceful: true });',
    '',
    '// Swap a part before start: build the container, rebind a token, then start it.',
    "const container = await createContainerFor({ app: 'app.js', engine: 'single' });",
    'container.rebindSync(TOKENS.Engine).to(MyEngine).inSingletonScope(); // an @injectable() engine (engines.md)',
    'const custom = await startServer(container);',
    '```',
    '',
    'Options are validated by the same table (an unknown or wrong option is the same one-line error). `app` may be a',
    'module path or an already loaded app (`{ app, interface }`) for engines that run it on the caller\'s event loop.',
    'Rebinding `TOKENS.EngineContext` changes the settings and app the engine is constructed with.',
    'To make a name `engine` accepts, `registerEngine(name, EngineClass)` from `@gatehouse/cli` first.',
    '',
  );
  return out.join('\n');
}
