/*
 * Built-in scenarios: what request the load generator sends, which app serves it when no APP is
 * given, and which peer script does the same work on plain node:http. The scenario apps and
 * peers live in the repository's benchmarks/ folder (scenarios/ and peers/), sharing one work
 * module so an engine and a peer are always measured doing the same thing; examples/hello and
 * examples/cpu are preferred for hello and cpu when they exist.
 *
 * An installed package has no repository around it, so packing copies RUNTIME_PATHS into the
 * package's runtime/ folder with the same relative layout (scripts/copy-runtime.mjs, run by
 * `prepack`), and every path here is looked up under runtimeRoot(): the repository when this
 * package runs from its workspace, else that shipped copy.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from './errors.js';
import type { LoadRequest } from './loadgen/types.js';

export const SCENARIO_NAMES = ['hello', 'close', 'cpu', 'io', 'upload', 'stream', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  /** A built-in name, or 'custom' for --path/--method/--body-file. */
  readonly name: ScenarioName | 'custom';
  readonly describe: string;
  /** Default app (absolute path) when the user gives none. */
  readonly app: string | null;
  readonly requests: readonly LoadRequest[];
  /** Which peer scripts do the same work (benchmarks/peers/<peer>-<peerWork>.mjs); null: none. */
  readonly peerWork: string | null;
  /** Every request asks the server to close the connection after its response. */
  readonly closesConnection: boolean;
}

/** `Connection: close` on a request: the server answers, then closes; the client reconnects. */
const CONNECTION_CLOSE: readonly [string, string] = ['connection', 'close'];

function asksToClose(request: LoadRequest): boolean {
  return request.headers.some(([name, value]) => name.toLowerCase() === 'connection' && value.toLowerCase() === 'close');
}

const UPLOAD_BYTES = 64 * 1024;
const OCTETS: ReadonlyArray<readonly [string, string]> = [['content-type', 'application/octet-stream']];

/** This package's folder (this module is dist/src/scenarios.js in it). */
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What runtimeRoot() holds, relative to it: the folders whose .mjs/.js files the built-in
 * scenarios and peers start or import (work.mjs imports examples/cpu/app.js), and the example
 * apps the scenarios prefer.
 */
export const RUNTIME_PATHS = ['benchmarks/scenarios', 'benchmarks/peers', 'examples/hello/app.js', 'examples/cpu/app.js'] as const;

/**
 * The repository this package is part of (packages/bench two levels down), or null when the
 * package is installed from the registry. The exact place is checked rather than any ancestor,
 * so a user's project that has a benchmarks/ folder of its own is never taken for it.
 */
export function repoRoot(): string | null {
  const root = join(PACKAGE_DIR, '..', '..');
  return existsSync(join(root, 'benchmarks', 'scenarios')) && existsSync(join(root, 'packages', 'bench', 'package.json')) ? root : null;
}

/** Where RUNTIME_PATHS are read from: the repository, else the copy shipped in runtime/. */
export function runtimeRoot(): string | null {
  const shipped = join(PACKAGE_DIR, 'runtime');
  return repoRoot() ?? (existsSync(join(shipped, 'benchmarks', 'scenarios')) ? shipped : null);
}

function firstExisting(root: string | null, candidates: readonly string[]): string | null {
  if (!root) return null;
  for (const candidate of candidates) {
    const full = join(root, candidate);
    if (existsSync(full)) return full;
  }
  return null;
}

function uploadBody(): Uint8Array {
  // Printable bytes, so a body logged while debugging a failed run stays readable.
  return new Uint8Array(UPLOAD_BYTES).fill(0x62);
}

const BUILT_IN: Record<ScenarioName, { describe: string; apps: string[]; requests: () => LoadRequest[]; peerWork?: ScenarioName }> = {
  hello: {
    describe: 'GET / -> 13-byte text body: the cost of the server itself',
    apps: ['examples/hello/app.js', 'benchmarks/scenarios/hello.mjs'],
    requests: () => [{ method: 'GET', path: '/', headers: [] }],
  },
  close: {
    describe: 'GET / with Connection: close -> hello on a new connection per request: the cost of accepting and closing',
    apps: ['examples/hello/app.js', 'benchmarks/scenarios/hello.mjs'],
    requests: () => [{ method: 'GET', path: '/', headers: [CONNECTION_CLOSE] }],
    peerWork: 'hello',
  },
  cpu: {
    describe: 'GET /cpu?n=100000 -> counts primes to 100000 (about 5 ms of CPU): scales with parallelism',
    apps: ['examples/cpu/app.js', 'benchmarks/scenarios/cpu.mjs'],
    requests: () => [{ method: 'GET', path: '/cpu?n=100000', headers: [] }],
  },
  io: {
    describe: 'GET / -> awaits a 10 ms timer (a database call): bound by requests in flight',
    apps: ['benchmarks/scenarios/io.mjs'],
    requests: () => [{ method: 'GET', path: '/', headers: [] }],
  },
  upload: {
    describe: 'POST / with a 64 KiB body, read in full by the app',
    apps: ['benchmarks/scenarios/upload.mjs'],
    requests: () => [{ method: 'POST', path: '/', headers: OCTETS, body: uploadBody() }],
  },
  stream: {
    describe: 'GET / -> 1 MiB chunked response in 16 chunks of 64 KiB',
    apps: ['benchmarks/scenarios/stream.mjs'],
    requests: () => [{ method: 'GET', path: '/', headers: [] }],
  },
  mixed: {
    describe: 'cycles /hello x4, /io x2, /cpu?n=20000, /upload (64 KiB POST) on one app',
    apps: ['benchmarks/scenarios/mixed.mjs'],
    requests: () => {
      const get = (path: string): LoadRequest => ({ method: 'GET', path, headers: [] });
      return [get('/hello'), get('/io'), get('/hello'), get('/cpu?n=20000'), get('/hello'), get('/io'), get('/hello'),
        { method: 'POST', path: '/upload', headers: OCTETS, body: uploadBody() }];
    },
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

export function builtInScenario(name: string, root = runtimeRoot()): Scenario {
  if (!isScenarioName(name)) throw new BenchError('ERR_BENCH_SCENARIO_UNKNOWN', `"${name}"`);
  const def = BUILT_IN[name];
  const requests = def.requests();
  return { name, describe: def.describe, app: firstExisting(root, def.apps), requests, peerWork: def.peerWork ?? name, closesConnection: requests.every(asksToClose) };
}

export function customScenario(path: string, method: string, bodyFile: string | undefined, cwd: string): Scenario {
  if (!path.startsWith('/')) throw new BenchError('ERR_BENCH_USAGE', `--path must start with "/", got "${path}"`);
  let body: Uint8Array | undefined;
  if (bodyFile) {
    const file = resolve(cwd, bodyFile);
    try {
      // BigInt stats: the file may be a FIFO (see "Synchronous stats" in docs/engines.md).
      if (!statSync(file, { bigint: true }).isFile()) throw new Error('not a file');
      body = readFileSync(file);
    } catch {
      throw new BenchError('ERR_BENCH_BODY_FILE', file);
    }
  }
  const upper = method.toUpperCase();
  return {
    name: 'custom',
    describe: `${upper} ${path}${body ? ` with a ${body.byteLength}-byte body` : ''}`,
    app: null,
    requests: [{ method: upper, path, headers: body ? OCTETS : [], body }],
    peerWork: null,
    closesConnection: false,
  };
}

/** benchmarks/peers/<peer>-<scenario>.mjs under runtimeRoot(), or null when that peer has no script for it. */
export function peerScript(peer: string, scenario: string, root = runtimeRoot()): string | null {
  return firstExisting(root, [`benchmarks/peers/${peer}-${scenario}.mjs`]);
}

/**
 * A path as the user can use it where they ran the bench: relative to cwd when inside it, else
 * absolute. Never relative to this repository, which a user's shell is not in.
 */
export function displayPath(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
