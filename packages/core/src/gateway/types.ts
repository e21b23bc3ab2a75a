/*
 * The Gateway Interface, version 1.0: the contract between a Gatehouse server and an application.
 * docs/gateway-interface.md is the normative text; these types are its machine-checked half.
 *
 * Every value that crosses this interface is plain data (strings, numbers, byte arrays, async
 * iterables of bytes), so the same application runs on the server's event loop (prefork) or in
 * a worker thread (threaded) with the request re-created on the far side of a MessagePort.
 */
import type { HeaderList } from './headers.js';
import type { RequestBody } from './body.js';

export const GATEWAY_INTERFACE_VERSION = '1.0';

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * Everything about a request except its body and its abort signal: the part that is
 * cheap to copy between threads and processes.
 */
export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as it arrived (origin-, absolute-, authority- or asterisk-form). */
  readonly target: string;
  /** The percent-decoded path of the target; '' for authority-form, '*' for asterisk-form. */
  readonly path: string;
  /** The raw query, without '?'; '' when there is none. */
  readonly query: string;
  readonly httpVersion: '1.0' | '1.1';
  /** Flat [name, value, name, value, ...], names lower-cased, in arrival order. */
  readonly rawHeaders: readonly string[];
  readonly scheme: 'http' | 'https';
  readonly remote: SocketAddress;
  readonly server: SocketAddress;
  /** Content-Length when the body is length-delimited, null when chunked; 0 when there is no body. */
  readonly bodyLength: number | null;
}

export interface GatewayRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly headers: HeaderList;
  readonly scheme: 'http' | 'https';
  readonly remote: SocketAddress;
  readonly server: SocketAddress;
  readonly body: RequestBody;
  /** Aborts when the client goes away or the request passes its deadline. */
  readonly signal: AbortSignal;
}

export type ResponseBody = string | Uint8Array | AsyncIterable<Uint8Array> | null | undefined;

/** Response headers: pairs (repeatable names, order kept), a record, or a HeaderList. */
export type ResponseHeaders =
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[]>>
  | HeaderList;

export interface GatewayResponse {
  readonly status: number;
  readonly headers?: ResponseHeaders;
  readonly body?: ResponseBody;
}

export type Application = (request: GatewayRequest) => GatewayResponse | Promise<GatewayResponse>;

/** Per worker process or thread, like ASGI lifespan: startup before the first request, shutdown after the last. */
export type LifecycleHook = () => void | Promise<void>;

/** An application after loading and adapting: what every engine runs. */
export interface LoadedApp {
  readonly app: Application;
  readonly startup?: LifecycleHook;
  readonly shutdown?: LifecycleHook;
  /** Which form the module exported: native Gateway app, fetch handler, or node:http listener. */
  readonly interface: 'gateway' | 'fetch' | 'node';
}

/**
 * How to find the app. Engines that run the app in another process or thread need a
 * specifier (closures cannot cross), so that is the normal form; `inline` is for
 * embedding with an engine that runs the app on the caller's own event loop.
 */
export type AppSource =
  | { readonly kind: 'module'; readonly spec: string; readonly cwd?: string }
  | { readonly kind: 'inline'; readonly app: LoadedApp };

/** The seam between the protocol layer and an engine: where the app runs is the engine's business. */
export interface Dispatcher {
  dispatch(request: GatewayRequest): Promise<GatewayResponse>;
  /**
   * True when responses reach this loop in groups from elsewhere (a thread pool's messages):
   * connections then write each response as it comes. Otherwise (the app runs on this loop)
   * they hold it for the loop's write batch, so the responses of one loop turn leave together
   * (http/write-batch.ts); a group that arrives together already leaves together, and holding
   * it for the rest of the turn only delays it (measured: docs/benchmarks.md, section 'Write
   * batching').
   */
  readonly respondsInGroups?: boolean;
}
