/*
 * Which of the three accepted forms an exported value is, and the adapter that makes it a
 * Gateway Application. The rules are deliberately few (docs/gateway-interface.md, "What an
 * application is"): a function of at most one declared parameter is a Gateway app, of two or
 * more a node:http listener (Express apps are (req, res, next)), an object with a fetch method
 * a fetch handler, a Fastify instance a node:http listener whose readiness is the app's
 * startup (fastify.ts). `--interface` overrides the guess; a wrong value gets an error that
 * says what it was, never a 500 at the first request.
 */
import { GatehouseError } from '../errors/index.js';
import type { FetchHandler } from '../gateway/adapters/fetch.js';
import type { NodeListener } from '../gateway/adapters/node.js';
import type { Application, LifecycleHook, LoadedApp } from '../gateway/types.js';
import { isNodeServer } from '../gateway/adapters/node-server-shape.js';
import { adaptFastify, isFastifyInstance } from './fastify.js';

export type InterfaceChoice = 'auto' | 'gateway' | 'fetch' | 'node';
type Fn = (...args: unknown[]) => unknown;

export interface Candidate {
  readonly value: unknown;
  /** `this` for a function found as a property (`path:server.fetch`). */
  readonly owner?: object;
  /** Names the value in errors: `default export of /srv/app.js`. */
  readonly where: string;
  /** The specifier ended in `.fetch`: the user told us it is a fetch handler. */
  readonly declaredFetch?: boolean;
}

/**
 * The adapters are imported only for the form that needs them: the node:http one loads Node's
 * http stack, and a Gateway app's process or app thread should not carry it (a few MiB in
 * each isolate).
 */
export interface AdaptedApp {
  readonly app: Application;
  readonly interface: LoadedApp['interface'];
  /** The framework's own start and stop (a Fastify instance's ready() and close()). */
  readonly startup?: LifecycleHook;
  readonly shutdown?: LifecycleHook;
}

export async function adaptApp(candidate: Candidate, choice: InterfaceChoice = 'auto'): Promise<AdaptedApp> {
  const form = detectInterface(candidate, choice);
  const { value, owner } = candidate;
  if (form === null) throw notAnApp(candidate, choice);
  if (form === 'node' && isFastifyInstance(value)) return { ...await adaptFastify(value), interface: 'node' };
  if (form === 'fetch') {
    const { adaptFetchHandler } = await import('../gateway/adapters/fetch.js');
    const handler = typeof value === 'function' ? { fetch: (value as Fn).bind(owner) } : value;
    return { app: adaptFetchHandler(handler as FetchHandler), interface: 'fetch' };
  }
  if (form === 'node' && isNodeServer(value)) {
    const { adaptNodeServer } = await import('../gateway/adapters/node-server.js');
    return { app: adaptNodeServer(value), interface: 'node' };
  }
  const fn = owner ? (value as Fn).bind(owner) : (value as Fn);
  if (form === 'node') {
    const { adaptNodeListener } = await import('../gateway/adapters/node.js');
    return { app: adaptNodeListener(fn as NodeListener), interface: 'node' };
  }
  return { app: fn as Application, interface: 'gateway' };
}

/** True when adaptApp would accept the value (used to choose between `default` and `app`). */
export function isAppLike(candidate: Candidate, choice: InterfaceChoice = 'auto'): boolean {
  return detectInterface(candidate, choice) !== null;
}

export function detectInterface({ value, declaredFetch }: Candidate, choice: InterfaceChoice): LoadedApp['interface'] | null {
  const callable = typeof value === 'function' && !isClass(value);
  const fetchObject = typeof value === 'object' && value !== null && typeof (value as { fetch?: unknown }).fetch === 'function';
  switch (choice) {
    case 'gateway': return callable ? 'gateway' : null;
    case 'node': return callable || isFastifyInstance(value) || isNodeServer(value) ? 'node' : null;
    case 'fetch': return callable || fetchObject ? 'fetch' : null;
    default:
      if (fetchObject) return 'fetch';
      if (isFastifyInstance(value) || isNodeServer(value)) return 'node';
      if (!callable) return null;
      if (declaredFetch) return 'fetch';
      return (value as Fn).length >= 2 ? 'node' : 'gateway';
  }
}

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

function notAnApp(candidate: Candidate, choice: InterfaceChoice): GatehouseError {
  const { value, where } = candidate;
  let detail = `${where} is ${describeValue(value)}`;
  if (choice !== 'auto') detail += ` (--interface ${choice} wants ${choice === 'fetch' ? 'an object with a fetch(request) method or a function' : 'a function'})`;
  if (isClass(value)) detail += '; export an instance, or a factory and serve path:factory()';
  else if (value instanceof Promise) detail += '; await it at the top level of the module (export default await create()), or export the async factory and serve path:factory()';
  else if (typeof value === 'object' && value !== null) {
    const keys = value as Record<string, unknown>;
    if (typeof keys.callback === 'function' && typeof keys.listen === 'function') detail += '; for a Koa app export app.callback()';
    else if (typeof keys.listen === 'function' && typeof keys.on === 'function') detail += '; export an http.Server, an https.Server or its request listener';
  }
  return new GatehouseError('ERR_APP_NOT_AN_APP', detail);
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (isClass(value)) return `a class (${(value as Fn).name || 'anonymous'})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Promise) return 'a Promise';
  switch (typeof value) {
    case 'string': return `a string (${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)})`;
    case 'number': case 'bigint': case 'boolean': return `a ${typeof value} (${String(value)})`;
    case 'symbol': return 'a symbol';
    case 'function': return `a function of ${(value as Fn).length} parameters`;
    default: {
      const keys = Object.keys(value as object);
      const shown = keys.slice(0, 8).join(', ') + (keys.length > 8 ? ', ...' : '');
      const name = (value as object).constructor?.name;
      const kind = name && name !== 'Object' ? `an object (${name})` : 'an object';
      return keys.length === 0 ? `${kind} with no properties` : `${kind} with properties [${shown}] and no fetch method`;
    }
  }
}
