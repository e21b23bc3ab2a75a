/*
 * Every Gatehouse setting, defined once (Gunicorn's config.py, as data). The mapped type on
 * SETTINGS means no key of `Settings` can lack a definition, and no definition can exist
 * without a key. Names are camelCase here; the flag is the kebab-case form (`maxRequests` ->
 * `--max-requests`), the env var GATEHOUSE_ + SCREAMING_SNAKE (`GATEHOUSE_MAX_REQUESTS`), and
 * the config-file key is either form.
 */
import type { EngineName, SettingSpec } from './types.js';
import { parseBind } from '../net/listen.js';
import { allowIpsProblem } from '../net/proxy-headers.js';
import { healthPathProblem } from '../http/health.js';

export type Hook = (...args: any[]) => unknown;

export interface Settings {
  app: string;
  config: string;
  engine: string;
  workers: number;
  threads: number;
  threadConcurrency: number;
  interface: 'auto' | 'gateway' | 'fetch' | 'node';
  fetchGlobals: boolean;
  bind: string[];
  backlog: number;
  limitConcurrency: number;
  timeout: number;
  stackOnTimeout: boolean;
  gracefulTimeout: number;
  stopDelay: number;
  keepAlive: number;
  requestTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  maxRequests: number;
  maxRequestsJitter: number;
  reloadStrategy: 'rolling' | 'generation';
  reloadBatch: number;
  sticky: boolean;
  maxQueue: number;
  readAheadBudget: number;
  maxWorkerMemory: number;
  maxThreadMemory: number;
  limitRequestLine: number;
  limitRequestFields: number;
  limitRequestFieldSize: number;
  maxBodySize: number;
  wsMaxMessage: number;
  wsPingInterval: number;
  wsPongTimeout: number;
  wsDeflate: boolean;
  wsIdleTimeout: number;
  wsMaxBuffered: number;
  http2: 'on' | 'off' | 'tls';
  http2MaxConcurrentStreams: number;
  http2MaxHeaderListSize: number;
  http2MaxFrameSize: number;
  http2InitialWindowSize: number;
  http2MaxResetsPerSecond: number;
  http2MaxControlFramesPerSecond: number;
  http2SendTimeout: number;
  pid: string;
  controlSocket: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'auto' | 'json' | 'pretty';
  logTime: 'iso' | 'epoch';
  accessLog: string;
  accessLogFormat: string;
  errorLog: string;
  metricsBind: string;
  reload: boolean;
  reloadExtraFile: string[];
  reloadIgnore: string[];
  forwardedAllowIps: string[];
  proxyHeaders: boolean;
  proxyProtocol: 'off' | 'v1' | 'v2' | 'auto';
  proxyAllowIps: string[];
  serverHeader: string;
  healthPath: string;
  livenessPath: string;
  debug: boolean;
  certfile: string;
  keyfile: string;
  caCerts: string;
  tlsMinVersion: 'TLSv1.2' | 'TLSv1.3';
  ciphers: string;
  user: string;
  group: string;
  umask: string;
  onStarting: Hook | null;
  whenReady: Hook | null;
  preFork: Hook | null;
  postFork: Hook | null;
  workerExit: Hook | null;
  preRequest: Hook | null;
  postRequest: Hook | null;
  onReload: Hook | null;
}

const PROCESS_ENGINES: readonly EngineName[] = ['prefork', 'hybrid'];
const THREAD_ENGINES: readonly EngineName[] = ['threaded', 'hybrid'];
const MIB = 1024 * 1024;

/** Each value must parse as a listen address (the engines bind them later; fail early). */
function validBinds(values: readonly string[]): string | undefined {
  if (values.length === 0) return 'at least one address';
  for (const value of values) {
    try { parseBind(value); } catch (error) { return `HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N (${detailOf(error)})`; }
  }
  return undefined;
}

function detailOf(error: unknown): string {
  return (error as { detail?: string }).detail ?? (error as Error).message;
}

function validMetricsBind(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    if (parseBind(value).kind !== 'tcp') return 'a TCP HOST:PORT';
  } catch (error) { return `a TCP HOST:PORT (${detailOf(error)})`; }
  return undefined;
}

function validUmask(value: string): string | undefined {
  return value === '' || /^(0o?)?[0-7]{1,4}$/.test(value) ? undefined : 'an octal umask such as 0o022 or 022';
}

/** A file path (its length is checked once resolved, by the CLI); an address is refused. */
function validControlSocket(value: string): string | undefined {
  if (value.startsWith('unix:') || /^[^/]*:\d+$/.test(value)) return 'a file path for a unix socket (the control socket is never TCP), or "off"';
  return undefined;
}

export const SETTINGS: { readonly [K in keyof Settings]: SettingSpec<Settings[K]> } = {
  app: { kind: 'string', restart: true, default: '', group: 'server', cli: false, metavar: 'APP', doc: 'The app to serve: path/to/app.js, path:export or path:factory(). Given as the positional argument.' },
  config: { kind: 'string', restart: true, default: '', group: 'server', alias: 'c', file: false, metavar: 'FILE', doc: 'Config file (.js, .mjs or .json). Without it, gatehouse.config.{js,mjs,json} in the current directory is read if present.' },
  engine: { kind: 'string', restart: true, default: 'prefork', group: 'engine', alias: 'e', doc: 'Concurrency engine: prefork, threaded, hybrid, single, or a package/path exporting an engine class.' },
  workers: { kind: 'integer', default: 1, min: 1, auto: true, group: 'engine', alias: 'w', engines: PROCESS_ENGINES, doc: 'Number of worker processes; auto: one per usable CPU (the affinity mask and the cgroup CPU quota, not the machine\'s count), under hybrid usable CPUs / threads. WEB_CONCURRENCY, as a PaaS sets it, is read as its default (below the config file).' },
  threads: { kind: 'integer', default: 4, min: 1, auto: true, group: 'engine', alias: 't', engines: THREAD_ENGINES, doc: 'Number of app threads (per worker process under hybrid); auto: one per usable CPU, under hybrid usable CPUs / workers (both auto: 1 x CPUs below 4 CPUs, else CPUs/2 processes x 2 threads).' },
  threadConcurrency: { kind: 'integer', default: 16, min: 1, group: 'engine', engines: THREAD_ENGINES, doc: 'Requests in flight at once per app thread (1 = one request per thread, as Waitress).' },
  interface: { kind: 'choice', default: 'auto', choices: ['auto', 'gateway', 'fetch', 'node'], group: 'server', doc: 'How to call the app: Gateway Interface, fetch handler, node:http listener, or detect.' },
  fetchGlobals: { kind: 'boolean', default: true, group: 'server', doc: 'For a fetch-handler app: make the global Response, where the app runs, a lightweight one that the server sends as the app built it (as @hono/node-server does).' },
  bind: { kind: 'list', restart: true, default: ['127.0.0.1:8000'], group: 'server', alias: 'b', metavar: 'ADDRESS', validate: validBinds, doc: 'Address to listen on: HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N. Repeat for several.' },
  backlog: { kind: 'integer', restart: true, default: 2048, min: 1, group: 'server', doc: 'Listen backlog: connections the kernel queues before accept, under every engine (Linux caps it at net.core.somaxconn).' },
  limitConcurrency: { kind: 'integer', default: 0, group: 'limits', doc: 'Open connections per process before new ones get 503 (0 = no limit).' },
  timeout: { kind: 'seconds', restart: true, default: 30, group: 'timeouts', doc: 'Liveness: a worker process or thread with no heartbeat for this long is killed and replaced (0 = no liveness check). Not a request deadline (see --request-timeout).' },
  stackOnTimeout: { kind: 'boolean', default: true, group: 'timeouts', engines: PROCESS_ENGINES, doc: 'Before a worker process is killed for --timeout, log the JavaScript stack its event loop is stuck in (read by a helper thread in each worker, a few MiB of RSS; see docs/engines.md). --no-stack-on-timeout saves the thread. App threads always log theirs.' },
  gracefulTimeout: { kind: 'seconds', default: 30, group: 'timeouts', doc: 'On graceful stop or reload, how long in-flight requests may take before they are cut off.' },
  stopDelay: { kind: 'seconds', default: 0, group: 'timeouts', doc: 'On a graceful stop, first serve this long with the --health-path answering 503 and the listeners open, so load balancers and Kubernetes endpoints stop routing here before connections are refused (in place of a preStop sleep); then the --graceful-timeout drain.' },
  keepAlive: { kind: 'seconds', default: 5, group: 'timeouts', doc: 'How long an idle keep-alive connection is kept open.' },
  requestTimeout: { kind: 'seconds', default: 0, group: 'timeouts', doc: 'Per-request deadline: past it the client gets 504 and request.signal aborts (0 = none).' },
  headersTimeout: { kind: 'seconds', default: 10, group: 'timeouts', doc: 'Time allowed to receive a request\'s head (cuts off slowloris clients).' },
  bodyTimeout: { kind: 'seconds', default: 30, group: 'timeouts', doc: 'Longest wait for the next bytes of a request body.' },
  maxRequests: { kind: 'integer', default: 0, group: 'engine', doc: 'Recycle a worker process or thread after this many requests (0 = never).' },
  maxRequestsJitter: { kind: 'integer', default: 0, group: 'engine', doc: 'Add a random 0..N to max-requests so workers do not recycle together.' },
  reloadStrategy: { kind: 'choice', default: 'rolling', choices: ['rolling', 'generation'], group: 'engine', engines: ['prefork', 'threaded', 'hybrid'], doc: 'How a reload (HUP) replaces units. rolling: --reload-batch at a time, each new one ready before an old one drains, so memory stays near one generation (Puma\'s phased restart, PM2 reload). generation: a whole new generation boots, then the old one drains (Gunicorn\'s HUP; twice the memory meanwhile, and the switch is all at once).' },
  reloadBatch: { kind: 'integer', default: 1, min: 1, group: 'engine', engines: ['prefork', 'threaded', 'hybrid'], doc: 'Under --reload-strategy rolling, how many units are replaced at a time: at most this many more than the target run during a reload.' },
  sticky: { kind: 'boolean', restart: true, default: false, group: 'engine', engines: ['prefork', 'threaded', 'hybrid'], doc: 'Sticky sessions: every connection and request from one client address reaches the same unit (worker process by the address the master sees, app thread by the request\'s remote address), for apps that keep sessions in memory such as socket.io\'s long-polling. The prefork and hybrid master then accepts every connection itself. See docs/engines.md, "Sticky sessions".' },
  maxQueue: { kind: 'integer', default: 1024, group: 'engine', engines: THREAD_ENGINES, doc: 'Requests that may wait for a free thread; past it they get 503 with Retry-After.' },
  readAheadBudget: { kind: 'bytes', default: 64 * MIB, group: 'engine', engines: THREAD_ENGINES, doc: 'Request-body bytes the I/O thread may hold, across all connections of a process, reading bodies (up to 1 MiB each) before they take an app thread, so a slow upload never holds one; past it bodies stream to the app as they arrive (0 = never read ahead, for apps that answer a body while it is still arriving).' },
  maxWorkerMemory: { kind: 'bytes', default: 0, group: 'engine', engines: PROCESS_ENGINES, doc: 'Recycle a worker process whose RSS passes this (e.g. 512m; 0 = no limit).' },
  maxThreadMemory: { kind: 'bytes', default: 0, group: 'engine', engines: THREAD_ENGINES, doc: 'Heap limit of each app thread; a thread that reaches it is replaced (e.g. 256m; 0 = no limit).' },
  limitRequestLine: { kind: 'integer', default: 8190, min: 64, group: 'limits', doc: 'Longest request-line in bytes; longer gets 414.' },
  limitRequestFields: { kind: 'integer', default: 100, min: 1, group: 'limits', doc: 'Most header fields in a request; more gets 431.' },
  limitRequestFieldSize: { kind: 'integer', default: 8190, min: 64, group: 'limits', doc: 'Longest header field (name + value) in bytes; longer gets 431.' },
  maxBodySize: { kind: 'bytes', default: 1024 * MIB, group: 'limits', doc: 'Largest request body; larger gets 413 (0 = no limit).' },
  wsMaxMessage: { kind: 'bytes', default: MIB, min: 1, group: 'websocket', doc: 'Largest WebSocket message a client may send (e.g. 64k); a larger one closes the socket with 1009 (Message Too Big).' },
  wsPingInterval: { kind: 'seconds', default: 30, group: 'websocket', doc: 'Send a WebSocket ping this often to keep proxies from timing the connection out and to find dead peers (0 = no pings).' },
  wsPongTimeout: { kind: 'seconds', default: 10, group: 'websocket', doc: 'A keep-alive ping with no pong for this long ends the WebSocket without a close frame; the app sees close 1006 (0 = wait forever).' },
  wsDeflate: { kind: 'boolean', default: false, group: 'websocket', doc: 'Accept permessage-deflate compression when a client offers it (costs CPU and a zlib context per socket; see docs/gateway-interface.md).' },
  wsIdleTimeout: { kind: 'seconds', default: 0, group: 'websocket', doc: 'Close a WebSocket with 1001 when no message has gone either way for this long; pings do not count (0 = never).' },
  wsMaxBuffered: { kind: 'bytes', default: 4 * MIB, min: 1, group: 'websocket', doc: 'Bytes queued for a WebSocket client that is not reading, past which the server ends it without a close frame (the app sees 1006), so a slow client cannot grow memory.' },
  http2: { kind: 'choice', default: 'on', choices: ['on', 'off', 'tls'], group: 'server', doc: 'HTTP/2 on the same ports as HTTP/1.1. on: h2c with prior knowledge on plain listeners (a client that opens with the HTTP/2 preface) and h2 by ALPN on TLS listeners; tls: h2 over TLS only; off: HTTP/1.1 only (TLS offers http/1.1 alone, a preface gets 505).' },
  http2MaxConcurrentStreams: { kind: 'integer', default: 100, min: 1, max: 1000, group: 'limits', doc: 'HTTP/2: streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused with REFUSED_STREAM.' },
  http2MaxHeaderListSize: { kind: 'integer', default: 65536, min: 1024, max: 1048576, group: 'limits', doc: 'HTTP/2: largest request header list in bytes, as HPACK-decoded names + values + 32 per field (SETTINGS_MAX_HEADER_LIST_SIZE); a larger one resets its stream (ENHANCE_YOUR_CALM). Until the client acknowledges this server\'s SETTINGS, nghttp2\'s 64 KiB applies.' },
  http2MaxFrameSize: { kind: 'integer', default: 16384, min: 16384, max: 16777215, group: 'limits', doc: 'HTTP/2: largest frame payload this server accepts (SETTINGS_MAX_FRAME_SIZE).' },
  http2InitialWindowSize: { kind: 'integer', default: 65535, min: 0, max: 2147483647, group: 'limits', doc: 'HTTP/2: per-stream flow-control window in bytes (SETTINGS_INITIAL_WINDOW_SIZE): request body bytes a client may send ahead of the app reading them.' },
  http2MaxResetsPerSecond: { kind: 'integer', default: 100, min: 1, max: 100000, group: 'limits', doc: 'HTTP/2: streams one client may reset (RST_STREAM) per second on one session before the session is closed with GOAWAY ENHANCE_YOUR_CALM (the Rapid Reset attack, CVE-2023-44487: each reset stream costs the server a request while freeing the client\'s stream slot at once).' },
  http2MaxControlFramesPerSecond: { kind: 'integer', default: 100, min: 1, max: 100000, group: 'limits', doc: 'HTTP/2: SETTINGS and PING frames one client may send per second on one session (each makes the server answer); past it the session is closed with GOAWAY ENHANCE_YOUR_CALM (SETTINGS and PING floods).' },
  http2SendTimeout: { kind: 'seconds', default: 30, group: 'timeouts', doc: 'HTTP/2: a response that could send nothing for this long because the client keeps its flow-control window shut is reset (RST_STREAM CANCEL), so a client that never reads cannot hold a stream and its app work forever (0 = wait forever).' },
  pid: { kind: 'string', restart: true, default: '', group: 'server', metavar: 'FILE', doc: 'Write the master\'s process id to this file (removed on exit).' },
  controlSocket: { kind: 'string', restart: true, default: '', group: 'server', metavar: 'PATH|off', validate: validControlSocket, doc: 'Unix socket (mode 0600, never TCP) that `serve status|reload|scale|stop` talk to. Empty: the --pid file\'s path plus ".sock" when --pid is set, else none; "off": none.' },
  logLevel: { kind: 'choice', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], group: 'logging', doc: 'Error-log level.' },
  logFormat: { kind: 'choice', restart: true, default: 'auto', choices: ['auto', 'json', 'pretty'], group: 'logging', doc: 'Log format: JSON lines, or human-readable; auto is pretty on a TTY.' },
  logTime: { kind: 'choice', restart: true, default: 'iso', choices: ['iso', 'epoch'], group: 'logging', doc: 'The time field of JSON log records: iso (ISO 8601 in UTC, e.g. "2026-01-02T03:04:05.678Z") or epoch (milliseconds since 1970, as pino writes it).' },
  accessLog: { kind: 'string', default: '', group: 'logging', metavar: '-|FILE', doc: 'Access log destination: "-" or "stdout", "stderr", a file path, or empty for none. USR1 reopens the file.' },
  accessLogFormat: { kind: 'string', default: 'combined', group: 'logging', metavar: 'FORMAT', doc: 'Access log line: "combined", "common", or a format string of %(atom)s atoms (listed in docs/configuration.md).' },
  errorLog: { kind: 'string', restart: true, default: '-', group: 'logging', metavar: '-|FILE', doc: 'Error log destination: "-" or "stderr", "stdout", or a file path. USR1 reopens the file.' },
  metricsBind: { kind: 'string', restart: true, default: '', group: 'metrics', metavar: 'HOST:PORT', validate: validMetricsBind, doc: 'Serve Prometheus metrics on this HOST:PORT, a separate listener in the master (empty = off).' },
  reload: { kind: 'boolean', restart: true, default: false, group: 'dev', doc: 'Development: reload when a file under the app\'s directory changes, is added or is removed (atomic saves included).' },
  reloadExtraFile: { kind: 'list', restart: true, default: [], group: 'dev', metavar: 'PATH', doc: 'With --reload: also watch this file or directory (outside the app\'s directory, e.g. a config or template). Repeat for several.' },
  reloadIgnore: { kind: 'list', restart: true, default: [], group: 'dev', metavar: 'GLOB', doc: 'With --reload: changes to paths matching this glob (relative to the app\'s directory, e.g. "*.log" or "tmp/**") do not reload; node_modules, .git, dist and dot-files are always ignored. Repeat for several.' },
  forwardedAllowIps: { kind: 'list', default: ['127.0.0.1', '::1'], group: 'proxy', metavar: 'IPS', validate: allowIpsProblem, doc: 'Peers whose X-Forwarded-* / Forwarded headers are trusted ("*" for all).' },
  proxyHeaders: { kind: 'boolean', default: true, group: 'proxy', doc: 'Apply trusted X-Forwarded-* / Forwarded headers to the request\'s remote address and scheme.' },
  proxyProtocol: { kind: 'choice', default: 'off', choices: ['off', 'v1', 'v2', 'auto'], group: 'proxy', doc: 'Expect a PROXY protocol header on each connection (from a TCP load balancer).' },
  proxyAllowIps: { kind: 'list', default: ['127.0.0.1', '::1'], group: 'proxy', metavar: 'IPS', validate: allowIpsProblem, doc: 'Peers whose PROXY protocol header is believed: addresses, CIDR ranges, or "*" for all. A header from any other peer closes its connection.' },
  serverHeader: { kind: 'string', default: 'gatehouse', group: 'server', doc: 'Value of the Server response header (empty to send none).' },
  healthPath: { kind: 'string', default: '', group: 'server', metavar: 'PATH', validate: healthPathProblem, doc: 'Readiness path the server answers itself, never calling the app (e.g. /healthz; empty = off): 200 while it takes work, 503 from the moment a graceful stop or a reload\'s drain begins, or while no unit is ready. For load balancers and Kubernetes readiness probes.' },
  livenessPath: { kind: 'string', default: '', group: 'server', metavar: 'PATH', validate: healthPathProblem, doc: 'Liveness path the server answers itself (e.g. /livez; empty = off): 200 while some worker process or app thread is ready to run the app, 503 when none is; stays 200 while draining. For Kubernetes liveness probes.' },
  debug: { kind: 'boolean', default: false, group: 'dev', doc: 'Send error stacks to the client in 500 responses. Never in production.' },
  certfile: { kind: 'string', restart: true, default: '', group: 'tls', doc: 'TLS certificate file (PEM); with --keyfile, serve HTTPS.' },
  keyfile: { kind: 'string', restart: true, default: '', group: 'tls', doc: 'TLS private key file (PEM).' },
  caCerts: { kind: 'string', restart: true, default: '', group: 'tls', doc: 'CA certificates file (PEM) for client certificate verification.' },
  tlsMinVersion: { kind: 'choice', restart: true, default: 'TLSv1.2', choices: ['TLSv1.2', 'TLSv1.3'], group: 'tls', doc: 'Lowest TLS version accepted.' },
  ciphers: { kind: 'string', restart: true, default: '', group: 'tls', doc: 'OpenSSL cipher list (empty = Node\'s default).' },
  user: { kind: 'string', restart: true, default: '', group: 'server', doc: 'After binding, switch the processes that run the app to this user (prefork/hybrid workers; the threaded or single process itself).' },
  group: { kind: 'string', restart: true, default: '', group: 'server', doc: 'After binding, switch the processes that run the app to this group (as --user).' },
  umask: { kind: 'string', restart: true, default: '', group: 'server', validate: validUmask, doc: 'Octal umask for the server processes (e.g. 0o022).' },
  onStarting: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'on_starting(settings): in the master, before listeners are bound.' },
  whenReady: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'when_ready(server): in the master, once every worker is ready.' },
  preFork: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'pre_fork(worker): in the master, before a worker is started.' },
  postFork: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'post_fork(worker): in the worker, after it starts, before it loads the app.' },
  workerExit: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'worker_exit(worker): in the master, after a worker exits.' },
  preRequest: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'pre_request(request): before the app is called, in the process that handles the connection (a prefork worker; the I/O thread under threaded and hybrid).' },
  postRequest: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'post_request(request, response): after the response is written, where pre_request runs.' },
  onReload: { kind: 'hook', default: null, group: 'hooks', cli: false, doc: 'on_reload(server): in the master, when a reload begins.' },
};

export type SettingName = keyof Settings;

/** The defaults as a plain Settings object. */
export function defaultSettings(): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS)) {
    out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out as unknown as Settings;
}
