/*
 * `serve bench` options, defined once: `benchCommandSpec` is the flag table (names, types,
 * defaults, docs) that both this package's own argv parser and the CLI's yargs mount read, and
 * `BenchOptions` is the plain object `runBench()` takes from a program. Nothing here imports
 * yargs, so the CLI can mount the spec however it builds commands.
 *
 * Equal parallelism: with P = --workers, else --threads, else the machine's available
 * parallelism, prefork runs P worker processes, threaded P app threads, hybrid floor(P/2)
 * processes x 2 threads (1 x P below P = 4, where halving would leave a single process anyway),
 * node-cluster P processes, and single and node-http one. Giving both --workers and --threads
 * sets prefork's processes, threaded's threads, and hybrid's processes x threads as given.
 */
import type { LoadgenChoice } from './loadgen/select.js';
import { SCENARIO_NAMES } from './scenarios.js';

export const ENGINE_NAMES = ['prefork', 'threaded', 'hybrid', 'single'] as const;
export type BenchEngine = (typeof ENGINE_NAMES)[number];
export const PEER_NAMES = ['node-http', 'node-cluster'] as const;
export type BenchPeer = (typeof PEER_NAMES)[number];
/** http1: HTTP/1.1 keep-alive connections; h2c: HTTP/2 with prior knowledge, several streams per connection. */
export const PROTOCOL_NAMES = ['http1', 'h2c'] as const;
export type BenchProtocol = (typeof PROTOCOL_NAMES)[number];
export const LOADGEN_NAMES = ['auto', 'wrk', 'autocannon', 'h2load', 'node-h2'] as const;

export interface BenchProgress {
  readonly phase: 'start' | 'ready' | 'failed' | 'warmup' | 'measure' | 'measured' | 'stop' | 'done';
  readonly target?: string;
  readonly round?: number;
  readonly rounds?: number;
  /** Seconds this phase will take (warmup, measure), so a progress line can count down. */
  readonly seconds?: number;
  readonly message?: string;
  /** 0..1 of the whole run, by planned load time. */
  readonly fraction: number;
}

export interface BenchOptions {
  /** Path of the app module; default: the scenario's own app. */
  app?: string;
  /** Default: every installed one of prefork, threaded, hybrid; `single` if none is. */
  engines?: readonly string[];
  workers?: number;
  threads?: number;
  /** A built-in scenario; ignored when `path` is given. Default 'hello'. */
  scenario?: string;
  path?: string;
  method?: string;
  bodyFile?: string;
  connections?: number;
  /** Seconds per measured round. */
  duration?: number;
  rounds?: number;
  /** Seconds of unmeasured load per target before the first round. */
  warmup?: number;
  peers?: readonly string[];
  /** Target whose figures the ratios divide by; default the first peer, else the first engine. */
  baseline?: string;
  /** Default http1. */
  protocol?: BenchProtocol;
  /** Concurrent streams per connection with protocol h2c (h2load -m). */
  streams?: number;
  loadgen?: LoadgenChoice;
  /** Load-generator threads (wrk -t). */
  loadgenThreads?: number;
  /** First port to use (targets take port, port+1, ...); default: free ports picked by the tool. */
  port?: number;
  /** Report directory; default bench-out/. */
  out?: string;
  /** `serve` entry script; default the bin of the installed @gatehouse/cli (see resolveServeBin). */
  serveBin?: string;
  /** Seconds a target may take to answer its first request. */
  startTimeout?: number;
  /** Resolve relative paths against this (default process.cwd()). */
  cwd?: string;
  /** The command line shown in reports (default: `serve bench` + the options). */
  command?: string;
  onProgress?: (event: BenchProgress) => void;
  signal?: AbortSignal;
}

export interface FlagSpec {
  readonly type: 'string' | 'number' | 'boolean' | 'list';
  readonly describe: string;
  readonly default?: string | number | boolean | readonly string[];
  readonly choices?: readonly string[];
  readonly alias?: string;
  /** Key of BenchOptions this flag sets. */
  readonly key: keyof BenchOptions;
}

export const DEFAULTS = {
  scenario: 'hello',
  method: 'GET',
  connections: 50,
  duration: 10,
  rounds: 3,
  warmup: 3,
  protocol: 'http1' as BenchProtocol,
  streams: 10,
  loadgen: 'auto' as LoadgenChoice,
  loadgenThreads: 1,
  out: 'bench-out',
  startTimeout: 30,
} as const;

export const benchCommandSpec = {
  command: 'bench [app]',
  describe: 'Run an app under each engine (and plain node:http peers) and compare throughput, latency, CPU and memory.',
  positional: { name: 'app', key: 'app' as const, describe: 'App module to serve (default: the scenario\'s own app).' },
  flags: {
    engines: { type: 'list', key: 'engines', describe: 'Engines to compare, comma-separated: prefork, threaded, hybrid, single (default: every installed one of the first three).', choices: ENGINE_NAMES },
    workers: { type: 'number', key: 'workers', alias: 'w', describe: 'Worker processes (prefork, hybrid, node-cluster); default: equal parallelism, see the docs.' },
    threads: { type: 'number', key: 'threads', alias: 't', describe: 'App threads (threaded; per process under hybrid); default: equal parallelism.' },
    scenario: { type: 'string', key: 'scenario', alias: 's', default: DEFAULTS.scenario, choices: SCENARIO_NAMES, describe: 'Built-in request mix and its default app (close: hello with a new connection per request).' },
    path: { type: 'string', key: 'path', describe: 'Send this request path instead of a scenario\'s.' },
    method: { type: 'string', key: 'method', default: DEFAULTS.method, describe: 'HTTP method with --path.' },
    'body-file': { type: 'string', key: 'bodyFile', describe: 'Request body with --path (sent as application/octet-stream).' },
    connections: { type: 'number', key: 'connections', alias: 'c', default: DEFAULTS.connections, describe: 'Concurrent keep-alive connections.' },
    duration: { type: 'number', key: 'duration', alias: 'd', default: DEFAULTS.duration, describe: 'Seconds per measured round.' },
    rounds: { type: 'number', key: 'rounds', alias: 'r', default: DEFAULTS.rounds, describe: 'Measured rounds per target, interleaved (A B C A B C ...).' },
    warmup: { type: 'number', key: 'warmup', default: DEFAULTS.warmup, describe: 'Seconds of unmeasured load per target before the rounds.' },
    peers: { type: 'list', key: 'peers', default: [], choices: PEER_NAMES, describe: 'Reference servers doing the same work: node-http, node-cluster (built-in scenarios only).' },
    baseline: { type: 'string', key: 'baseline', describe: 'Target the ratios divide by (default: first peer, else first engine).' },
    protocol: { type: 'string', key: 'protocol', default: DEFAULTS.protocol, choices: PROTOCOL_NAMES, describe: 'http1: HTTP/1.1 keep-alive; h2c: HTTP/2 with prior knowledge, --streams at once on each connection (engines and peers serve both on one port).' },
    streams: { type: 'number', key: 'streams', default: DEFAULTS.streams, describe: 'With --protocol h2c: concurrent streams per connection (h2load -m).' },
    loadgen: { type: 'string', key: 'loadgen', default: DEFAULTS.loadgen, choices: LOADGEN_NAMES, describe: 'Load generator. http1: wrk if on PATH (auto), or autocannon; h2c: h2load if on PATH (auto), or node-h2 (a Node http2 client).' },
    'loadgen-threads': { type: 'number', key: 'loadgenThreads', default: DEFAULTS.loadgenThreads, describe: 'wrk threads (-t); autocannon always uses one.' },
    port: { type: 'number', key: 'port', describe: 'First port to listen on (targets use port, port+1, ...); default: free ports.' },
    out: { type: 'string', key: 'out', alias: 'o', default: DEFAULTS.out, describe: 'Directory for report.json, report.md, chart.svg and server logs.' },
    'serve-bin': { type: 'string', key: 'serveBin', describe: 'The `serve` script that starts each engine (default: the installed @gatehouse/cli\'s bin/serve.js).' },
    'start-timeout': { type: 'number', key: 'startTimeout', default: DEFAULTS.startTimeout, describe: 'Seconds a server may take to answer its first request.' },
  } satisfies Record<string, FlagSpec>,
} as const;
