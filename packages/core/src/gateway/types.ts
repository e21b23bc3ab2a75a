/*
 * The Gateway Interface, version 1.1: the contract between a Gatehouse server and an application.
 * docs/gateway-interface.md is the normative text; these types are its machine-checked half.
 *
 * Every value that crosses this interface is plain data (strings, numbers, byte arrays, async
 * iterables of bytes), so the same application runs on the server's event loop (prefork) or in
 * a worker thread (threaded) with the request re-created on the far side of a MessagePort.
 */
import type { HeaderList } from './headers.js';
import type { RequestBody } from './body.js';

export const GATEWAY_INTERFACE_VERSION = '1.1';

/** The HTTP version a request arrived with: HTTP/2 streams say '2.0'. */
export type HttpVersion = '1.0' | '1.1' | '2.0';

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
  readonly httpVersion: HttpVersion;
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
  readonly httpVersion: HttpVersion;
  readonly headers: HeaderList;
  readonly scheme: 'http' | 'https';
  readonly remote: SocketAddress;
  readonly server: SocketAddress;
  readonly body: RequestBody;
  /** Aborts when the client goes away or the request passes its deadline. */
  readonly signal: AbortSignal;
  /**
   * 1.1. The client asked to switch protocols (an HTTP/1.1 `Upgrade` with `Connection: upgrade`,
   * or a CONNECT request): how to accept. null (or absent, on a 1.0 server) when it did not, or
   * where the protocol cannot switch (HTTP/1.0, HTTP/2 streams). An app that ignores it answers
   * with an ordinary response, which refuses the upgrade.
   */
  readonly upgrade?: UpgradeOffer | null;
  /**
   * 1.1. Sends an interim response (1xx other than 101; in practice 103 Early Hints) before the
   * final one. Dropped where the protocol cannot carry it (HTTP/1.0) or once the final response
   * has started. Absent on a 1.0 server.
   */
  sendInterim?(status: number, headers: ResponseHeaders): void;
}

/** 1.1. A message a WebSocket carries: text arrives as a string, binary as bytes. */
export type WebSocketData = string | Uint8Array;

/** 1.1. Options for UpgradeOffer.acceptWebSocket. */
export interface WebSocketAcceptOptions {
  /** The subprotocol to select, one of those the client offered (`sec-websocket-protocol`). */
  readonly protocol?: string;
  /** Extra headers for the 101 response (cookies, say). */
  readonly headers?: ResponseHeaders;
}

/** 1.1. Options for UpgradeOffer.acceptStream. */
export interface StreamAcceptOptions {
  /** 101 for an Upgrade (the default), a 2xx for CONNECT (default 200). */
  readonly status?: number;
  readonly headers?: ResponseHeaders;
}

/**
 * 1.1. A message-level WebSocket (framing, masking, fragmentation, the close handshake and
 * permessage-deflate are the server's, from the `ws` package). Messages arrive as 'message'
 * events, or by async iteration (which reads from the client only as fast as the app pulls).
 */
export interface GatewayWebSocket extends AsyncIterable<WebSocketData> {
  /** The subprotocol accepted ('' for none). */
  readonly protocol: string;
  /** 0 connecting (the handshake is not finished), 1 open, 2 closing, 3 closed. */
  readonly readyState: 0 | 1 | 2 | 3;
  /** Bytes queued for the client and not yet taken by the socket: the backpressure signal. */
  readonly bufferedAmount: number;
  /** A string goes as a text message, bytes as a binary one. Queued until the socket is open. */
  send(data: WebSocketData): void;
  ping(data?: Uint8Array): void;
  /** Starts the close handshake (code 1000 unless given). */
  close(code?: number, reason?: string): void;
  /** Resolves once bufferedAmount is back under the server's mark, or the socket closed. */
  drained(): Promise<void>;
  /** Resolves when the socket has closed, with the code and reason the close carried. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  on(event: 'open', listener: () => void): this;
  on(event: 'message', listener: (data: WebSocketData) => void): this;
  on(event: 'close', listener: (code: number, reason: string) => void): this;
  on(event: 'ping' | 'pong', listener: (data: Uint8Array) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  off(event: string, listener: (...args: any[]) => void): this;
}

/**
 * 1.1. A generic upgraded connection (another Upgrade token, or a CONNECT tunnel) as a byte
 * stream both ways: read by async iteration, write with write() (which resolves when the
 * bytes are taken, the backpressure signal), end() to half-close.
 */
export interface UpgradedStream extends AsyncIterable<Uint8Array> {
  write(chunk: Uint8Array | string): Promise<void>;
  end(): Promise<void>;
  /** Closes both directions at once. */
  destroy(): void;
  readonly closed: Promise<void>;
}

/** 1.1. What GatewayRequest.upgrade offers; each accept returns the response the app must return. */
export interface UpgradeOffer {
  /**
   * The protocol asked for, lower-cased: 'websocket', another Upgrade token (the first the
   * client listed), or 'connect' for a CONNECT request.
   */
  readonly protocol: string;
  /**
   * Accepts a WebSocket (only when protocol is 'websocket'): return `response`, and the server
   * completes the handshake; `socket` opens then. A handshake that is not valid (bad key or
   * version) is answered 400 by the server and `socket` closes with 1002.
   */
  acceptWebSocket(options?: WebSocketAcceptOptions): { readonly socket: GatewayWebSocket; readonly response: GatewayResponse };
  /** Accepts any upgrade, or a CONNECT: return `response`; the connection then carries raw bytes as `stream`. */
  acceptStream(options?: StreamAcceptOptions): { readonly stream: UpgradedStream; readonly response: GatewayResponse };
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
  /**
   * 1.1. Fields sent after the body: on HTTP/2, and on an HTTP/1.1 chunked response when the
   * request carried `TE: trailers` (otherwise dropped). A function is called once the body has
   * ended (a gRPC status known only then).
   */
  readonly trailers?: ResponseHeaders | (() => ResponseHeaders | Promise<ResponseHeaders>);
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
