/*
 * Options -> a plan: validated numbers, the scenario, and the targets (engines and peers) with
 * the exact command line that starts each. All usage errors surface here, before any server
 * starts, as one BenchError line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BenchError } from './errors.js';
import { DEFAULTS, ENGINE_NAMES, PEER_NAMES, PROTOCOL_NAMES, type BenchOptions, type BenchProtocol } from './options.js';
import { builtInScenario, customScenario, displayPath, peerScript, repoRoot, type Scenario } from './scenarios.js';
import { LOADGENS_FOR, type LoadgenChoice } from './loadgen/select.js';

export interface Target {
  /** Unique label in reports: the engine or peer name. */
  readonly name: string;
  readonly kind: 'engine' | 'peer';
  /** Processes x threads this target runs the app on. */
  readonly workers: number;
  readonly threads: number;
  /** argv after `node`; the port is appended (engines: --bind 127.0.0.1:PORT, peers: env PORT). */
  readonly args: readonly string[];
  /**
   * The same start as a command a user can paste in the directory they ran the bench from:
   * `npx gatehouse APP ...` (the CLI's bin) for engines, unless --serve-bin named another script;
   * `node /abs/peer.mjs` for peers. Paths are as given (relative to cwd) or absolute.
   */
  readonly shown: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface BenchPlan {
  readonly app: string | null;
  readonly scenario: Scenario;
  readonly targets: readonly Target[];
  /** Targets that could not even be planned (no peer script for a scenario): reported, not run. */
  readonly skipped: readonly { readonly name: string; readonly kind: 'engine' | 'peer'; readonly reason: string }[];
  readonly baseline: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly rounds: number;
  readonly warmupSec: number;
  readonly protocol: BenchProtocol;
  /** Concurrent streams per connection (h2c). */
  readonly streams: number;
  readonly loadgen: LoadgenChoice;
  readonly loadgenThreads: number;
  readonly port: number | null;
  readonly out: string;
  readonly startTimeoutSec: number;
  readonly parallelism: number;
  readonly cwd: string;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new BenchError('ERR_BENCH_USAGE', `--${name} must be an integer >= ${min}, got ${value}`);
  return v;
}

function positiveNumber(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new BenchError('ERR_BENCH_USAGE', `--${name} must be a number >= ${min}, got ${value}`);
  return v;
}

/**
 * The serve script: the option, else the bin of the @gatehouse/cli that is installed with this
 * package (node_modules, walking up from here: the CLI that mounts `serve bench`, in this
 * workspace too), else one installed in the project at cwd. The script is run with node, so
 * it must be the package's JS file, never a name on PATH (which may be a shell shim).
 */
export function resolveServeBin(option: string | undefined, cwd: string): string {
  if (option) return resolve(cwd, option);
  for (const from of [import.meta.url, join(resolve(cwd), 'package.json')]) {
    let manifestPath: string;
    try {
      manifestPath = createRequire(from).resolve('@gatehouse/cli/package.json');
    } catch {
      continue;
    }
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin?: Record<string, string> };
    const bin = manifest.bin?.serve ?? manifest.bin?.gatehouse;
    if (bin) return join(dirname(manifestPath), bin);
  }
  throw new BenchError('ERR_BENCH_SERVE_MISSING', `@gatehouse/cli resolves neither from @gatehouse/bench nor from ${resolve(cwd)}`);
}

/**
 * Engines `serve` can load: their package resolves from the serve script's folder, the way the
 * CLI's own `import('@gatehouse/engine-NAME')` finds it (node_modules, walking up). A package
 * that exists in the workspace but is not yet a dependency of the CLI does not count.
 */
export function installedEngines(serveBin = resolveServeBin(undefined, process.cwd())): string[] {
  return ['prefork', 'threaded', 'hybrid'].filter((name) => {
    for (let dir = dirname(serveBin); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules', '@gatehouse', `engine-${name}`, 'package.json'))) return true;
      if (dirname(dir) === dir) return false;
    }
  });
}

function list(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function planBench(options: BenchOptions): BenchPlan {
  const cwd = options.cwd ?? process.cwd();
  const connections = positiveInteger('connections', options.connections, DEFAULTS.connections);
  const durationSec = positiveNumber('duration', options.duration, DEFAULTS.duration, 1);
  const rounds = positiveInteger('rounds', options.rounds, DEFAULTS.rounds);
  const warmupSec = positiveNumber('warmup', options.warmup, DEFAULTS.warmup, 0);
  const loadgenThreads = positiveInteger('loadgen-threads', options.loadgenThreads, DEFAULTS.loadgenThreads);
  const startTimeoutSec = positiveNumber('start-timeout', options.startTimeout, DEFAULTS.startTimeout, 1);
  const protocol = options.protocol ?? DEFAULTS.protocol;
  if (!(PROTOCOL_NAMES as readonly string[]).includes(protocol)) throw new BenchError('ERR_BENCH_USAGE', `--protocol must be ${PROTOCOL_NAMES.join(' or ')}, got "${protocol}"`);
  const streams = positiveInteger('streams', options.streams, DEFAULTS.streams);
  const loadgen = options.loadgen ?? DEFAULTS.loadgen;
  const loadgens = LOADGENS_FOR[protocol];
  if (!loadgens.includes(loadgen)) throw new BenchError('ERR_BENCH_USAGE', `--loadgen with --protocol ${protocol} must be ${loadgens.join(', ')}, got "${loadgen}"`);
  const port = options.port === undefined ? null : positiveInteger('port', options.port, 0, 1);
  if (port !== null && port > 65535) throw new BenchError('ERR_BENCH_USAGE', `--port must be at most 65535, got ${port}`);

  const scenario = options.path
    ? customScenario(options.path, options.method ?? DEFAULTS.method, options.bodyFile, cwd)
    : builtInScenario(options.scenario ?? DEFAULTS.scenario);
  if (!options.path && options.bodyFile) throw new BenchError('ERR_BENCH_USAGE', '--body-file needs --path (scenarios bring their own body)');
  if (protocol === 'h2c' && scenario.closesConnection) throw new BenchError('ERR_BENCH_USAGE', `the ${scenario.name} scenario closes the connection after each request, which is HTTP/1.1 only; use --protocol http1`);

  const app = options.app ? resolve(cwd, options.app) : scenario.app;
  if (!app) throw new BenchError('ERR_BENCH_APP_MISSING', 'give the app to serve with --path');
  if (!existsSync(app)) throw new BenchError('ERR_BENCH_APP_MISSING', app);

  let engines = list(options.engines);
  for (const engine of engines) {
    if (!(ENGINE_NAMES as readonly string[]).includes(engine)) throw new BenchError('ERR_BENCH_ENGINE_UNKNOWN', `"${engine}"`);
  }
  const serveBin = resolveServeBin(options.serveBin, cwd);
  if (engines.length === 0) {
    engines = installedEngines(serveBin);
    if (engines.length === 0) engines = ['single'];
  }
  engines = [...new Set(engines)];
  const peers = [...new Set(list(options.peers))];
  for (const peer of peers) {
    if (!(PEER_NAMES as readonly string[]).includes(peer)) throw new BenchError('ERR_BENCH_PEER_UNKNOWN', `"${peer}"`);
  }

  if (options.workers !== undefined) positiveInteger('workers', options.workers, 1);
  if (options.threads !== undefined) positiveInteger('threads', options.threads, 1);
  const parallelism = options.workers ?? options.threads ?? availableParallelism();

  const targets: Target[] = [];
  const skipped: { name: string; kind: 'engine' | 'peer'; reason: string }[] = [];
  for (const engine of engines) {
    let workers = 1;
    let threads = 1;
    const flags: string[] = [];
    if (engine === 'prefork') {
      workers = options.workers ?? parallelism;
      flags.push('--workers', String(workers));
    } else if (engine === 'threaded') {
      threads = options.threads ?? parallelism;
      flags.push('--threads', String(threads));
    } else if (engine === 'hybrid') {
      if (options.workers !== undefined && options.threads !== undefined) {
        workers = options.workers;
        threads = options.threads;
      } else if (parallelism < 4) {
        workers = 1;
        threads = parallelism;
      } else {
        workers = Math.floor(parallelism / 2);
        threads = 2;
      }
      flags.push('--workers', String(workers), '--threads', String(threads));
    }
    const program = options.serveBin ? ['node', displayPath(serveBin, cwd)] : ['npx', 'gatehouse'];
    const rest = ['--engine', engine, ...flags];
    targets.push({ name: engine, kind: 'engine', workers, threads, args: [serveBin, app, ...rest], shown: [...program, displayPath(app, cwd), ...rest], env: {} });
  }
  for (const peer of peers) {
    const script = scenario.peerWork === null ? null : peerScript(peer, scenario.peerWork);
    if (!script) {
      skipped.push({ name: peer, kind: 'peer', reason: `no benchmarks/peers/${peer}-${scenario.peerWork ?? scenario.name}.mjs: peers exist for the built-in scenarios only` });
      continue;
    }
    const workers = peer === 'node-cluster' ? options.workers ?? parallelism : 1;
    // The peers serve h2c when PROTOCOL says so (benchmarks/peers/serve.mjs).
    const env = { ...(peer === 'node-cluster' ? { WORKERS: String(workers) } : {}), ...(protocol === 'h2c' ? { PROTOCOL: 'h2c' } : {}) };
    targets.push({ name: peer, kind: 'peer', workers, threads: 1, args: [script], shown: ['node', script], env });
  }

  const names = targets.map((t) => t.name);
  const baseline = options.baseline ?? targets.find((t) => t.kind === 'peer')?.name ?? names[0]!;
  if (!names.includes(baseline)) throw new BenchError('ERR_BENCH_USAGE', `--baseline "${baseline}" is not one of the targets (${names.join(', ')})`);

  return {
    app, scenario, targets, skipped, baseline, connections, durationSec, rounds, warmupSec, protocol, streams, loadgen, loadgenThreads,
    port, out: resolve(cwd, options.out ?? DEFAULTS.out), startTimeoutSec, parallelism, cwd,
  };
}
