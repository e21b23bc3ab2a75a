/*
 * The HttpService engines use: give it accepted sockets, it runs HTTP/1.1 on each with a
 * Connection (connection.ts) and calls the Dispatcher. It owns what connections share: the
 * serializer, counters, the drain state, and one sweep timer that checks every connection's
 * deadlines (headers, keep-alive, body, request, linger) a few times per shortest timeout.
 * One interval per service instead of timers per request keeps timeouts off the hot path:
 * a request only stores a number.
 *
 * Before HTTP starts on a socket (decided once per connection; with none of these set, handle()
 * goes straight to the Connection):
 *   1. --proxy-protocol: the PROXY header is read off the raw socket (net/proxy-protocol.ts);
 *      a bad or missing one closes the connection, and so does one from a peer not on
 *      --proxy-allow-ips (net/proxy-allow.ts). Sockets in this phase are `#admitting`,
 *      so drain and destroyAll reach them.
 *   2. TLS: the socket is wrapped in a server-side TLSSocket (net/tls.ts). Engines bind and
 *      share plain TCP listeners; TLS lives here, so it works wherever sockets are handed over.
 *   3. --limit-concurrency: past N open connections in this service (one per process, so per
 *      process), the new one gets a minimal 503 with Connection: close once its first bytes
 *      arrive, and is closed (overload.ts); it never reaches the app.
 * HTTP/2 (--http2): a connection whose first bytes are the HTTP/2 client preface (h2c with prior
 * knowledge, or h2 after ALPN on TLS) becomes an Http2Connection (http2/session.ts), counted
 * among the connections; its streams are requests like any other. The Connection notices the
 * preface only where its parser refuses the version, so HTTP/1.1 pays nothing for this.
 * After that, each request for --health-path or --liveness-path is answered by the service
 * (health.ts) instead of the Dispatcher; engines set `health` (which units are ready, a drain
 * announced), and the service's own drain makes readiness 503.
 */
import type { Socket } from 'node:net';
import { channels } from '../diagnostics.js';
import type { Dispatcher } from '../gateway/types.js';
import { goingAwayLead } from '../gateway/takeover.js';
import { Connection, type ConnectionHost, type PeerAddresses } from './connection.js';
import type { ProtocolOptions } from './options.js';
import { ResponseSerializer } from './serializer.js';
import { rejectOverLimit } from './overload.js';
import { readProxyHeader, type ProxyHeader } from '../net/proxy-protocol.js';
import { ProxyAllowList } from '../net/proxy-allow.js';
import { SETTINGS } from '../settings/table.js';
import { startTls } from '../net/tls.js';
import type { HttpService, HttpServiceStats } from './service.js';
import { HealthCheck, type HealthState } from './health.js';
import { Http2Connection, type SessionHost } from '../http2/session.js';
import { opensWithPreface, type Http2Options } from '../http2/options.js';

/** Sweep period: a tenth of the shortest timeout, within [MIN_SWEEP_MS, MAX_SWEEP_MS]. */
const MIN_SWEEP_MS = 10;
const MAX_SWEEP_MS = 500;

export function createHttpService(dispatcher: Dispatcher, options: ProtocolOptions): HttpService {
  return new ConnectionService(dispatcher, options);
}

class ConnectionService implements HttpService, ConnectionHost, SessionHost {
  readonly dispatcher: Dispatcher;
  readonly options: ProtocolOptions;
  readonly serializer: ResponseSerializer;
  draining = false;
  /** Null when no health path is set: connections then skip the check entirely. */
  readonly healthCheck: HealthCheck | null;
  readonly health: HealthState;
  readonly #connections = new Set<Connection>();
  readonly #sessions = new Set<Http2Connection>();
  /** Null when --http2 off (a preface then gets 505, as any unknown version). */
  readonly #http2: Http2Options | null;
  #requests = 0;
  #inFlight = 0;
  #upgraded = 0;
  #sweeper: NodeJS.Timeout | null = null;
  readonly #sweepMs: number;
  #drained: (() => void) | null = null;
  #draining: Promise<void> | null = null;
  /** No PROXY header, TLS or connection limit: sockets go straight to a Connection. */
  readonly #plain: boolean;
  /** Sockets whose PROXY header is still being read. */
  readonly #admitting = new Set<Socket>();
  /** Peers whose PROXY header is believed; options without a list get the setting's default (loopback). */
  readonly #proxyAllow: ProxyAllowList;
  /** Set by handOff(): where connections go as they move out. */
  #handOff: ((socket: Socket) => void) | null = null;

  constructor(dispatcher: Dispatcher, options: ProtocolOptions) {
    this.dispatcher = dispatcher;
    this.options = options;
    this.serializer = new ResponseSerializer(options.serverHeader);
    const timeouts = [options.headersTimeoutMs, options.keepAliveTimeoutMs, options.bodyTimeoutMs, options.requestTimeoutMs].filter((t) => t > 0);
    const shortest = timeouts.length > 0 ? Math.min(...timeouts) : MAX_SWEEP_MS * 10;
    this.#sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(shortest / 10)));
    this.#plain = (options.proxyProtocol ?? 'off') === 'off' && !options.tls && !(options.limitConcurrency! > 0);
    this.#proxyAllow = options.proxyAllow ?? new ProxyAllowList(SETTINGS.proxyAllowIps.default);
    const check = new HealthCheck(options.health ?? { readiness: '', liveness: '' });
    this.health = check.state;
    this.healthCheck = check.enabled ? check : null;
    this.#http2 = options.http2 ?? null;
  }

  get http2(): Http2Options { return this.#http2!; }

  handle(socket: Socket): void {
    if (this.#plain) this.#open(socket, null);
    else this.#admit(socket);
  }

  #admit(raw: Socket): void {
    const mode = this.options.proxyProtocol ?? 'off';
    if (mode === 'off') { this.#secure(raw, null); return; }
    if (this.draining) { raw.destroy(); return; }
    this.#admitting.add(raw);
    readProxyHeader(raw, mode, this.options.headersTimeoutMs, (result) => {
      if (!this.#admitting.delete(raw)) return; // destroyed by destroyAll meanwhile
      if (!result.ok) {
        if (channels.protocolError.hasSubscribers) {
          channels.protocolError.publish({ code: result.error.code, status: result.error.status, remote: `${raw.remoteAddress ?? ''}:${raw.remotePort ?? 0}`, detail: result.error.detail });
        }
        raw.destroy();
        this.#settleDrain();
        return;
      }
      if (result.header !== null && !this.#proxyAllow.allows(raw.remoteAddress ?? '')) {
        this.#proxyAllow.refused(`${raw.remoteAddress ?? ''}:${raw.remotePort ?? 0}`);
        raw.destroy();
        this.#settleDrain();
        return;
      }
      if (this.draining) { raw.destroy(); this.#settleDrain(); return; }
      this.#secure(raw, result.header);
    });
  }

  #secure(raw: Socket, header: ProxyHeader | null): void {
    const tls = this.options.tls;
    const socket = tls ? startTls(raw, tls, this.#http2?.tls === true) : raw;
    const limit = this.options.limitConcurrency ?? 0;
    if (limit > 0 && this.#connections.size + this.#sessions.size >= limit) {
      rejectOverLimit(socket, this.serializer, this.options.headersTimeoutMs, limit);
      this.#settleDrain();
      return;
    }
    this.#open(socket, header !== null ? { remote: header.source, local: header.destination } : null);
  }

  #open(socket: Socket, peer: PeerAddresses | null): void {
    const connection = new Connection(this, socket, peer);
    this.#connections.add(connection);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(this.#sweep, this.#sweepMs);
      this.#sweeper.unref();
    }
    if (channels.connectionOpen.hasSubscribers) {
      channels.connectionOpen.publish({ remote: `${connection.remote.address}:${connection.remote.port}`, open: this.#openCount() });
    }
    if (this.#handOff !== null) connection.handOff();
    else if (this.draining) connection.drain();
  }

  requestStarted(): void { this.#requests++; this.#inFlight++; }
  handedOff(socket: Socket): void { this.#handOff?.(socket); }
  requestEnded(): void { this.#inFlight--; }
  connectionUpgraded(): void { this.#upgraded++; }

  acceptsHttp2(socket: Socket, input: Buffer): boolean {
    const http2 = this.#http2;
    if (http2 === null) return false;
    const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
    return (encrypted ? http2.tls : http2.cleartext) && opensWithPreface(input);
  }

  switchToHttp2(connection: Connection, input: Buffer): void {
    const session = new Http2Connection(this, connection.socket, input, connection.remote, connection.local);
    this.#sessions.add(session);
    this.#connections.delete(connection);
  }

  sessionClosed(session: Http2Connection): void {
    if (!this.#sessions.delete(session)) return;
    if (channels.connectionClose.hasSubscribers) {
      channels.connectionClose.publish({ remote: `${session.remote.address}:${session.remote.port}`, open: this.#openCount() });
    }
    this.#lastClosed();
  }

  /** Connections open: HTTP/1.1 ones and HTTP/2 sessions. */
  #openCount(): number { return this.#connections.size + this.#sessions.size; }

  #lastClosed(): void {
    if (this.#openCount() !== 0) return;
    if (this.#sweeper !== null) { clearInterval(this.#sweeper); this.#sweeper = null; }
    this.#settleDrain();
  }

  connectionClosed(connection: Connection): void {
    if (!this.#connections.delete(connection)) return;
    if (connection.upgraded) this.#upgraded--;
    if (channels.connectionClose.hasSubscribers) {
      channels.connectionClose.publish({ remote: `${connection.remote.address}:${connection.remote.port}`, open: this.#openCount() });
    }
    this.#lastClosed();
  }

  /** A drain waits for every connection, and for every socket still admitting. */
  #settleDrain(): void {
    if (this.#openCount() === 0 && this.#admitting.size === 0) this.#drained?.();
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const connection of this.#connections) connection.checkDeadlines(now);
    for (const session of this.#sessions) session.checkDeadlines(now);
  };

  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    for (const connection of this.#connections) connection.drain();
    for (const session of this.#sessions) session.drain();
    // Nothing was asked on a socket still sending its PROXY header.
    for (const socket of this.#admitting) socket.destroy();
    this.#admitting.clear();
    if (this.#openCount() === 0) return Promise.resolve();
    if (this.#draining !== null) return this.#draining;
    return this.#draining = new Promise((resolve) => {
      const timeout = Math.max(0, timeoutMs);
      const timer = setTimeout(() => {
        this.destroyAll();
        finish();
      }, timeout);
      const goingAway = setTimeout(() => this.#goingAway(), timeout - goingAwayLead(timeout));
      const finish = (): void => {
        clearTimeout(timer);
        clearTimeout(goingAway);
        this.#drained = null;
        this.#draining = null;
        resolve();
      };
      this.#drained = finish;
    });
  }

  /** Ends every upgraded connection the protocol's way (the drain's timeout is near). */
  #goingAway(): void {
    if (this.#upgraded === 0) return;
    for (const connection of [...this.#connections]) connection.goingAway();
  }

  destroyAll(): void {
    for (const socket of this.#admitting) socket.destroy();
    this.#admitting.clear();
    for (const connection of this.#connections) connection.socket.destroy();
    for (const session of [...this.#sessions]) session.destroy();
  }

  get releasable(): boolean {
    // A TLS session or a PROXY header's addresses cannot move with the socket.
    return this.#plain;
  }

  get lingering(): boolean {
    // #upgraded counts the upgraded connections still open, all of them in #connections.
    return this.draining && this.#inFlight === 0 && this.#admitting.size === 0 && this.#openCount() > 0
      && this.#connections.size === this.#upgraded;
  }

  releaseIdle(count: number): Socket[] {
    const released: Socket[] = [];
    if (!this.#plain || this.draining) return released;
    for (const connection of this.#connections) {
      if (released.length >= count) break;
      const socket = connection.detach();
      if (socket !== null) released.push(socket);
    }
    return released;
  }

  handOff(release: (socket: Socket) => void): void {
    if (!this.#plain) return;
    this.#handOff = release;
    for (const connection of [...this.#connections]) connection.handOff();
  }

  stats(): HttpServiceStats {
    return { connections: this.#openCount(), inFlight: this.#inFlight, requests: this.#requests, upgraded: this.#upgraded };
  }
}
