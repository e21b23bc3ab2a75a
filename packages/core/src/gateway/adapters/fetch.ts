/*
 * The fetch-handler adapter: runs the Web-standard form (`export default { fetch(request) }`,
 * what Hono, itty-router and others export) as a Gateway Application, unchanged.
 *
 * The handler is called as `fetch(request, env, ctx)`, the shape Hono and Workers-style apps
 * expect:
 *   request  a Request built lazily (fetch-request.ts);
 *   env      Hono's node-server bindings: `env.incoming` is a node:http IncomingMessage (built
 *            on first access) whose `socket` has remoteAddress/remotePort/remoteFamily, so
 *            `getConnInfo` from '@hono/node-server/conninfo' and `c.env.incoming.socket
 *            .remoteAddress` work; `env.outgoing` (writing the response through node) does not
 *            exist here and says so;
 *   ctx      `waitUntil(promise)` (the promise runs on; a rejection is reported on the
 *            gatehouse:request:error channel; a graceful stop does not wait for it) and
 *            `passThroughOnException()` (a no-op: there is no origin to pass through to).
 */
import { channels } from '../../diagnostics.js';
import { GatehouseError } from '../../errors/index.js';
import type { Application, GatewayRequest, GatewayResponse } from '../types.js';
import { GatewayFetchRequest } from './fetch-request.js';
import { toGatewayResponse } from './fetch-response.js';
import { GatewaySocket, unsupported } from './node-socket.js';
import { GatewayIncomingMessage } from './node-request.js';

export interface FetchHandler {
  fetch(request: Request, ...rest: unknown[]): Response | Promise<Response>;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  readonly props: Record<string, unknown>;
}

export function isFetchHandler(value: unknown): value is FetchHandler {
  return (typeof value === 'object' || typeof value === 'function') && value !== null &&
    typeof (value as { fetch?: unknown }).fetch === 'function';
}

export function adaptFetchHandler(handler: FetchHandler | ((request: Request, ...rest: unknown[]) => Response | Promise<Response>)): Application {
  const target: FetchHandler = typeof handler === 'function' && !isFetchHandler(handler) ? { fetch: handler } : handler as FetchHandler;
  if (!isFetchHandler(target)) {
    throw new GatehouseError('ERR_APP_NOT_AN_APP', `adaptFetchHandler needs an object with a fetch(request) method or a function, got ${handler === null ? 'null' : typeof handler}`);
  }
  const context = executionContext();
  return async function fetchHandlerApp(request: GatewayRequest): Promise<GatewayResponse> {
    const response = await target.fetch(new GatewayFetchRequest(request) as unknown as Request, new FetchEnv(request), context);
    return toGatewayResponse(response, request.method);
  };
}

/** Hono's HttpBindings ({ incoming, outgoing }), the part that can be honoured. */
export class FetchEnv {
  readonly #request: GatewayRequest;
  #incoming: GatewayIncomingMessage | null = null;

  constructor(request: GatewayRequest) {
    this.#request = request;
  }

  get incoming(): GatewayIncomingMessage {
    this.#incoming ??= new GatewayIncomingMessage(new GatewaySocket(this.#request), this.#request);
    return this.#incoming;
  }

  get outgoing(): never {
    throw unsupported('env.outgoing (the node:http response)', 'a fetch handler answers by returning a Response; stream with a ReadableStream body');
  }
}

/** One per adapted app: waitUntil needs no per-request state. */
function executionContext(): ExecutionContext {
  return Object.freeze({
    waitUntil(promise: Promise<unknown>): void {
      Promise.resolve(promise).catch((error: unknown) => {
        if (channels.requestError.hasSubscribers) channels.requestError.publish({ error, phase: 'app' });
      });
    },
    passThroughOnException(): void {},
    props: Object.freeze({}),
  });
}
