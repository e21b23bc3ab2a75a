/*
 * The HttpService engines use: give it accepted sockets, it runs HTTP/1.1 on each with a
 * Connection (connection.ts) and calls the Dispatcher. It owns what connections share: the
 * serializer, counters, the drain state, and one sweep timer that checks every connection's
 * deadlines (headers, keep-alive, body, request, linger) a few times per shortest timeout.
 * One interval per service instead of timers per request keeps timeouts off the hot path:
 * a request only stores a number.
 */
import type { Socket } from 'node:net';
import { channels } from '../diagnostics.js';
import type { Dispatcher } from '../gateway/types.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { ProtocolOptions } from './options.js';
import { RequestParser } from './parser.js';
import type { ParserHandlers, RequestParserLike } from './parse-events.js';
import { ResponseSerializer } from './serializer.js';
import type { HttpService, HttpServiceStats } from './service.js';

/** Sweep period: a tenth of the shortest timeout, within [MIN_SWEEP_MS, MAX_SWEEP_MS]. */
const MIN_SWEEP_MS = 10;
const MAX_SWEEP_MS = 500;

export function createHttpService(dispatcher: Dispatcher, options: ProtocolOptions): HttpService {
  return new ConnectionService(dispatcher, options);
}

class ConnectionService implements HttpService, ConnectionHost {
  readonly dispatcher: Dispatcher;
  readonly options: ProtocolOptions;
  readonly serializer: ResponseSerializer;
  draining = false;
  readonly #connections = new Set<Connection>();
  #requests = 0;
  #inFlight = 0;
  #sweeper: NodeJS.Timeout | null = null;
  readonly #sweepMs: number;
  #drained: (() => void) | null = null;
  #draining: Promise<void> | null = null;

  constructor(dispatcher: Dispatcher, options: ProtocolOptions) {
    this.dispatcher = dispatcher;
    this.options = options;
    this.serializer = new ResponseSerializer(options.serverHeader);
    const timeouts = [options.headersTimeoutMs, options.keepAliveTimeoutMs, options.bodyTimeoutMs, options.requestTimeoutMs].filter((t) => t > 0);
    const shortest = timeouts.length > 0 ? Math.min(...timeouts) : MAX_SWEEP_MS * 10;
    this.#sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(shortest / 10)));
  }

  handle(socket: Socket): void {
    const connection = new Connection(this, socket);
    this.#connections.add(connection);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(this.#sweep, this.#sweepMs);
      this.#sweeper.unref();
    }
    if (channels.connectionOpen.hasSubscribers) {
      channels.connectionOpen.publish({ remote: `${connection.remote.address}:${connection.remote.port}`, open: this.#connections.size });
    }
    if (this.draining) connection.drain();
  }

  createParser(handlers: ParserHandlers): RequestParserLike {
    return new RequestParser(this.options.limits, handlers);
  }

  requestStarted(): void { this.#requests++; this.#inFlight++; }
  requestEnded(): void { this.#inFlight--; }

  connectionClosed(connection: Connection): void {
    if (!this.#connections.delete(connection)) return;
    if (channels.connectionClose.hasSubscribers) {
      channels.connectionClose.publish({ remote: `${connection.remote.address}:${connection.remote.port}`, open: this.#connections.size });
    }
    if (this.#connections.size === 0) {
      if (this.#sweeper !== null) { clearInterval(this.#sweeper); this.#sweeper = null; }
      this.#drained?.();
    }
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const connection of this.#connections) connection.checkDeadlines(now);
  };

  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    for (const connection of this.#connections) connection.drain();
    if (this.#connections.size === 0) return Promise.resolve();
    if (this.#draining !== null) return this.#draining;
    return this.#draining = new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.destroyAll();
        finish();
      }, Math.max(0, timeoutMs));
      const finish = (): void => {
        clearTimeout(timer);
        this.#drained = null;
        this.#draining = null;
        resolve();
      };
      this.#drained = finish;
    });
  }

  destroyAll(): void {
    for (const connection of this.#connections) connection.socket.destroy();
  }

  stats(): HttpServiceStats {
    return { connections: this.#connections.size, inFlight: this.#inFlight, requests: this.#requests };
  }
}
