/*
 * One HTTP/2 stream as one Gateway request (runs on the event loop that owns the session):
 * the request's pseudo-headers and fields become a GatewayRequest, the Dispatcher answers, and
 * the GatewayResponse goes back as HEADERS, DATA and, when the response has them, trailers.
 *
 * Request (RFC 9113 §8.3.1):
 * - method from `:method`; the target from `:path` (`:authority` for CONNECT); `:authority`
 *   also becomes a `host` field, first, when the request has none, so apps reading
 *   headers.get('host') work as on HTTP/1.1; other fields in arrival order (names arrive
 *   lower-case on h2); cookie crumbs (§8.2.3) are joined into one `cookie` field with '; '.
 * - scheme is the connection's (TLS or not), or what trusted proxy fields say (--proxy-headers).
 * - The body streams with backpressure: past BODY_HIGH_WATER_MARK of unread bytes the stream is
 *   paused, nghttp2 stops returning flow-control credit, and the client's window closes.
 *   --max-body-size is enforced as on HTTP/1.1 (413 before the head, else RST_STREAM).
 * - request.signal aborts when the client resets the stream, the session closes, or the
 *   request deadline passes. `upgrade` is null: HTTP/2 streams do not switch protocols.
 * - sendInterim(103, fields) sends an informational HEADERS frame before the final head.
 *
 * Response: see response-head.ts for the fields. HEAD, 204 and 304 end the stream after the
 * head; string and bytes bodies go out in one end(); a stream body is written chunk by chunk,
 * waiting for 'drain' whenever write() says the stream's buffer is full, so a slow reader of one
 * stream holds at most its window plus one high-water mark here and never stalls the others.
 * A response that cannot send because the client keeps its flow-control window shut is reset
 * (CANCEL) after --http2-send-timeout without a 'drain' (large string and bytes bodies are
 * written in slices for this); its request.signal aborts.
 * Trailers: the head is sent with waitForTrailers, and the trailer fields (a function is called
 * once the body has ended) follow the last DATA frame.
 * Failure: an app error before the head is answered as on HTTP/1.1 (http/app-failure.ts); after
 * it, the stream is reset with INTERNAL_ERROR so the client cannot take a truncated body for a
 * whole one. A passed request deadline: 504 before the head, RST_STREAM (CANCEL) after.
 * The request ends (requestEnd, in-flight count) when the stream closes.
 */
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { channels } from '../diagnostics.js';
import { GatehouseError } from '../errors/index.js';
import { AbortableRequest, splitTarget } from '../gateway/request.js';
import type { Dispatcher, GatewayResponse, ResponseHeaders, SocketAddress } from '../gateway/types.js';
import { requestUnit } from '../request-unit.js';
import { answerForAppFailure } from '../http/app-failure.js';
import type { HealthCheck } from '../http/health.js';
import type { ProtocolOptions } from '../http/options.js';
import { SocketBody, type BodyHost } from '../http/socket-body.js';
import { readForwarded } from '../net/proxy-headers.js';
import { BODY_HIGH_WATER_MARK, closeIterable } from '../http/connection.js';
import { h2ResponseHead, h2Trailers } from './response-head.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** What a stream needs from its session. */
export interface StreamOwner {
  readonly dispatcher: Dispatcher;
  readonly options: ProtocolOptions;
  readonly healthCheck: HealthCheck | null;
  readonly draining: boolean;
  readonly scheme: 'http' | 'https';
  readonly remote: SocketAddress;
  readonly local: SocketAddress;
  /** --proxy-headers: whether this peer's proxy fields are believed (null: off). */
  readonly proxyTrusted: boolean | null;
  requestStarted(): void;
  requestEnded(): void;
  streamClosed(exchange: StreamExchange): void;
  /** The client reset a stream whose exchange had not finished (counted against Rapid Reset). */
  streamResetByClient(): void;
  /** --http2-send-timeout in ms (0 = none). */
  readonly sendTimeoutMs: number;
}

/** A string or bytes body longer than this is written in slices of it, so a stalled reader is seen as a stall (no 'drain'), and progress as progress. */
const SEND_SLICE = 64 * 1024;

/** The GatewayRequest of a stream: interim responses go out as informational HEADERS; `upgrade` is null (an HTTP/2 request never switches: requestedUpgrade()). */
class StreamRequest extends AbortableRequest {
  readonly #exchange: StreamExchange;

  constructor(exchange: StreamExchange, method: string, target: string, rawHeaders: string[], scheme: 'http' | 'https', remote: SocketAddress, server: SocketAddress, body: SocketBody | null) {
    const { path, query } = method === 'CONNECT' ? { path: '', query: '' } : splitTarget(target);
    super(method, target, path, query, '2.0', rawHeaders, scheme, remote, server, body);
    this.#exchange = exchange;
  }

  sendInterim(status: number, headers: ResponseHeaders): void {
    this.#exchange.sendInterim(status, headers);
  }
}

export class StreamExchange implements BodyHost {
  /** requestTimeoutMs of this stream (ms since epoch); 0 = none. Read by the service's sweep. */
  requestDeadline = 0;
  /** While the response waits for the client's flow-control window ('drain'). */
  sendDeadline = 0;
  /** While the app waits for body bytes. */
  bodyDeadline = 0;
  readonly #owner: StreamOwner;
  readonly #stream: ServerHttp2Stream;
  #request: StreamRequest | null = null;
  #body: SocketBody | null = null;
  #bodyReceived = 0;
  #isHead = false;
  #headSent = false;
  /** The app's answer no longer matters (stream gone, failed, timed out, or fully handed over). */
  #done = false;
  #status = 0;
  #bytes = 0;
  #response: GatewayResponse | undefined = undefined;
  #startedAt = 0n;
  #drainWaiter: (() => void) | null = null;
  /** This side reset the stream (so its close is not the client's reset). */
  #resetHere = false;

  constructor(owner: StreamOwner, stream: ServerHttp2Stream) {
    this.#owner = owner;
    this.#stream = stream;
  }

  /** Builds the request from the stream's header block and calls the app (or the health check). */
  start(headers: IncomingHttpHeaders, rawHeaders: readonly string[]): void {
    const owner = this.#owner;
    const stream = this.#stream;
    stream.on('close', this.#onClose);
    stream.on('error', this.#onError);
    stream.on('drain', this.#onDrain);
    const method = String(headers[':method'] ?? '');
    const authority = typeof headers[':authority'] === 'string' ? headers[':authority'] : '';
    const target = method === 'CONNECT' ? authority : String(headers[':path'] ?? '');
    const fields = requestFields(rawHeaders, authority);
    this.#isHead = method === 'HEAD';
    if (!stream.endAfterHeaders) {
      const declared = headers['content-length'];
      const length = typeof declared === 'string' && /^\d{1,15}$/.test(declared) ? Number(declared) : null;
      const body = this.#body = new SocketBody(this, length, BODY_HIGH_WATER_MARK);
      if (length !== null && owner.options.limits.maxBodySize > 0 && length > owner.options.limits.maxBodySize) {
        body.fail(new GatehouseError('ERR_HTTP_BODY_TOO_LARGE', `content-length ${length} over ${owner.options.limits.maxBodySize} bytes`));
      }
      stream.on('data', this.#onData);
      stream.on('end', this.#onEnd);
    }
    let scheme = owner.scheme;
    let remote = owner.remote;
    let server = owner.local;
    let raw = fields;
    if (owner.proxyTrusted !== null) {
      const view = readForwarded(fields, owner.proxyTrusted, owner.options.proxyTrust!);
      if (view !== null) {
        raw = view.rawHeaders !== null ? [...view.rawHeaders] : fields;
        scheme = view.scheme ?? scheme;
        remote = view.remote ?? remote;
        server = view.server ?? server;
      }
    }
    const request = this.#request = new StreamRequest(this, method, target, raw, scheme, remote, server, this.#body);
    owner.requestStarted();
    if (owner.options.requestTimeoutMs > 0) this.requestDeadline = Date.now() + owner.options.requestTimeoutMs;
    if (channels.requestStart.hasSubscribers || channels.requestEnd.hasSubscribers) {
      this.#startedAt = process.hrtime.bigint();
      if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ request, startedAt: this.#startedAt });
    }
    let result: Promise<GatewayResponse>;
    const own = owner.healthCheck === null ? null : owner.healthCheck.respond(method, target, owner.draining);
    if (own !== null) result = Promise.resolve(own);
    else {
      try {
        result = owner.dispatcher.dispatch(request);
      } catch (error) {
        result = Promise.reject(error);
      }
    }
    result.then(this.#onResponse, this.#onAppError);
  }

  // ---- request body ----------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    const body = this.#body!;
    this.#bodyReceived += chunk.byteLength;
    const max = this.#owner.options.limits.maxBodySize;
    if (max > 0 && this.#bodyReceived > max) {
      const error = new GatehouseError('ERR_HTTP_BODY_TOO_LARGE', `body over ${max} bytes`);
      body.fail(error);
      this.#failWith(error);
      return;
    }
    if (!body.push(chunk)) this.#stream.pause();
  };

  readonly #onEnd = (): void => { this.#body?.end(); };

  bodyFirstPull(): void { /* no 100 Continue on h2: the client sends its body without waiting */ }

  bodyWaiting(waiting: boolean): void {
    const timeout = this.#owner.options.bodyTimeoutMs;
    this.bodyDeadline = waiting && timeout > 0 ? Date.now() + timeout : 0;
  }

  bodyDrained(): void { this.#stream.resume(); }

  bodyCancelled(): void {
    // The app will not read on: what still arrives is dropped (push ignores it), and reading
    // goes on so the window stays open for the response's own frames.
    this.#stream.resume();
  }

  // ---- response --------------------------------------------------------------------------

  sendInterim(status: number, headers: ResponseHeaders): void {
    if (this.#headSent || this.#done || this.#stream.destroyed) return;
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `interim status ${String(status)} (100 to 199, not 101)`);
    const head = h2ResponseHead(status, headers, '', 0, false, false);
    const fields = head.fields;
    delete fields.date;
    this.#stream.additionalHeaders(fields);
  }

  readonly #onResponse = (response: GatewayResponse): void => {
    if (this.#done) return;
    try {
      this.#writeResponse(response);
    } catch (error) {
      this.#fail(error, 'response');
    }
  };

  readonly #onAppError = (error: unknown): void => {
    if (this.#done) return;
    this.#fail(error, 'app');
  };

  #writeResponse(response: GatewayResponse): void {
    if (response === null || typeof response !== 'object') throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the app returned ${response === null ? 'null' : typeof response}, not { status, headers, body }`);
    const status = response.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 999) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `status ${String(status)} (a final status is 200 to 999)`);
    const body = response.body;
    let payload: Buffer | string | null = null;
    let iterable: AsyncIterable<Uint8Array> | null = null;
    let length: number;
    if (body == null) length = 0;
    else if (typeof body === 'string') { payload = body; length = Buffer.byteLength(body); }
    else if (body instanceof Uint8Array) { payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength); length = body.byteLength; }
    else if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') { iterable = body as AsyncIterable<Uint8Array>; length = -1; }
    else throw new GatehouseError('ERR_APP_BAD_RESPONSE', 'body must be a string, a Uint8Array, an async iterable of Uint8Array, or null');
    const sendsBody = !this.#isHead && status !== 204 && status !== 304;
    const head = h2ResponseHead(status, response.headers, this.#owner.options.serverHeader, length, sendsBody, this.#isHead);
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) { this.#done = true; if (iterable !== null) closeIterable(iterable); return; }
    const trailers = response.trailers ?? null;
    this.#status = status;
    this.#response = response;
    this.#headSent = true;
    if (trailers !== null) stream.once('wantTrailers', () => { void this.#sendTrailers(trailers); });
    const noBody = !sendsBody || length === 0;
    stream.respond(head.fields, { endStream: noBody && trailers === null, waitForTrailers: trailers !== null });
    if (noBody) {
      if (iterable !== null) closeIterable(iterable);
      if (trailers !== null) stream.end();
      this.#done = true;
      return;
    }
    if (iterable === null && length > SEND_SLICE) iterable = slices(payload!);
    if (iterable === null) {
      this.#bytes = length;
      this.#done = true;
      stream.end(payload);
      return;
    }
    void this.#writeStream(iterable, head.contentLength);
  }

  async #writeStream(body: AsyncIterable<Uint8Array>, expected: number): Promise<void> {
    const stream = this.#stream;
    try {
      for await (const chunk of body) {
        if (this.#done) return; // `return` closes the iterator
        if (!(chunk instanceof Uint8Array)) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the body stream yielded ${typeof chunk}, not a Uint8Array`);
        if (chunk.byteLength === 0) continue;
        this.#bytes += chunk.byteLength;
        if (expected >= 0 && this.#bytes > expected) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the body stream yielded more than content-length ${expected} bytes`);
        if (!stream.write(chunk)) {
          const timeout = this.#owner.sendTimeoutMs;
          if (timeout > 0) this.sendDeadline = Date.now() + timeout;
          await new Promise<void>((resolve) => { this.#drainWaiter = resolve; });
        }
      }
      if (this.#done) return;
      if (expected >= 0 && this.#bytes < expected) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the body stream ended after ${this.#bytes} of content-length ${expected} bytes`);
      this.#done = true;
      stream.end();
    } catch (error) {
      if (this.#done) return;
      this.#fail(error, 'response');
    }
  }

  readonly #onDrain = (): void => {
    this.sendDeadline = 0;
    const waiter = this.#drainWaiter;
    this.#drainWaiter = null;
    waiter?.();
  };

  async #sendTrailers(trailers: NonNullable<GatewayResponse['trailers']>): Promise<void> {
    const stream = this.#stream;
    try {
      const fields: OutgoingHttpHeaders = h2Trailers(typeof trailers === 'function' ? await trailers() : trailers);
      if (!stream.destroyed) stream.sendTrailers(fields);
    } catch (error) {
      if (channels.requestError.hasSubscribers) channels.requestError.publish({ request: this.#request ?? undefined, error, phase: 'response' });
      this.#reset(NGHTTP2_INTERNAL_ERROR);
    }
  }

  /** The app failed or its response was invalid: answer before the head, reset after it. */
  #fail(error: unknown, phase: 'app' | 'response'): void {
    if (channels.requestError.hasSubscribers) channels.requestError.publish({ request: this.#request ?? undefined, error, phase });
    if (this.#headSent) {
      this.#done = true;
      this.#request?.abort(error);
      this.#reset(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const { status, text } = answerForAppFailure(error, this.#owner.options.debug);
    this.#answer(status, text);
  }

  /** A server-made status for a request that cannot go on (body too large, timed out). */
  #failWith(error: GatehouseError): void {
    if (this.#done) return;
    this.#request?.abort(error);
    if (this.#headSent) {
      this.#done = true;
      this.#reset(NGHTTP2_CANCEL);
      return;
    }
    this.#answer(error.status, error.message + '\n');
  }

  /** Writes a short text response the server makes itself (error pages). */
  #answer(status: number, text: string): void {
    this.#done = true;
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return;
    const body = text.replace(/[^\t\n\r\x20-\x7e]/g, '?');
    const head = h2ResponseHead(status, [['content-type', 'text/plain; charset=utf-8']], this.#owner.options.serverHeader, body.length, !this.#isHead, this.#isHead);
    this.#status = status;
    this.#headSent = true;
    stream.respond(head.fields, { endStream: this.#isHead });
    if (this.#isHead) return;
    this.#bytes = body.length;
    stream.end(body, 'latin1');
  }

  // ---- deadlines and the end ------------------------------------------------------------

  /** Called by the service's sweep with the current time. */
  checkDeadlines(now: number): void {
    if (this.sendDeadline !== 0 && this.sendDeadline <= now) {
      this.sendDeadline = 0;
      if (!this.#done) {
        this.#done = true;
        this.#request?.abort(new GatehouseError('ERR_HTTP_CLIENT_GONE', `the client's flow-control window stayed shut for ${this.#owner.sendTimeoutMs} ms`));
        this.#reset(NGHTTP2_CANCEL);
      }
    }
    if (this.bodyDeadline !== 0 && this.bodyDeadline <= now) {
      this.bodyDeadline = 0;
      if (this.#body?.waiting && !this.#done) {
        const error = new GatehouseError('ERR_HTTP_BODY_TIMEOUT', `no body bytes for ${this.#owner.options.bodyTimeoutMs} ms`);
        this.#body.fail(error);
        this.#failWith(error);
      }
    }
    if (this.requestDeadline !== 0 && this.requestDeadline <= now) {
      this.requestDeadline = 0;
      if (!this.#done) this.#failWith(new GatehouseError('ERR_HTTP_REQUEST_TIMEOUT', `${this.#owner.options.requestTimeoutMs} ms`));
    }
  }

  /** The session is going down at once: reset this stream. */
  cancel(): void {
    this.#reset(NGHTTP2_CANCEL);
  }

  #reset(code: number): void {
    this.#resetHere = true;
    if (!this.#stream.destroyed) this.#stream.close(code);
  }

  readonly #onError = (): void => {
    // 'close' follows; a reset by the client is the client's business.
  };

  readonly #onClose = (): void => {
    const request = this.#request;
    const complete = this.#done && this.#headSent && this.#stream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
    // Unfinished and not reset here: the client reset it, whatever code it gave (or the session is gone, where counting is moot).
    if (!complete && !this.#resetHere) this.#owner.streamResetByClient();
    if (!complete) {
      const gone = new GatehouseError('ERR_HTTP_CLIENT_GONE', 'the stream was reset or its connection closed');
      this.#body?.fail(gone);
      request?.abort(gone);
    }
    this.#done = true;
    this.requestDeadline = 0;
    this.bodyDeadline = 0;
    this.#onDrain();
    if (request !== null) {
      this.#request = null;
      this.#owner.requestEnded();
      if (channels.requestEnd.hasSubscribers) {
        channels.requestEnd.publish({
          request, status: this.#status || 499, bytes: this.#bytes, startedAt: this.#startedAt, endedAt: process.hrtime.bigint(), response: this.#response, unit: requestUnit(request),
        });
      }
    }
    this.#owner.streamClosed(this);
  };
}

/**
 * The request's fields from the stream's raw header list: pseudo-headers left out, cookie
 * crumbs joined into one field where the first one was, and `host` from `:authority` (first)
 * when absent.
 */
function requestFields(rawHeaders: readonly string[], authority: string): string[] {
  const fields: string[] = [];
  let cookieAt = -1;
  let hasHost = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const value = rawHeaders[i + 1]!;
    if (name === 'cookie') {
      if (cookieAt === -1) { cookieAt = fields.length; fields.push(name, value); }
      else fields[cookieAt + 1] += '; ' + value;
      continue;
    }
    if (name === 'host') hasHost = true;
    fields.push(name, value);
  }
  if (!hasHost && authority !== '') fields.unshift('host', authority);
  return fields;
}

/** A string or bytes body as SEND_SLICE pieces. */
async function* slices(payload: Buffer | string): AsyncIterable<Uint8Array> {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  for (let at = 0; at < bytes.length; at += SEND_SLICE) yield bytes.subarray(at, at + SEND_SLICE);
}
