/*
 * One HTTP/1.1 connection: drives the push parser over a net.Socket, hands each request to
 * the Dispatcher, writes the responses in request order. Everything here runs on the event
 * loop that owns the socket; the app may run elsewhere (the Dispatcher's business).
 *
 * States:  IDLE --first byte--> HEAD --head parsed--> ACTIVE --response written--> IDLE
 *                                                         \--body left unread--> DISCARD --> IDLE
 *          any --error / close decided--> CLOSING (FIN sent, lingering) --> CLOSED
 *          ACTIVE --the app took the connection (an accepted upgrade)--> UPGRADED --close--> CLOSED
 *
 * - One request at a time: while a request is ACTIVE and its message is complete, further
 *   bytes (pipelined requests) are kept as they arrived and the socket is paused, so at most
 *   one socket read of pipelined input is buffered; they are parsed when the response is out,
 *   which keeps responses in request order without a response queue.
 * - The app's response is serialized into one string or Buffer and written with one
 *   socket.write, corked until the loop's write batch goes out (write-batch.ts: the responses
 *   of one loop turn, pipelined ones included, leave together; not when the dispatcher says
 *   its responses arrive in groups already); streams (async iterables) are written chunk by
 *   chunk, waiting for 'drain' when the socket buffers more than writeHighWaterMark.
 * - Timeouts are deadlines (ms since epoch) checked by the service's sweep: `deadline` for the
 *   current phase (IDLE: keep-alive; HEAD: headers; DISCARD: body; CLOSING: linger),
 *   `bodyDeadline` while the app waits for body bytes, `requestDeadline` for
 *   requestTimeoutMs. No timer is created per request.
 * - Closing is a lingering close: FIN first, keep reading (and dropping) until the client
 *   closes or the linger deadline passes. Closing with unread bytes in the kernel would send
 *   RST, and an RST can make the client drop the response it has not read yet.
 *
 * Decisions the contract leaves to us (docs/gateway-interface.md):
 * - `Expect: 100-continue`: 100 is sent on the app's first body pull. An app that answers
 *   without pulling gets its response sent with `Connection: close` and the connection closes
 *   (RFC 9110 §10.1.1 allows either; the client may or may not send the body then, so no
 *   next request could be framed reliably).
 * - A body the app left unread: dropped while its rest is at most DISCARD_LIMIT bytes (then
 *   keep-alive goes on); a longer Content-Length body closes the connection (the response says
 *   `Connection: close`); a chunked one closes once the bound is passed.
 * - An upgrade (Upgrade + Connection: upgrade, or CONNECT) is the app's to accept: a response
 *   that carries TAKEOVER (gateway/takeover.ts) takes the socket, the bytes read past the
 *   request head go with it, and HTTP ends here (UPGRADED: no parsing, no deadlines; the
 *   connection still counts in the service until the socket closes, and a drain ends it
 *   through TakenConnection.goingAway()). Any other response refuses the upgrade and is
 *   served as usual; after a CONNECT the connection closes (a 2xx to CONNECT would make the
 *   client treat it as a tunnel).
 * - A first request line `PRI * HTTP/2.0` (the HTTP/2 client preface) hands the socket to the
 *   host's HTTP/2 session when the host serves HTTP/2 there (see #switchToHttp2), else 505.
 * - A final status of 1xx from the app is an invalid response (500). Interim responses go
 *   through request.sendInterim (a 1xx other than 100 and 101, see sendInterim()).
 * - Trailers go only in a chunked body to an HTTP/1.1 client that sent `TE: trailers`; a whole
 *   body (string, bytes, none) that has them is then sent chunked rather than with a
 *   Content-Length. Otherwise, or when the app set Content-Length itself, they are dropped and
 *   a function form is never called. A response that neither has trailers nor sends an interim
 *   pays one property test for them.
 * - An app error before the head: 500 (or the status of a GatehouseError it let through, e.g.
 *   400 for invalid JSON, 503 from an overloaded engine), keep-alive unharmed. After the head
 *   (a stream that throws, a body that disagrees with its Content-Length): the connection is
 *   destroyed, because the client must not take a truncated body for a complete one.
 * - Request deadline passed: 504 with `Connection: close` when nothing was sent, else the
 *   connection is destroyed; request.signal aborts; whatever the app returns later is dropped.
 * - keepAliveTimeoutMs <= 0 disables keep-alive (as Gunicorn's keepalive = 0).
 * - The client's FIN while a request is in progress aborts request.signal (a half-close and a
 *   departure look the same on the wire); the response is still written if the app returns one.
 *
 * Addresses and proxies: `remote`/`local` are the socket's, or what a PROXY protocol header
 * said (given by the service). With --proxy-headers, whether the peer is a trusted proxy is
 * decided once here; per request, readForwarded() either applies its X-Forwarded-* /
 * Forwarded fields (trusted) or removes them (not trusted). With it off, nothing is looked at.
 */
import type { Socket } from 'node:net';
import { channels } from '../diagnostics.js';
import { requestUnit } from '../request-unit.js';
import { GatehouseError } from '../errors/index.js';
import { answerForAppFailure } from './app-failure.js';
import { AbortableRequest, splitTarget } from '../gateway/request.js';
import type { Dispatcher, GatewayResponse, ResponseHeaders, SocketAddress } from '../gateway/types.js';
import { interimFields } from '../gateway/interim.js';
import { acceptsTrailers, trailerFields } from '../gateway/trailers.js';
import { requestedUpgrade, takeoverOf, type TakenConnection, type Takeover } from '../gateway/takeover.js';
import type { ParsedHead } from './parse-events.js';
import { RequestParser } from './parser.js';
import type { ProtocolOptions } from './options.js';
import type { UpgradeOptions } from '../gateway/upgrade-options.js';
import { CONTINUE_RESPONSE, LAST_CHUNK, chunkHeader, interimHead, lastChunkWithTrailers, newFraming, type ResponseSerializer } from './serializer.js';
import { SocketBody, type BodyHost } from './socket-body.js';
import { readForwarded, type ProxyTrust } from '../net/proxy-headers.js';
import { stopReading } from '../net/stop-reading.js';
import { writeBatch, type HeldWriter } from './write-batch.js';
import type { HealthCheck } from './health.js';

/** Unread request body the server reads and drops to keep a connection alive. */
export const DISCARD_LIMIT = 64 * 1024;
/** Request body bytes buffered for the app before the socket is paused. */
export const BODY_HIGH_WATER_MARK = 64 * 1024;
/** A body and head up to this size are copied into one Buffer; larger ones go out as a writev. */
const COPY_LIMIT = 16 * 1024;
/** How long a closing connection keeps reading before it is destroyed. */
export const LINGER_MS = 2000;

/** How long, while draining, an idle keep-alive connection may still bring one more request. */
const DRAIN_IDLE_GRACE_MS = 1000;
const IDLE = 0;
const HEAD = 1;
const ACTIVE = 2;
const DISCARD = 3;
const CLOSING = 4;
const CLOSED = 5;
/** Past CLOSING on purpose: every `>= CLOSING` check (drop input, no more HTTP) holds for it. */
const UPGRADED = 6;
const STATE_NAMES = ['idle', 'head', 'active', 'discard', 'closing', 'closed', 'upgraded'] as const;
export type ConnectionState = typeof STATE_NAMES[number];

const PAUSE_PIPELINED = 1;
const PAUSE_BODY = 2;

/** Buffer's own encoders (what buf.write(string, offset, encoding) dispatches to). */
type RawBuffer = Buffer & { latin1Write(text: string, offset: number): number; utf8Write(text: string, offset: number): number };

const BODY_NONE = 0;
const BODY_STRING = 1;
const BODY_BYTES = 2;
const BODY_STREAM = 3;

// Proxy fields: --proxy-headers off (the fast path), or the peer's trust, decided per connection.
const FORWARDED_OFF = 0;
const FORWARDED_TRUSTED = 1;
const FORWARDED_UNTRUSTED = 2;

/** The connection's addresses as a PROXY protocol header gave them (null fields: the socket's). */
export interface PeerAddresses {
  readonly remote: SocketAddress | null;
  readonly local: SocketAddress | null;
}

/** What connections share: the service they belong to. */
export interface ConnectionHost {
  readonly dispatcher: Dispatcher;
  readonly options: ProtocolOptions;
  readonly serializer: ResponseSerializer;
  /** Graceful drain in progress: no connection is kept alive. */
  readonly draining: boolean;
  /** The health paths' answers, or null when none is set. */
  readonly healthCheck: HealthCheck | null;
  requestStarted(): void;
  requestEnded(): void;
  connectionClosed(connection: Connection): void;
  /** Takes a socket this connection gave up while the host hands its connections off (see handOff()). */
  handedOff(socket: Socket): void;
  /** The app took this connection (an accepted upgrade); connectionClosed() still follows. */
  connectionUpgraded(connection: Connection): void;
  /** Whether `input`, the first bytes of `socket`, opens HTTP/2 that this host serves there. */
  acceptsHttp2(socket: Socket, input: Buffer): boolean;
  /** Takes the connection's socket (paused) and its bytes read so far for an HTTP/2 session; no connectionClosed() follows. */
  switchToHttp2(connection: Connection, input: Buffer): void;
}

/** The GatewayRequest of a socket: its head as parsed, the signal made on first use (see AbortableRequest). */
export class ConnectionRequest extends AbortableRequest {
  readonly #connection: Connection;

  constructor(connection: Connection, head: ParsedHead, scheme: 'http' | 'https', remote: SocketAddress, server: SocketAddress, body: SocketBody | null, upgrade: UpgradeOptions | undefined) {
    const target = head.target;
    const { path, query } = splitTarget(target);
    super(head.method, target, path, query, head.httpVersion, head.rawHeaders, scheme, remote, server, body, upgrade);
    this.#connection = connection;
  }

  sendInterim(status: number, headers: ResponseHeaders): void {
    this.#connection.sendInterim(this, status, headers);
  }
}

export class Connection implements BodyHost, HeldWriter {
  readonly socket: Socket;
  readonly remote: SocketAddress;
  readonly local: SocketAddress;
  /** Deadline of the current phase (ms since epoch); 0 = none. Read by the service's sweep. */
  deadline = 0;
  /** While the app waits for body bytes. */
  bodyDeadline = 0;
  /** requestTimeoutMs of the request in progress. */
  requestDeadline = 0;

  readonly #host: ConnectionHost;
  readonly #options: ProtocolOptions;
  /** Null once the app has taken the connection: it reads no more HTTP, and an idle WebSocket should not keep a parser. */
  #parser: RequestParser | null;
  readonly #framing = newFraming();
  readonly #forwarding: number;
  readonly #proxyTrust: ProxyTrust | null;
  /** Responses wait for the loop's write batch (see Dispatcher.respondsInGroups). */
  readonly #holdResponses: boolean;
  #state = IDLE;
  /** Has answered at least one request (see drain()). */
  #servedAny = false;
  #paused = 0;
  #pending: Buffer | null = null;
  #corked = false;
  #peerEnded = false;
  #drainListening = false;
  #drainWaiter: (() => void) | null = null;
  /** The host hands its connections to another process: this one moves at its next idle moment. */
  #handingOff = false;
  #handOffWaiting = false;

  // The request in progress (one at a time).
  #newHead: ParsedHead | null = null;
  #request: ConnectionRequest | null = null;
  #body: SocketBody | null = null;
  #http11 = true;
  #isHead = false;
  #wantsKeepAlive = false;
  #expectContinue = false;
  #continueSent = false;
  #messageComplete = true;
  #bodyReceived = 0;
  #discarded = 0;
  #discardOverflow = false;
  /** The final response head is on the wire. */
  #headSent = false;
  /** The request is over for the app: whatever it returns or yields from now on is dropped. */
  #done = true;
  #status = 0;
  #response: GatewayResponse | undefined = undefined;
  #startedAt = 0n;
  /** Set once the app has taken the connection: how to end it when the unit stops. */
  #taken: TakenConnection | null = null;
  /** The app took this connection; stays true once closed, so the host uncounts it then. */
  #upgraded = false;

  constructor(host: ConnectionHost, socket: Socket, peer: PeerAddresses | null = null) {
    this.#host = host;
    this.#options = host.options;
    this.socket = socket;
    this.remote = peer?.remote ?? { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.local = peer?.local ?? { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    const trust = this.#options.proxyTrust ?? null;
    this.#proxyTrust = trust;
    this.#forwarding = trust === null ? FORWARDED_OFF : trust.trusts(this.remote.address) ? FORWARDED_TRUSTED : FORWARDED_UNTRUSTED;
    this.#holdResponses = host.dispatcher.respondsInGroups !== true;
    this.#parser = new RequestParser(this.#options.limits, {
      onHead: (head) => this.#onHead(head),
      onBody: (chunk) => this.#onBody(chunk),
      onMessageComplete: () => this.#onMessageComplete(),
    });
    // We answer requests that arrive before the client's FIN, so a half-close must not end
    // our side (node:http sets the same on its server).
    socket.allowHalfOpen = true;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    // A socket accepted with pauseOnConnect (handed over by a supervisor) starts paused.
    if (socket.readableFlowing !== true) socket.resume();
    if (this.#options.keepAliveTimeoutMs > 0) this.deadline = Date.now() + this.#options.keepAliveTimeoutMs;
    else if (this.#options.headersTimeoutMs > 0) this.deadline = Date.now() + this.#options.headersTimeoutMs;
  }

  get state(): ConnectionState { return STATE_NAMES[this.#state]!; }
  /** Request body bytes received and not yet read by the app (for tests and stats). */
  get bufferedBodyBytes(): number { return this.#body?.buffered ?? 0; }
  /** Why reading is paused: none, pipelined input waiting, or an unread body. */
  get readPaused(): boolean { return this.#paused !== 0; }

  // ---- input ----------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state >= CLOSING) return; // lingering close: read and drop
    if (this.#pending !== null) { this.#stash(chunk, 0); return; }
    this.#feed(chunk, 0);
  };

  /** Parses from `offset` until the bytes run out or the next request must wait. */
  #feed(buf: Buffer, offset: number): void {
    const parser = this.#parser;
    if (parser === null) return;
    const end = buf.length;
    while (offset < end) {
      const state = this.#state;
      if (state >= CLOSING) return;
      if (state === ACTIVE && this.#messageComplete) { this.#stash(buf, offset); return; }
      if (state === IDLE) this.#beginHead();
      const consumed = parser.execute(buf, offset, end);
      offset += consumed;
      if (parser.error !== null) {
        if (this.#servedAny || parser.error.code !== 'ERR_HTTP_VERSION' || !this.#switchToHttp2(buf.subarray(0, end))) this.#protocolError(parser.error);
        return;
      }
      if (this.#newHead !== null) this.#startRequest();
      else if (consumed === 0 && this.#state !== ACTIVE) {
        // A parser that neither consumes, completes nor fails would spin here forever.
        this.#protocolError(new GatehouseError('ERR_HTTP_BAD_REQUEST', 'parser made no progress'));
        return;
      }
    }
  }

  /**
   * The first request line was HTTP/2's connection preface (h2c with prior knowledge, or h2
   * after ALPN). When the host serves HTTP/2 on this socket, the socket and every byte read from
   * it go to an HTTP/2 session (http2/) and this connection ends without a word. Only the
   * parser's version error leads here, so HTTP/1.1 requests pay nothing for it. The preface's
   * first line must have arrived in one read (clients send the preface in one write).
   */
  #switchToHttp2(input: Buffer): boolean {
    const socket = this.socket;
    if (this.#state !== HEAD || !this.#host.acceptsHttp2(socket, input)) return false;
    socket.pause();
    this.#leaveSocket();
    this.#host.switchToHttp2(this, input);
    return true;
  }

  /** Keeps pipelined bytes until the response in progress is out; stops reading meanwhile. */
  #stash(buf: Buffer, offset: number): void {
    const rest = offset === 0 ? buf : buf.subarray(offset);
    this.#pending = this.#pending === null ? rest : Buffer.concat([this.#pending, rest]);
    this.#pause(PAUSE_PIPELINED);
    this.#hold();
  }

  #beginHead(): void {
    this.#state = HEAD;
    const timeout = this.#options.headersTimeoutMs;
    this.deadline = timeout > 0 ? Date.now() + timeout : 0;
  }

  #onHead(head: ParsedHead): void {
    this.#newHead = head;
    this.#state = ACTIVE;
    this.deadline = 0;
    this.#messageComplete = false;
    this.#bodyReceived = 0;
    this.#discarded = 0;
    this.#discardOverflow = false;
    const framing = head.framing;
    this.#body = framing.kind === 'chunked' ? new SocketBody(this, null, BODY_HIGH_WATER_MARK)
      : framing.kind === 'length' && framing.length > 0 ? new SocketBody(this, framing.length, BODY_HIGH_WATER_MARK)
      : null;
  }

  #onBody(chunk: Uint8Array): void {
    this.#bodyReceived += chunk.byteLength;
    const body = this.#body;
    if (this.#state === ACTIVE && body !== null && !body.finished) {
      if (!body.push(chunk)) this.#pause(PAUSE_BODY);
      return;
    }
    // Nobody will read these bytes: drop them, within a bound.
    this.#discarded += chunk.byteLength;
    if (this.#discarded > DISCARD_LIMIT) {
      this.#discardOverflow = true;
      if (this.#state === DISCARD) this.#close();
      else this.#pause(PAUSE_BODY); // the app is still answering; close after its response
    } else if (this.#state === DISCARD && this.#options.bodyTimeoutMs > 0) {
      this.deadline = Date.now() + this.#options.bodyTimeoutMs;
    }
  }

  #onMessageComplete(): void {
    this.#messageComplete = true;
    this.#body?.end();
    if (this.#state === DISCARD) {
      this.#becomeIdle();
      if (this.#handingOff) this.#moveWhenIdle();
    }
  }

  // ---- request ---------------------------------------------------------------------------

  #startRequest(): void {
    const head = this.#newHead!;
    this.#newHead = null;
    const host = this.#host;
    host.requestStarted();
    this.#http11 = head.httpVersion === '1.1';
    this.#isHead = head.method === 'HEAD';
    this.#wantsKeepAlive = head.keepAlive && head.method !== 'CONNECT';
    this.#expectContinue = head.expectContinue;
    this.#continueSent = false;
    this.#headSent = false;
    this.#done = false;
    this.#status = 0;
    this.#response = undefined;
    const request = this.#forwarding === FORWARDED_OFF
      ? new ConnectionRequest(this, head, this.#options.scheme, this.remote, this.local, this.#body, this.#options.upgrade)
      : this.#forwardedRequest(head);
    this.#request = request;
    if (this.#options.requestTimeoutMs > 0) this.requestDeadline = Date.now() + this.#options.requestTimeoutMs;
    if (channels.requestStart.hasSubscribers || channels.requestEnd.hasSubscribers) {
      this.#startedAt = process.hrtime.bigint();
      if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ request, startedAt: this.#startedAt });
    }
    let result: Promise<GatewayResponse>;
    // A health path is the server's to answer (health.ts): the app is never called for it.
    const own = host.healthCheck === null ? null : host.healthCheck.respond(head.method, head.target, host.draining);
    if (own !== null) result = Promise.resolve(own);
    else {
      try {
        result = host.dispatcher.dispatch(request);
      } catch (error) {
        result = Promise.reject(error);
      }
    }
    result.then(this.#onResponse, this.#onAppError);
  }

  /** --proxy-headers: the request as trusted proxy fields describe it, or without untrusted ones. */
  #forwardedRequest(head: ParsedHead): ConnectionRequest {
    const view = readForwarded(head.rawHeaders, this.#forwarding === FORWARDED_TRUSTED, this.#proxyTrust!);
    if (view === null) return new ConnectionRequest(this, head, this.#options.scheme, this.remote, this.local, this.#body, this.#options.upgrade);
    return new ConnectionRequest(
      this,
      view.rawHeaders !== null ? { ...head, rawHeaders: view.rawHeaders } : head,
      view.scheme ?? this.#options.scheme,
      view.remote ?? this.remote,
      view.server ?? this.local,
      this.#body,
      this.#options.upgrade,
    );
  }

  // Both handlers are bound once per connection. Only one request is in progress at a time,
  // and every path that abandons a request also closes the connection, so a late settlement
  // is recognised by #done.
  readonly #onResponse = (response: GatewayResponse): void => {
    if (this.#done) return;
    try {
      this.#writeResponse(response);
    } catch (error) {
      this.#failRequest(error, 'response');
    }
  };

  readonly #onAppError = (error: unknown): void => {
    if (this.#done) return;
    this.#failRequest(error, 'app');
  };

  #writeResponse(response: GatewayResponse): void {
    if (response === null || typeof response !== 'object') throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the app returned ${response === null ? 'null' : typeof response}, not { status, headers, body }`);
    const take = takeoverOf(response);
    if (take !== null) { this.#takeOver(take, response); return; }
    const status = response.status;
    if (typeof status !== 'number' || status < 200) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `status ${String(status)} (a final status is 200 to 999)`);
    let body = response.body;
    let kind: number;
    let length: number;
    if (body == null) { kind = BODY_NONE; length = 0; }
    else if (typeof body === 'string') { kind = BODY_STRING; length = body.length === 0 ? 0 : Buffer.byteLength(body); }
    else if (body instanceof Uint8Array) { kind = BODY_BYTES; length = body.byteLength; }
    else if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') { kind = BODY_STREAM; length = -1; }
    else throw new GatehouseError('ERR_APP_BAD_RESPONSE', 'body must be a string, a Uint8Array, an async iterable of Uint8Array, or null');

    let trailers: Trailers | undefined;
    if (response.trailers != null) {
      trailers = this.#trailersToSend(response.trailers);
      if (trailers !== undefined && kind !== BODY_STREAM) {
        // A whole body goes chunked too, so that the trailers have a place to go.
        body = kind === BODY_NONE || length === 0 ? EMPTY_STREAM : oneChunk(kind === BODY_STRING ? Buffer.from(body as string) : body as Uint8Array);
        kind = BODY_STREAM;
        length = -1;
      }
    }

    const framing = this.#framing;
    const head = this.#host.serializer.serializeHead(status, response.headers, this.#http11, this.#isHead, this.#mayKeepAlive(kind === BODY_STREAM), length, framing);
    this.#status = status;
    this.#response = response;
    this.#headSent = true;
    const socket = this.socket;
    if (kind !== BODY_STREAM && this.#holdResponses) this.#hold();
    if (!framing.sendBody || kind === BODY_NONE) {
      socket.write(head, 'latin1');
      if (kind === BODY_STREAM) closeIterable(body as AsyncIterable<Uint8Array>);
      this.#finishResponse(0);
    } else if (kind === BODY_STRING) {
      if (framing.ascii) socket.write(head + (body as string));
      else {
        const buf = Buffer.allocUnsafe(head.length + length) as RawBuffer;
        buf.latin1Write(head, 0);
        buf.utf8Write(body as string, head.length);
        socket.write(buf);
      }
      this.#finishResponse(length);
    } else if (kind === BODY_BYTES) {
      if (length <= COPY_LIMIT) {
        const buf = Buffer.allocUnsafe(head.length + length) as RawBuffer;
        buf.latin1Write(head, 0);
        buf.set(body as Uint8Array, head.length);
        socket.write(buf);
      } else {
        socket.cork();
        socket.write(head, 'latin1');
        socket.write(body as Uint8Array);
        socket.uncork();
      }
      this.#finishResponse(length);
    } else {
      socket.write(head, 'latin1');
      void this.#writeStream(body as AsyncIterable<Uint8Array>, framing.chunked, framing.contentLength, framing.keepAlive, framing.chunked ? trailers : undefined);
    }
  }

  /**
   * The response's trailers, when this request can take them: only on HTTP/1.1 with `TE:
   * trailers` and a body (gateway/trailers.ts); a HEAD response has no body to end with them.
   * Given as fields, they are checked now, before the head, so a bad one is a clean 500; a
   * function is kept for when the body has ended.
   */
  #trailersToSend(trailers: NonNullable<GatewayResponse['trailers']>): Trailers | undefined {
    if (!this.#http11 || this.#isHead || !acceptsTrailers(this.#request!)) return undefined;
    return typeof trailers === 'function' ? trailers : trailerFields(trailers);
  }

  /**
   * The request's sendInterim (runs on this loop). Checked whatever happens to it, so a misuse
   * fails the same way everywhere; written only while its request is the one in progress and
   * its final head is not out, and only on HTTP/1.1 (a 1.0 client does not expect 1xx,
   * RFC 9110 §15.2). Corked writes keep their order, so it always precedes the final head.
   */
  sendInterim(request: ConnectionRequest, status: number, headers: ResponseHeaders): void {
    const fields = interimFields(status, headers);
    if (request !== this.#request || this.#done || this.#headSent || !this.#http11 || this.#state !== ACTIVE) return;
    this.socket.write(interimHead(status, fields), 'latin1');
  }

  /**
   * The app accepted the upgrade: the socket is the takeover's from here, with the bytes that
   * arrived after the request head. Reading is left for the new owner to start (flowing
   * unset, as node:http leaves a socket it emits 'upgrade' with); an error listener stays so
   * a reset never becomes an uncaught exception; 'close' still ends the connection here.
   */
  #takeOver(take: Takeover, response: GatewayResponse): void {
    const request = this.#request!;
    if (requestedUpgrade(request) === null) throw new GatehouseError('ERR_APP_BAD_RESPONSE', 'an upgrade was accepted for a request that asked for none');
    if (!this.#messageComplete) throw new GatehouseError('ERR_APP_BAD_RESPONSE', 'an upgrade is accepted only once the request body has been read');
    const socket = this.socket;
    const head = this.#pending ?? Buffer.alloc(0);
    this.#pending = null;
    this.#state = UPGRADED;
    this.#upgraded = true;
    this.deadline = 0;
    this.#status = response.status;
    this.#response = response;
    this.#headSent = true;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('drain', this.#onDrain);
    this.#drainListening = false;
    if (this.#corked) { this.#corked = false; socket.uncork(); }
    this.#paused = 0;
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    socket.allowHalfOpen = false;
    this.#endRequest(0);
    // Nothing HTTP is read or written on this socket again: what served the request goes now,
    // not at close, so a long-lived WebSocket holds only the connection's bookkeeping.
    this.#parser = null;
    this.#body = null;
    this.#host.connectionUpgraded(this);
    try {
      this.#taken = take(socket, head) ?? null;
    } catch (error) {
      if (channels.requestError.hasSubscribers) channels.requestError.publish({ request, error, phase: 'response' });
      socket.destroy();
    }
  }

  /** The unit is stopping: an upgraded connection ends the protocol's way; true when it was one. */
  goingAway(): boolean {
    if (this.#state !== UPGRADED) return false;
    const taken = this.#taken;
    if (taken === null) this.socket.destroy();
    else {
      try { taken.goingAway(); } catch { this.socket.destroy(); }
    }
    return true;
  }

  /** The app took this connection (an accepted upgrade), open or since closed. */
  get upgraded(): boolean { return this.#upgraded; }

  /** Whether this response may leave the connection open (the app can still turn it off). */
  #mayKeepAlive(streaming: boolean): boolean {
    if (!this.#wantsKeepAlive || this.#peerEnded || (this.#host.draining && !this.#handingOff) || this.#options.keepAliveTimeoutMs <= 0) return false;
    if (!this.#messageComplete) {
      if (this.#expectContinue && !this.#continueSent) return false;
      if (this.#discardOverflow) return false;
      const body = this.#body!;
      if (!streaming && body.length !== null && body.length - this.#bodyReceived > DISCARD_LIMIT) return false;
    }
    return true;
  }

  async #writeStream(body: AsyncIterable<Uint8Array>, chunked: boolean, expected: number, keepAlive: boolean, trailers: Trailers | undefined): Promise<void> {
    const request = this.#request;
    const socket = this.socket;
    const highWaterMark = this.#options.writeHighWaterMark;
    let bytes = 0;
    try {
      for await (const chunk of body) {
        if (this.#done || this.#request !== request) return; // abandoned: `return` closes the iterator
        if (!(chunk instanceof Uint8Array)) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the body stream yielded ${typeof chunk}, not a Uint8Array`);
        const size = chunk.byteLength;
        if (size === 0) continue;
        bytes += size;
        if (expected >= 0 && bytes > expected) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the body stream yielded more than content-length ${expected} bytes`);
        if (chunked) {
          socket.cork();
          socket.write(chunkHeader(size), 'latin1');
          socket.write(chunk);
          socket.write('\r\n', 'latin1');
          socket.uncork();
        } else {
          socket.write(chunk);
        }
        if (socket.writableLength > highWaterMark) await this.#writableDrained();
      }
      if (this.#done || this.#request !== request) return;
      if (expected >= 0 && bytes < expected) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the body stream ended after ${bytes} of content-length ${expected} bytes`);
      if (trailers !== undefined) {
        // A function's trailers are known only now; a bad one fails like a broken stream
        // (the connection is cut before the last chunk, so the body is never taken as whole).
        const fields = typeof trailers === 'function' ? trailerFields(await trailers()) : trailers;
        if (this.#done || this.#request !== request) return;
        socket.write(lastChunkWithTrailers(fields), 'latin1');
      } else if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.#framing.keepAlive = keepAlive;
      this.#finishResponse(bytes);
    } catch (error) {
      if (this.#done || this.#request !== request) return;
      this.#failRequest(error, 'response');
    }
  }

  #writableDrained(): Promise<void> {
    if (!this.#drainListening) {
      this.#drainListening = true;
      this.socket.on('drain', this.#onDrain);
    }
    return new Promise((resolve) => { this.#drainWaiter = resolve; });
  }

  readonly #onDrain = (): void => {
    const waiter = this.#drainWaiter;
    this.#drainWaiter = null;
    waiter?.();
  };

  /** The app failed (or its response was invalid): answer 500 if nothing was sent, else cut the connection. */
  #failRequest(error: unknown, phase: 'app' | 'response'): void {
    const request = this.#request;
    if (channels.requestError.hasSubscribers) channels.requestError.publish({ request: request ?? undefined, error, phase });
    if (this.#headSent) {
      // The head promised a body we cannot complete; a clean end would pass a truncated
      // body off as complete.
      this.#status = this.#status || 500;
      this.#abandon(error);
      this.socket.destroy();
      return;
    }
    const { status, text } = answerForAppFailure(error, this.#options.debug);
    this.#writeSimple(status, text, this.#mayKeepAlive(false));
    this.#finishResponse(0);
  }

  /** Writes a complete server-made response (error pages) and records its status. */
  #writeSimple(status: number, text: string, keepAlive: boolean): void {
    const framing = this.#framing;
    const response = this.#host.serializer.simpleResponse(status, text, this.#http11, this.#isHead, keepAlive, framing);
    this.#status = status;
    this.#headSent = true;
    this.socket.write(response, 'latin1');
  }

  /** The response is written (to the socket's buffer): end the request, then read on or close. */
  #finishResponse(bytes: number): void {
    this.#endRequest(bytes);
    const keepAlive = this.#framing.keepAlive;
    if (!keepAlive || this.#peerEnded || (this.#host.draining && !this.#handingOff)) { this.#close(); return; }
    if (!this.#messageComplete) {
      if (this.#discardOverflow) { this.#close(); return; }
      // Read and drop the rest of the body, within DISCARD_LIMIT (see #onBody).
      this.#state = DISCARD;
      const timeout = this.#options.bodyTimeoutMs > 0 ? this.#options.bodyTimeoutMs : this.#options.keepAliveTimeoutMs;
      this.deadline = Date.now() + timeout;
      this.#body?.cancel();
      this.#unpause(PAUSE_BODY);
      return;
    }
    this.#becomeIdle();
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      this.#hold();
      this.#feed(pending, 0);
      if (this.#pending === null) this.#unpause(PAUSE_PIPELINED);
    }
    if (this.#handingOff) this.#moveWhenIdle();
  }

  #becomeIdle(): void {
    this.#state = IDLE;
    this.#servedAny = true;
    this.#body = null;
    const timeout = this.#options.keepAliveTimeoutMs;
    this.deadline = timeout > 0 ? Date.now() + timeout : 0;
  }

  /** Closes the books on the request in progress (once): counters and requestEnd. */
  #endRequest(bytes: number): void {
    const request = this.#request;
    if (request === null) return;
    this.#request = null;
    this.#done = true;
    this.requestDeadline = 0;
    this.bodyDeadline = 0;
    this.#host.requestEnded();
    if (channels.requestEnd.hasSubscribers) {
      channels.requestEnd.publish({
        request, status: this.#status || 499, bytes, startedAt: this.#startedAt, endedAt: process.hrtime.bigint(), response: this.#response, unit: requestUnit(request),
      });
    }
    this.#response = undefined;
  }

  /** The request cannot complete normally: abort its signal and body, end it. */
  #abandon(reason: unknown): void {
    const request = this.#request;
    if (request === null) return;
    this.#done = true;
    request.abort(reason);
    this.#body?.fail(reason);
    this.#endRequest(0);
  }

  // ---- BodyHost --------------------------------------------------------------------------

  bodyFirstPull(): void {
    if (this.#expectContinue && !this.#continueSent && !this.#headSent && !this.#messageComplete && this.#state === ACTIVE) {
      this.#continueSent = true;
      this.socket.write(CONTINUE_RESPONSE, 'latin1');
    }
  }

  bodyWaiting(waiting: boolean): void {
    const timeout = this.#options.bodyTimeoutMs;
    this.bodyDeadline = waiting && timeout > 0 ? Date.now() + timeout : 0;
  }

  bodyDrained(): void {
    if (!this.#discardOverflow) this.#unpause(PAUSE_BODY);
  }

  bodyCancelled(): void {
    // The app stopped reading: the rest is dropped as it arrives (bounded in #onBody).
    if (!this.#discardOverflow) this.#unpause(PAUSE_BODY);
  }

  // ---- errors, timeouts, closing ---------------------------------------------------------

  /** The parser rejected the input, or the head took too long: answer the status, close. */
  #protocolError(error: GatehouseError): void {
    if (channels.protocolError.hasSubscribers) {
      channels.protocolError.publish({ code: error.code, status: error.status, remote: `${this.remote.address}:${this.remote.port}`, detail: error.detail });
    }
    if (this.#state === ACTIVE && !this.#done) {
      // A framing error in the body of a request the app is working on.
      const headSent = this.#headSent;
      this.#abandonWith(error, error.status, error.message + '\n');
      if (headSent) { this.socket.destroy(); return; }
    } else if (this.#state < CLOSING) {
      this.#isHead = false;
      this.#http11 = true;
      this.#writeSimple(error.status, error.message + '\n', false);
    }
    this.#close();
  }

  /** Ends the request in progress with a server-made status (when nothing was sent yet). */
  #abandonWith(reason: unknown, status: number, text: string): void {
    if (!this.#headSent && this.#state < CLOSING) this.#writeSimple(status, text, false);
    this.#abandon(reason);
  }

  /** Called by the service's sweep with the current time. */
  checkDeadlines(now: number): void {
    if (this.deadline !== 0 && this.deadline <= now) {
      this.deadline = 0;
      switch (this.#state) {
        case IDLE: case DISCARD: this.#close(); break;
        case HEAD: this.#protocolError(new GatehouseError('ERR_HTTP_HEADERS_TIMEOUT', `${this.#options.headersTimeoutMs} ms`)); break;
        case CLOSING: this.socket.destroy(); break;
      }
    }
    if (this.bodyDeadline !== 0 && this.bodyDeadline <= now) {
      this.bodyDeadline = 0;
      if (this.#body?.waiting && !this.#done) {
        const error = new GatehouseError('ERR_HTTP_BODY_TIMEOUT', `no body bytes for ${this.#options.bodyTimeoutMs} ms`);
        if (channels.protocolError.hasSubscribers) {
          channels.protocolError.publish({ code: error.code, status: error.status, remote: `${this.remote.address}:${this.remote.port}`, detail: error.detail });
        }
        this.#timedOut(error);
      }
    }
    if (this.requestDeadline !== 0 && this.requestDeadline <= now) {
      this.requestDeadline = 0;
      if (!this.#done) this.#timedOut(new GatehouseError('ERR_HTTP_REQUEST_TIMEOUT', `${this.#options.requestTimeoutMs} ms`));
    }
  }

  #timedOut(error: GatehouseError): void {
    if (this.#headSent) {
      this.#abandon(error);
      this.socket.destroy();
      return;
    }
    this.#abandonWith(error, error.status, error.message + '\n');
    this.#close();
  }

  /**
   * Graceful drain: a busy connection closes after its response (sent with Connection: close).
   * An idle one is NOT closed at once: under keep-alive load its client has often already sent
   * the next request (it is on the wire), and a connection accepted just before the listener
   * closed has not sent its first one yet; closing either loses that request (seen as failed
   * requests on reload). So an idle connection that has served requests gets DRAIN_IDLE_GRACE_MS
   * for one more request, and a fresh one keeps its first-request deadline; a request that
   * arrives is answered with Connection: close, and the sweep closes the rest at their deadline.
   */
  drain(): void {
    // A moving one moves at its next idle moment instead (handOff()); an upgraded one ends by goingAway().
    if (this.#handingOff || this.#state === UPGRADED) return;
    if (this.#state === DISCARD) { this.#close(); return; }
    if (this.#state === IDLE && this.#servedAny) {
      const graceEnd = Date.now() + DRAIN_IDLE_GRACE_MS;
      if (this.deadline === 0 || this.deadline > graceEnd) this.deadline = graceEnd;
    }
  }

  /**
   * Gives the socket up, to be served by another process (a supervisor rebalancing keep-alive
   * connections between workers): only between requests, with nothing read and not yet
   * parsed, nothing written and not yet flushed, and the client's side open. Reading stops on
   * the handle (net/stop-reading.ts), so whatever the client sends next stays in the kernel
   * for the next owner. Returns null, changing nothing, when the connection is not in that state.
   */
  detach(fresh = false): Socket | null {
    const socket = this.socket;
    if (this.#state !== IDLE || (!this.#servedAny && !fresh) || this.#pending !== null || this.#paused !== 0 || this.#corked || this.#peerEnded) return null;
    if (socket.readableLength !== 0 || socket.writableLength !== 0 || socket.destroyed || !stopReading(socket)) return null;
    this.#leaveSocket();
    this.#host.connectionClosed(this);
    return socket;
  }

  /**
   * The host hands every connection to another process (a reloading worker gives them to the
   * next generation): instead of closing after its response, this connection moves at its next
   * idle moment, with no `Connection: close` and no close the client could race. Idle with
   * nothing buffered: at once (also a fresh one that has not sent its first request). Busy: once
   * its response is written. An idle one whose response is still corked for the loop's write
   * batch or queued in the socket moves once that is out (after the batch, or on 'drain'); if
   * the client's next request is read meanwhile, it is served here and the move comes after it.
   */
  handOff(): void {
    this.#handingOff = true;
    this.#moveWhenIdle();
  }

  #moveWhenIdle(): void {
    if (this.#state !== IDLE || this.#pending !== null || this.#handOffWaiting) return;
    const socket = this.socket;
    if (this.#corked || socket.writableLength !== 0) {
      this.#handOffWaiting = true;
      const retry = (): void => { this.#handOffWaiting = false; socket.off('drain', retry); this.#moveWhenIdle(); };
      if (this.#corked) setImmediate(retry);
      else socket.once('drain', retry);
      return;
    }
    const moved = this.detach(true);
    if (moved !== null) { this.#host.handedOff(moved); return; }
    // It cannot move (reading paused, the client's side ended): it drains here like any other.
    this.#handingOff = false;
    if (this.#host.draining) this.drain();
  }

  /** The socket leaves this connection (to another process, or to HTTP/2): none of its events are ours from now on. */
  #leaveSocket(): void {
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    this.#state = CLOSED;
    this.deadline = 0;
  }

  /** Lingering close: FIN now, drop whatever still arrives, destroy when the client closes or LINGER_MS passes. */
  #close(): void {
    if (this.#state >= CLOSING) return;
    this.#state = CLOSING;
    this.#pending = null;
    this.deadline = Date.now() + LINGER_MS;
    if (this.#paused !== 0) { this.#paused = 0; this.socket.resume(); }
    if (this.#peerEnded) this.socket.destroySoon();
    else this.socket.end();
  }

  readonly #onEnd = (): void => {
    this.#peerEnded = true;
    switch (this.#state) {
      case IDLE: case HEAD: case DISCARD: this.#close(); break;
      case CLOSING: this.socket.destroySoon(); break;
      case ACTIVE: {
        // A FIN from a client that half-closed looks exactly like one from a client that
        // left, so (as node:http by default) the request is aborted; a response the app
        // still returns is written all the same, then the connection closes.
        const gone = new GatehouseError('ERR_HTTP_CLIENT_GONE', 'the client closed its side of the connection');
        if (!this.#messageComplete) this.#body?.fail(gone);
        this.#request?.abort(gone);
        if (this.#done) this.#close();
        break;
      }
    }
  };

  readonly #onError = (): void => {
    // 'close' follows; ECONNRESET and friends are the client's business.
  };

  readonly #onClose = (): void => {
    this.#state = CLOSED;
    this.#taken = null;
    this.deadline = 0;
    if (!this.#done) this.#abandon(new GatehouseError('ERR_HTTP_CLIENT_GONE'));
    this.#onDrain();
    this.#host.connectionClosed(this);
  };

  #pause(reason: number): void {
    if (this.#paused === 0) this.socket.pause();
    this.#paused |= reason;
  }

  #unpause(reason: number): void {
    if ((this.#paused & reason) === 0) return;
    this.#paused &= ~reason;
    if (this.#paused === 0 && this.#state < CLOSED) this.socket.resume();
  }

  /** Corks the socket until this loop's write batch goes out (http/write-batch.ts). */
  #hold(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.socket.cork();
    writeBatch.hold(this);
  }

  /** @internal Called by the write batch. */
  flushHeld(): void {
    this.#corked = false;
    this.socket.uncork();
  }
}

/** Trailers on their way out: checked fields, or the app's function to call once the body has ended. */
type Trailers = string[] | Extract<GatewayResponse['trailers'], (...args: never[]) => unknown>;

const EMPTY_STREAM: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) };

async function* oneChunk(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

/** A stream body that will not be sent (HEAD, 204, 304): let a generator run its `finally`. */
export function closeIterable(body: AsyncIterable<Uint8Array>): void {
  try {
    const iterator = body[Symbol.asyncIterator]();
    const done = iterator.return?.();
    if (done && typeof done.then === 'function') done.then(undefined, () => {});
  } catch { /* the app's iterator failed to close; nothing was sent from it */ }
}
