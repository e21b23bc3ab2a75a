/*
 * Helpers for the hostile-client tests: start any engine on 127.0.0.1:0 serving a small app
 * (written to a temp dir, since process and thread engines load the app from a file), and a
 * fleet of misbehaving sockets driven by one timer.
 *
 * Engines other than `single` live in their own packages, which depend on core (not the other
 * way round), so they are loaded from their compiled dist by path. A test for an engine whose
 * package is not built is skipped with that reason, never silently passed.
 */
import { after, before } from 'node:test';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import { SingleEngine } from '../../src/engine/single.js';
import type { Engine, EngineClass } from '../../src/engine/engine.js';

export type EngineName = 'single' | 'prefork' | 'threaded' | 'hybrid';

/** Engine-specific settings: small pools, so the hostile load is not spread thin. */
const ENGINE_SETTINGS: Record<EngineName, Partial<Settings>> = {
  single: {},
  prefork: { workers: 1 },
  threaded: { threads: 2 },
  hybrid: { workers: 1, threads: 2 },
};

const PACKAGES: Record<Exclude<EngineName, 'single'>, { dir: string; export: string }> = {
  prefork: { dir: 'engine-prefork', export: 'PreforkEngine' },
  threaded: { dir: 'engine-threaded', export: 'ThreadedEngine' },
  hybrid: { dir: 'engine-hybrid', export: 'HybridEngine' },
};

/** The engine class, or the reason it cannot be loaded (its package is not built). */
export async function loadEngine(name: EngineName): Promise<EngineClass | string> {
  if (name === 'single') return SingleEngine as unknown as EngineClass;
  const pkg = PACKAGES[name];
  // dist/test/ -> packages/
  const entry = new URL(`../../../../${pkg.dir}/dist/src/index.js`, import.meta.url);
  try {
    const module = await import(entry.href) as Record<string, unknown>;
    const engine = module[pkg.export];
    return typeof engine === 'function' ? engine as EngineClass : `${pkg.dir} does not export ${pkg.export}`;
  } catch (error) {
    return `@gatehouse/${pkg.dir} is not built (${(error as Error).message.split('\n')[0]}); run the build`;
  }
}

/**
 * The app the hostile tests serve:
 *   GET  /           -> "ok"
 *   POST /upload     -> reads the whole body, answers its length
 *   POST /count      -> reads the body as a stream, answers chunk count and bytes (never keeps it)
 *   POST /echo       -> streams each body chunk back as it arrives (chunked response)
 */
const APP_SOURCE = `
export default async function app(request) {
  if (request.path === '/upload') {
    const bytes = await request.body.bytes();
    return { status: 200, headers: [['content-type', 'text/plain']], body: String(bytes.byteLength) };
  }
  if (request.path === '/count') {
    let bytes = 0;
    for await (const chunk of request.body) bytes += chunk.byteLength;
    return { status: 200, headers: [['content-type', 'text/plain']], body: String(bytes) };
  }
  if (request.path === '/echo') {
    return { status: 200, headers: [['content-type', 'application/octet-stream']], body: (async function* () { for await (const chunk of request.body) yield chunk; })() };
  }
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'ok' };
}
`;

/** Writes the app module to a fresh temp dir; returns its path and a cleanup. */
export function writeApp(): { file: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-hostile-'));
  const file = path.join(dir, 'app.mjs');
  fs.writeFileSync(file, APP_SOURCE);
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningEngine {
  readonly engine: Engine;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startEngine(engineClass: EngineClass, name: EngineName, appFile: string, overrides: Partial<Settings>): Promise<RunningEngine> {
  const settings: Settings = { ...defaultSettings(), logLevel: 'fatal', ...ENGINE_SETTINGS[name], ...overrides, engine: name, bind: ['127.0.0.1:0'] };
  const engine = new engineClass({ settings, app: { kind: 'module', spec: appFile } });
  await engine.start();
  const port = engine.addresses[0]!.port!;
  let stopped: Promise<void> | null = null;
  return { engine, port, stop: () => stopped ??= engine.stop({ graceful: false, timeout: 1 }) };
}

/** One misbehaving socket: what it received and whether the server closed it. */
export class HostileSocket {
  readonly socket: net.Socket;
  received = '';
  closed = false;
  closedAt = 0;
  error: string | null = null;
  readonly #onClose: Array<() => void> = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => { this.received += text; });
    socket.on('error', (error) => { this.error = (error as NodeJS.ErrnoException).code ?? error.message; });
    socket.on('close', () => { this.closed = true; this.closedAt = Date.now(); for (const f of this.#onClose.splice(0)) f(); });
  }

  static connect(port: number): Promise<HostileSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => { socket.off('error', reject); resolve(new HostileSocket(socket)); });
    });
  }

  /** The status of the first response received, or 0. */
  get status(): number {
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(this.received);
    return match ? Number(match[1]) : 0;
  }

  /** Every status line received, in order. */
  get statuses(): number[] {
    return [...this.received.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
  }

  write(text: string): void {
    if (!this.closed && !this.socket.destroyed && this.socket.writable) this.socket.write(text, 'latin1');
  }

  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((resolve) => this.#onClose.push(resolve));
  }

  destroy(): void { this.socket.destroy(); }
}

/** Opens `count` sockets, at most `parallel` connects in flight (a burst of 500 SYNs overflows no backlog then). */
export async function openMany(port: number, count: number, parallel = 50): Promise<HostileSocket[]> {
  const out: HostileSocket[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, () => HostileSocket.connect(port)));
    out.push(...batch);
  }
  return out;
}

/** Calls `tick` every `periodMs` until stop() (one timer for a whole fleet). */
export function every(periodMs: number, tick: () => void): { stop(): void } {
  const timer = setInterval(tick, periodMs);
  return { stop: () => clearInterval(timer) };
}

/** Resolves when every socket is closed, or rejects after `timeoutMs` naming how many are still open. */
export async function allClosed(sockets: readonly HostileSocket[], timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${sockets.filter((s) => !s.closed).length} of ${sockets.length} ${what} still open after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all(sockets.map((s) => s.whenClosed())), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers a describe block's hooks: before, the engine serving the hostile app; after, the
 * block's fleet destroyed and the engine stopped. `server()` is null until `before` ran.
 */
export function hostileServer(name: EngineName, settings: Partial<Settings>): { server: () => RunningEngine | null; fleet: HostileSocket[] } {
  let server: RunningEngine | null = null;
  let removeApp = (): void => {};
  const fleet: HostileSocket[] = [];
  before(async () => {
    const engineClass = await loadEngine(name);
    // Every engine is built before the tests run: one that does not load is a failure.
    if (typeof engineClass === 'string') throw new Error(engineClass);
    const app = writeApp();
    removeApp = app.remove;
    server = await startEngine(engineClass, name, app.file, settings);
  });
  after(async () => {
    for (const socket of fleet) socket.destroy();
    await server?.stop();
    removeApp();
  });
  return { server: () => server, fleet };
}
