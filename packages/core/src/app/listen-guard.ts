/*
 * An app written to start its own server (`app.listen(3000)`, as under PM2 or node:cluster)
 * must not bind under Gatehouse: Gatehouse owns the listening sockets, and every prefork worker
 * and app thread imports the module. While an app loads, net.Server.prototype.listen is
 * wrapped. A call made by the app's code (the module's evaluation and whatever it started,
 * tracked with AsyncLocalStorage, so the engine's own listeners in the same thread are left
 * alone) binds nothing and emits nothing, and the load fails with ERR_APP_LISTENS naming the
 * call site and what to export instead. http, https, http2 and tls servers are all net.Servers.
 *
 * The wrapper and the storage exist only while a load is in flight: AsyncLocalStorage costs a
 * promise hook on every promise in Node 20, which a serving process should not pay.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatehouseError } from '../errors/index.js';
import type { ModuleNamespace } from './import.js';

type Listen = typeof net.Server.prototype.listen;

interface Watch {
  readonly file: string;
  refuse(error: GatehouseError): void;
}

const storage = new AsyncLocalStorage<Watch>();
let loadsInFlight = 0;
let passThrough: Listen | null = null;
let guarded: Listen | null = null;

/**
 * A module that exports nothing may still be about to listen: an un-awaited `bootstrap()` (the
 * NestJS and Fastify templates) calls listen() a few ticks after the import returns. Only then
 * does the load wait this long for it, to give the hint instead of "exports nothing".
 */
const LATE_LISTEN_MS = 1000;

/** Runs `load` (import the app, pick and adapt its export); a listen() made by the app's code fails it. */
export async function refusingListen<T>(file: string, load: () => Promise<T>): Promise<T> {
  let refuse!: (error: GatehouseError) => void;
  const refused = new Promise<never>((_resolve, reject) => { refuse = reject; });
  install();
  try {
    return await Promise.race([storage.run({ file, refuse }, load), refused]);
  } finally {
    uninstall();
  }
}

/** After the import: waits for a late listen() if, and only if, the module exports nothing. */
export async function awaitLateListen(ns: ModuleNamespace): Promise<void> {
  if (!storage.getStore() || !exportsNothing(ns)) return;
  await new Promise((resolve) => setTimeout(resolve, LATE_LISTEN_MS));
}

function exportsNothing(ns: ModuleNamespace): boolean {
  return Object.entries(ns).every(([name, value]) => name === 'module.exports' || value === undefined
    || (typeof value === 'object' && value !== null && Object.keys(value).every((key) => key === '__esModule')));
}

function install(): void {
  if (loadsInFlight++ > 0) return;
  const original = net.Server.prototype.listen;
  passThrough = original;
  net.Server.prototype.listen = guarded = function listen(this: net.Server, ...args: unknown[]): net.Server {
    const watch = storage.getStore();
    if (!watch) return (original as (...a: unknown[]) => net.Server).apply(this, args);
    // Deep enough to get past the framework's frames to the app's own call.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    watch.refuse(new GatehouseError('ERR_APP_LISTENS', describeListen(watch.file, this, stack)));
    return this;
  } as Listen;
}

function uninstall(): void {
  if (--loadsInFlight > 0) return;
  // Unless someone wrapped listen() after us: theirs stays, and calls through to ours.
  if (net.Server.prototype.listen === guarded) net.Server.prototype.listen = passThrough!;
  storage.disable();
}

interface Frame { readonly file: string; readonly line: string }

const OUR_DIR = path.dirname(fileURLToPath(import.meta.url)) + path.sep;
/** `at fn (LOCATION:line:col)` or `at [async ]LOCATION:line:col`, LOCATION a path or a file URL. */
const FRAME = /(?:\(|^\s+at (?:async )?)((?:file:\/\/)?(?:\/|[A-Za-z]:\\)[^()]*?):(\d+):\d+\)?$/;

function framesOf(stack: string): Frame[] {
  const frames: Frame[] = [];
  for (const text of stack.split('\n')) {
    const match = FRAME.exec(text);
    if (!match) continue;
    const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
    frames.push({ file, line: match[2]! });
  }
  return frames;
}

/** What the user must export instead, by the framework whose listen() was called. */
const FRAMEWORKS: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/[\\/]node_modules[\\/]@nestjs[\\/]/, "a NestJS app's listen()", 'the Express app Nest runs on: NestFactory.create(AppModule, new ExpressAdapter(expressApp)), await app.init(), export default expressApp'],
  [/[\\/]node_modules[\\/]fastify[\\/]/, 'fastify.listen()', 'the Fastify instance (export default fastify): Gatehouse runs its ready() and serves its routes'],
  [/[\\/]node_modules[\\/]express[\\/]/, "an Express app's app.listen()", 'the Express app (export default app, or module.exports = app in CommonJS)'],
  [/[\\/]node_modules[\\/]koa[\\/]/, "a Koa app's app.listen()", 'app.callback() of the Koa app (export default app.callback())'],
];

function describeListen(file: string, server: net.Server, stack: string): string {
  const frames = framesOf(stack);
  // The call site: the first frame in the app's own code (not ours, not a dependency's).
  const site = frames.find((frame) => !frame.file.startsWith(OUR_DIR) && !/[\\/]node_modules[\\/]/.test(frame.file));
  const where = site ? `${site.file}:${site.line}` : `${path.basename(file)} (or a module it loads)`;
  for (const [pattern, what, instead] of FRAMEWORKS) {
    if (frames.some((frame) => pattern.test(frame.file))) return `${where} calls ${what}; export ${instead}`;
  }
  const listener = server.listeners('request')[0] as ((...args: unknown[]) => unknown) | undefined;
  const name = listener?.name || 'handler';
  const instead = listener
    ? `the request listener given to createServer${listener.name ? ` (function ${listener.name})` : ''}: export default ${name}, or module.exports = ${name} in CommonJS`
    : 'the app (its request handler) rather than a server';
  return `${where} calls server.listen(); export ${instead}`;
}
