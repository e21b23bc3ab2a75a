/*
 * One HTTP/2 connection: Node's http2 (nghttp2) runs the session on a socket the HTTP/1.1
 * side handed over after reading the client preface (h2c with prior knowledge, or h2 after
 * ALPN on TLS); every stream becomes a StreamExchange (stream.ts) and reaches the Dispatcher
 * like any request. The session is counted as one connection by its service.
 *
 * - Limits and flood guards are the session options (options.ts); where Node has no counter
 *   this session counts (rate.ts): streams the client resets and SETTINGS/PING frames per
 *   second. Past either limit the client gets GOAWAY ENHANCE_YOUR_CALM and the session is
 *   destroyed with its streams (their requests see request.signal abort).
 * - Idle: a session with no open stream for --keep-alive is closed with GOAWAY (0 disables).
 * - Drain (a graceful stop, or the old generation of a reload): first a GOAWAY whose last
 *   stream id is 2^31-1 (RFC 9113 §6.8's shutdown notice: clients stop opening streams here),
 *   then, one PING round trip later, the final GOAWAY with the last stream id processed;
 *   streams in flight finish, and the session closes when the last one does. A stream the
 *   client opened before it saw the notice is therefore still served, not refused.
 * - destroy(): every stream is reset and the socket closed (the drain's timeout).
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Dispatcher, SocketAddress } from '../gateway/types.js';
import type { HealthCheck } from '../http/health.js';
import type { ProtocolOptions } from '../http/options.js';
import { sessionOptions, type Http2Options } from './options.js';
import { RateCounter } from './rate.js';
import { StreamExchange, type StreamOwner } from './stream.js';

/** What sessions share: the service they belong to. */
export interface SessionHost {
  readonly dispatcher: Dispatcher;
  readonly options: ProtocolOptions;
  readonly http2: Http2Options;
  readonly healthCheck: HealthCheck | null;
  readonly draining: boolean;
  requestStarted(): void;
  requestEnded(): void;
  sessionClosed(session: Http2Connection): void;
}

const { NGHTTP2_ENHANCE_YOUR_CALM: ENHANCE_YOUR_CALM } = http2.constants;
/** How long a session over a rate limit stays open after its GOAWAY (see #calmDown). */
const CALM_DOWN_LINGER_MS = 1000;

/** Last stream id of RFC 9113's shutdown notice: every stream id the client may have used. */
const ALL_STREAMS = 2 ** 31 - 1;

export class Http2Connection implements StreamOwner {
  readonly socket: Socket;
  readonly remote: SocketAddress;
  readonly local: SocketAddress;
  readonly scheme: 'http' | 'https';
  readonly proxyTrusted: boolean | null;
  readonly #host: SessionHost;
  readonly #session: ServerHttp2Session;
  readonly #streams = new Set<StreamExchange>();
  readonly #resets: RateCounter;
  readonly #controlFrames: RateCounter;
  /** When the last stream closed (ms since epoch); 0 while streams are open. */
  #idleSince: number;
  #goingAway = false;
  #calming = false;
  /** Highest stream id the client opened (the last stream id of an ENHANCE_YOUR_CALM GOAWAY). */
  #lastStreamId = 0;
  #closed = false;

  /** `input`: bytes already read from `socket` (the preface and whatever followed), fed to the session first. */
  constructor(host: SessionHost, socket: Socket, input: Buffer, remote: SocketAddress, local: SocketAddress) {
    this.#host = host;
    this.socket = socket;
    this.remote = remote;
    this.local = local;
    this.scheme = host.options.scheme;
    const trust = host.options.proxyTrust ?? null;
    this.proxyTrusted = trust === null ? null : trust.trusts(remote.address);
    this.#idleSince = Date.now();
    this.#resets = new RateCounter(host.http2.maxResetsPerSecond);
    this.#controlFrames = new RateCounter(host.http2.maxControlFramesPerSecond);
    socket.allowHalfOpen = false;
    // A server-side TLSSocket made outside a tls.Server (net/tls.ts) still says secureConnecting
    // after its handshake; http2 would wait for a 'secureConnect' that never comes.
    if ((socket as unknown as { secureConnecting?: boolean }).secureConnecting === true) (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
    if (input.length > 0) socket.unshift(input);
    const session = this.#session = http2.performServerHandshake(socket, sessionOptions(host.http2));
    session.on('stream', this.#onStream);
    session.on('error', () => { /* the session is destroyed; 'close' follows */ });
    session.on('close', this.#onClose);
    session.on('ping', this.#onControlFrame);
    session.on('remoteSettings', this.#onControlFrame);
    if (host.draining) this.drain();
  }

  get dispatcher(): Dispatcher { return this.#host.dispatcher; }
  get options(): ProtocolOptions { return this.#host.options; }
  get healthCheck(): HealthCheck | null { return this.#host.healthCheck; }
  get draining(): boolean { return this.#host.draining; }
  /** Streams open on this session. */
  get streams(): number { return this.#streams.size; }
  get sendTimeoutMs(): number { return this.#host.http2.sendTimeoutMs; }

  readonly #onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    if ((stream.id ?? 0) > this.#lastStreamId) this.#lastStreamId = stream.id!;
    const exchange = new StreamExchange(this, stream);
    this.#streams.add(exchange);
    this.#idleSince = 0;
    exchange.start(headers, rawHeaders);
  };

  requestStarted(): void { this.#host.requestStarted(); }
  requestEnded(): void { this.#host.requestEnded(); }

  streamResetByClient(): void {
    if (this.#resets.hit(Date.now())) this.#calmDown('stream reset rate');
  }

  readonly #onControlFrame = (): void => {
    if (this.#controlFrames.hit(Date.now())) this.#calmDown('SETTINGS/PING rate');
  };

  /**
   * The client broke a rate limit: its streams are reset and GOAWAY ENHANCE_YOUR_CALM goes out
   * at once (nghttp2 ignores streams opened after it), and the session is destroyed
   * CALM_DOWN_LINGER_MS later. Closing at once would make the kernel answer the client's
   * unread flood with a TCP reset, which can overtake the GOAWAY: the client would see a reset
   * connection, not the reason.
   */
  #calmDown(what: string): void {
    const session = this.#session;
    if (this.#calming || this.#closed || session.destroyed) return;
    this.#calming = true;
    this.#goingAway = true;
    for (const exchange of this.#streams) exchange.cancel();
    session.goaway(ENHANCE_YOUR_CALM, this.#lastStreamId);
    // destroy() sends its code in the final GOAWAY only alongside an error.
    setTimeout(() => { if (!session.destroyed) session.destroy(new Error(`HTTP/2 client over the ${what} limit`), ENHANCE_YOUR_CALM); }, CALM_DOWN_LINGER_MS).unref();
  }

  streamClosed(exchange: StreamExchange): void {
    this.#streams.delete(exchange);
    if (this.#streams.size === 0) this.#idleSince = Date.now();
  }

  /** Called by the service's sweep with the current time. */
  checkDeadlines(now: number): void {
    for (const exchange of this.#streams) exchange.checkDeadlines(now);
    const idle = this.#host.options.keepAliveTimeoutMs;
    if (this.#idleSince !== 0 && idle > 0 && now - this.#idleSince >= idle && !this.#goingAway) this.#close();
  }

  /** Graceful: no new streams, in-flight ones finish (see the file comment). */
  drain(): void {
    if (this.#goingAway || this.#closed) return;
    this.#goingAway = true;
    const session = this.#session;
    if (session.destroyed || session.closed) return;
    if (this.#streams.size === 0) { session.close(); return; }
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, ALL_STREAMS);
    const sent = session.ping((error) => {
      if (error !== null) return; // the session is gone already
      if (!session.destroyed && !session.closed) session.close();
    });
    if (!sent) session.close();
  }

  #close(): void {
    this.#goingAway = true;
    if (!this.#session.destroyed && !this.#session.closed) this.#session.close();
  }

  /** Resets every stream and closes the socket now. */
  destroy(): void {
    for (const exchange of this.#streams) exchange.cancel();
    this.#session.destroy();
    this.socket.destroy();
  }

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.sessionClosed(this);
  };
}
