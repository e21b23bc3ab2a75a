/*
 * The `socket` a node:http listener sees under Gatehouse. The real socket belongs to the
 * protocol layer (and, under the threaded engine, to another thread), so this stand-in carries
 * what apps read from a socket (addresses, `encrypted`, `readable`/`writable`, the 'close' and
 * 'timeout' events that on-finished, finalhandler and timeout middleware listen for) and what
 * node's own IncomingMessage/ServerResponse code calls on it (cork/uncork, _writableState,
 * _httpMessage). Reading or writing raw bytes (upgrade, hijacking the connection) cannot be
 * honoured, and says so with ERR_APP_ADAPTER_UNSUPPORTED instead of corrupting the stream.
 */
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { GatehouseError } from '../../errors/index.js';
import type { GatewayRequest } from '../types.js';

/** node:net's default for sockets on Node 20; it sizes the response buffer before 'drain'. */
export const SOCKET_HIGH_WATER_MARK = 16 * 1024;

/** Told when the app or a timeout destroys the socket, so the adapter can end the exchange. */
export interface SocketOwner {
  onSocketDestroyed(error: Error | undefined): void;
  /** Emits 'timeout' on the request and response; false when nobody listened (node then destroys the socket). */
  onSocketTimeout(): boolean;
}

export class GatewaySocket extends EventEmitter {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Set (true) only for https, as on a tls.TLSSocket: Express's req.protocol and req.secure read it. */
  readonly encrypted?: true;

  readable = true;
  writable = true;
  destroyed = false;
  readonly connecting = false;
  readonly pending = false;
  readonly readyState = 'open';
  readonly bytesRead = 0;
  readonly bytesWritten = 0;
  readonly writableLength = 0;
  readonly writableCorked = 0;
  readonly writableHighWaterMark = SOCKET_HIGH_WATER_MARK;
  readonly readableHighWaterMark = SOCKET_HIGH_WATER_MARK;
  /** node's OutgoingMessage.end() sets `_writableState.corked` on its socket. */
  readonly _writableState = { corked: 0 };
  /** The response in progress (node's ServerResponse.assignSocket sets the same field). */
  _httpMessage: unknown = null;
  timeout = 0;

  #owner: SocketOwner | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(request: GatewayRequest) {
    super();
    this.remoteAddress = request.remote.address;
    this.remotePort = request.remote.port;
    this.localAddress = request.server.address;
    this.localPort = request.server.port;
    if (request.scheme === 'https') this.encrypted = true;
  }

  // Computed on demand: most requests never ask, and the IPv6 test is a large regexp.
  get remoteFamily(): 'IPv4' | 'IPv6' {
    return isIPv6(this.remoteAddress) ? 'IPv6' : 'IPv4';
  }

  get localFamily(): 'IPv4' | 'IPv6' {
    return isIPv6(this.localAddress) ? 'IPv6' : 'IPv4';
  }

  attach(owner: SocketOwner): void {
    this.#owner = owner;
  }

  /** net.Socket.address(): the local end, as node reports it. */
  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.localFamily, port: this.localPort };
  }

  // Flow control and TCP options are the protocol layer's; these keep callers working.
  cork(): void {}
  uncork(): void {}
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
  pause(): this { return this; }
  resume(): this { return this; }

  /**
   * Like net.Socket.setTimeout, but the clock restarts on response writes only (the request
   * body is read by the protocol layer, which has its own body-read timeout).
   */
  setTimeout(msecs: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    this.timeout = msecs;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (msecs > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.#onTimeout(), msecs);
      this.#timer.unref();
    }
    return this;
  }

  /** Called on each response write: activity restarts the idle timer. */
  touch(): void {
    this.#timer?.refresh();
  }

  #onTimeout(): void {
    this.#timer = null;
    const socketListened = this.emit('timeout');
    const messageListened = this.#owner?.onSocketTimeout() ?? false;
    // node:http destroys a socket whose timeout nobody handled.
    if (!socketListened && !messageListened) this.destroy();
  }

  /** The app (or res.destroy(), or req.destroy()) closes the connection. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.#markClosed();
    this.#owner?.onSocketDestroyed(error);
    process.nextTick(() => {
      if (error && this.listenerCount('error') > 0) this.emit('error', error);
      this.emit('close', error !== undefined);
    });
    return this;
  }

  destroySoon(): void {
    this.destroy();
  }

  /** socket.end() with no data closes the connection; writing raw bytes is not possible. */
  end(data?: unknown): this {
    if (data !== undefined && data !== null && typeof data !== 'function') throw unsupported('socket.end(data)');
    return this.destroy();
  }

  /** The client went away (the request's signal aborted): the protocol layer already closed it. */
  gone(): void {
    if (this.destroyed) return;
    this.#markClosed();
    this.emit('close', false);
  }

  /** The exchange is over and the connection lives on (keep-alive): stop the timer, drop listeners' hold. */
  release(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this._httpMessage = null;
    this.#owner = null;
  }

  #markClosed(): void {
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  write(): never { throw unsupported('socket.write()'); }
  read(): never { throw unsupported('socket.read()'); }
  unshift(): never { throw unsupported('socket.unshift()'); }
  pipe(): never { throw unsupported('socket.pipe()'); }
  setEncoding(): never { throw unsupported('socket.setEncoding()'); }
}

/** ERR_APP_ADAPTER_UNSUPPORTED naming the API, for the node:http adapter. */
export function unsupported(api: string, why = 'the socket belongs to Gatehouse\'s protocol layer; there is no raw connection to read or write'): GatehouseError {
  return new GatehouseError('ERR_APP_ADAPTER_UNSUPPORTED', `${api} is not supported under Gatehouse (${why})`);
}
