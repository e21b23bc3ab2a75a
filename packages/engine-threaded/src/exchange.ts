/*
 * MAIN THREAD. One request's life on the main side: its body read ahead (read-ahead.ts),
 * queued, then running on an app thread, then answered (the dispatch promise settled) and
 * released (the thread no longer holds a concurrency slot for it). The two ends are separate
 * on purpose: a request answered 504 at its deadline still occupies its thread until the thread
 * confirms it let go (DONE), so a thread's in-flight count is the truth about its load. A
 * thread that never confirms is stuck, and the heartbeat check deals with it.
 *
 * A response that takes the connection (an accepted upgrade) crosses as TAKE: the request is
 * finished and its slot free at once, and the exchange answers the protocol layer with a
 * takeover response whose takeover hands the socket to a tunnel (tunnel.ts) on the same
 * thread, so an open WebSocket never holds a slot.
 *
 * The client going away is learnt from request.signal, but only for requests still in
 * progress a moment after they arrived (`watch()`, called by the dispatcher): creating an
 * AbortSignal and its listener costs more than the rest of a small request's crossing, and
 * most requests are over before anyone could abort them.
 */
import { HeaderList, GatehouseError, type GatewayRequest, type GatewayResponse } from '@gatehouse/core';
import { takeoverResponse } from '@gatehouse/core/internal';
import {
  ABORT, ACK, BODY, BODY_CANCEL, BODY_END, BODY_ERROR, CHUNK, DONE, END, ERROR, INTERIM, PULL, RESPONSE, RESPONSE_STREAM, TAKE, TUNNEL_CLOSED,
  TAG, ResponseField, InterimField, BYTES_FIELD, CHUNK_FIELD, END_TRAILERS_FIELD, ERROR_FIELD, SMALL_BYTES, requestMessage, smallBytesFromWire, smallBytesToWire, wireBytes,
  type FromThread, type ToThread,
} from './messages.js';
import { READ_AHEAD_LIMIT, joinChunks, type ReadAheadBudget } from './read-ahead.js';
import { ResponseStream } from './response-stream.js';
import type { Tunnel } from './tunnel.js';
import { deserializeError, engineResponse, serializeError } from './wire-errors.js';

/** The app thread an exchange runs on, as the exchange needs it. */
export interface ExchangeHost {
  post(message: ToThread): void;
  release(exchange: Exchange): void;
  /** Registers an upgraded connection under the request's id (before the slot is released, so a draining thread waits for it). */
  openTunnel(id: number): Tunnel;
}

/** What an exchange needs from its dispatcher (one object per dispatcher, not per request). */
export interface ExchangeOwner {
  /** 0 = no deadline. Counted from arrival, so reading ahead and queueing count. */
  readonly requestTimeoutMs: number;
  readonly budget: ReadAheadBudget;
  /** A queued exchange gave up its place (deadline, client gone). */
  leaveQueue(exchange: Exchange): void;
}

export type ExchangeState = 'reading' | 'queued' | 'running' | 'finished';

/** Stands in for the listener's removal once it is removed (so `watch()` does not watch again). */
const UNWATCHED = (): void => {};

export class Exchange {
  readonly id: number;
  readonly request: GatewayRequest;
  readonly arrivedAt = Date.now();
  state: ExchangeState = 'queued';
  readonly #owner: ExchangeOwner;
  #host: ExchangeHost | null = null;
  #resolve: (response: GatewayResponse) => void;
  #reject: (error: unknown) => void;
  #answered = false;
  #released = false;
  #abortSent = false;
  #unwatch: (() => void) | null = null;
  #stream: ResponseStream | null = null;
  #timer: NodeJS.Timeout | null = null;
  // Request body: read ahead whole (`#inline`), or its first bytes (`#prefix`) then pumped.
  #inline: Uint8Array | string | null = null;
  #prefix: Uint8Array[] | null = null;
  /** Read-ahead bytes counted against the budget until they leave for the thread. */
  #held = 0;
  #credit = 0;
  #pumping = false;
  /** No more reads: the thread finished or cancelled the body. */
  #bodyStopped = false;
  /** The body's iterator finished (or failed). */
  #bodyEnded = false;
  #bodyIterator: AsyncIterator<Uint8Array> | null = null;

  constructor(id: number, request: GatewayRequest, resolve: (response: GatewayResponse) => void, reject: (error: unknown) => void, owner: ExchangeOwner) {
    this.id = id;
    this.request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#owner = owner;
    if (owner.requestTimeoutMs > 0) this.#timer = setTimeout(() => this.#deadline(), owner.requestTimeoutMs);
  }

  get answered(): boolean {
    return this.#answered;
  }

  /** True once the request has outlived its deadline (decides 504 over 503 when its thread dies). */
  get pastDeadline(): boolean {
    return this.#owner.requestTimeoutMs > 0 && Date.now() - this.arrivedAt >= this.#owner.requestTimeoutMs;
  }

  /** watch() has run (or the exchange is over): the client going away is being listened for. */
  get watching(): boolean {
    return this.#unwatch !== null;
  }

  /** MAIN THREAD: from now on, the client going away (request.signal) ends this exchange. */
  watch(): void {
    if (this.state === 'finished' || this.#unwatch !== null) return;
    const signal = this.request.signal;
    if (signal.aborted) { this.#clientGone(); return; }
    const onAbort = (): void => this.#clientGone();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unwatch = () => signal.removeEventListener('abort', onAbort);
  }

  /**
   * MAIN THREAD: reads the body ahead, up to READ_AHEAD_LIMIT or while the budget lasts.
   * Resolves true when the exchange should go on to a thread, false when it is over already
   * (the body failed, the deadline passed, the client left).
   */
  async readAhead(): Promise<boolean> {
    this.state = 'reading';
    const budget = this.#owner.budget;
    const iterator = this.#bodyIterator = this.request.body[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [];
    let total = 0;
    this.#pumping = true; // a pending read: #closeBody leaves the iterator to this loop
    try {
      while (total < READ_AHEAD_LIMIT) {
        const step = await iterator.next();
        if (this.state !== 'reading') return false;
        if (step.done) {
          this.#bodyEnded = true;
          this.#inline = total <= SMALL_BYTES ? smallBytesToWire(chunks) : joinChunks(chunks, total);
          return true;
        }
        const chunk = step.value;
        chunks.push(chunk);
        total += chunk.byteLength;
        this.#held += chunk.byteLength;
        if (!budget.hold(chunk.byteLength)) break; // the process holds enough: stream the rest
      }
      this.#prefix = chunks;
      return true;
    } catch (error) {
      // The protocol layer has answered already (408, 413, client gone); settle for form's sake.
      this.#bodyEnded = true;
      if (this.state === 'reading') {
        this.#fail(error);
        this.#cleanup();
      }
      return false;
    } finally {
      this.#pumping = false;
      if (this.#bodyStopped) this.#closeBody();
    }
  }

  /** MAIN THREAD: sends the request to its thread. */
  start(host: ExchangeHost): void {
    this.state = 'running';
    this.#host = host;
    const inline = this.#inline;
    host.post(requestMessage(this.id, this.request, inline));
    if (inline !== null) {
      this.#inline = null;
      this.#giveBack();
    }
  }

  /** Answers without running the app (queue full, server stopping). */
  refuse(response: GatewayResponse): void {
    this.state = 'finished';
    this.#answer(response);
    this.#cleanup();
  }

  onMessage(message: FromThread): void {
    switch (message[TAG]) {
      case RESPONSE:
        // Answered already (deadline, client gone) and the thread told to abort: a whole
        // response still means the thread is done with it.
        if (!this.#answered) {
          const body = message[ResponseField.body];
          // Length checks first: reading past a tuple's end is a slow path in V8.
          const length = message.length;
          const trailers = length > ResponseField.trailers ? message[ResponseField.trailers] : undefined;
          this.#answer({
            status: message[ResponseField.status],
            headers: new HeaderList(message[ResponseField.headers]),
            body: length > ResponseField.bytesAsString && message[ResponseField.bytesAsString] === true ? smallBytesFromWire(body as string) : body,
            ...(trailers !== undefined ? { trailers: new HeaderList(trailers) } : {}),
          });
        }
        this.#release();
        return;
      case RESPONSE_STREAM:
        if (this.#answered) return; // the thread ends it with END or DONE
        this.#stream = new ResponseStream(
          (bytes) => { if (!this.#released) this.#host!.post([ACK, this.id, bytes]); },
          () => this.#abortThread(new GatehouseError('ERR_HTTP_CLIENT_GONE')),
        );
        if (message[ResponseField.trailersFollow] === true) {
          const stream = this.#stream;
          this.#answer({ status: message[ResponseField.status], headers: new HeaderList(message[ResponseField.headers]), body: stream, trailers: () => new HeaderList(stream.trailers) });
        } else {
          this.#answer({ status: message[ResponseField.status], headers: new HeaderList(message[ResponseField.headers]), body: this.#stream });
        }
        return;
      case TAKE:
        if (this.#answered) this.#host!.post([TUNNEL_CLOSED, this.id]); // answered already (deadline, client gone): nothing to take
        else {
          const tunnel = this.#host!.openTunnel(this.id);
          this.#answer(takeoverResponse(message[ResponseField.status], (socket, head) => tunnel.attach(socket, head)));
        }
        this.#release();
        return;
      case CHUNK: this.#stream?.push(message[CHUNK_FIELD]); return;
      case END: this.#stream?.end(message[END_TRAILERS_FIELD]); this.#release(); return;
      case INTERIM:
        // Too late once answered: the protocol layer would drop it anyway. Checked on the
        // app thread already; a request that cannot carry one (HTTP/1.0) drops it itself.
        if (!this.#answered) {
          try { this.request.sendInterim?.(message[InterimField.status], new HeaderList(message[InterimField.fields])); } catch { /* checked on the app thread */ }
        }
        return;
      case ERROR: {
        const error = deserializeError(message[ERROR_FIELD]);
        if (!this.#answered) this.#fail(error);
        else this.#stream?.fail(error);
        this.#release();
        return;
      }
      case PULL: this.#credit += message[BYTES_FIELD]; if (!this.#pumping) void this.#pump(); return;
      case BODY_CANCEL: this.#closeBody(); return;
      case DONE:
        if (!this.#answered) this.#answer(engineResponse(new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE'), 1));
        this.#stream?.fail(new GatehouseError('ERR_HTTP_CLIENT_GONE'));
        this.#release();
        return;
      default: return;
    }
  }

  /**
   * Its thread died (crash, stuck, out of memory, cut off at the end of a drain). `respond`:
   * answer with the error's status (503/504, engine-local); otherwise reject (500, the
   * protocol layer's answer to a failed app).
   */
  threadLost(error: GatehouseError, respond: boolean): void {
    if (!this.#answered) {
      if (respond) this.#answer(engineResponse(error, error.status === 503 ? 1 : undefined));
      else this.#fail(error);
    } else {
      this.#stream?.fail(error);
    }
    this.#released = true; // the thread is gone: nothing to tell it
    this.#cleanup();
  }

  #deadline(): void {
    this.#timer = null;
    const error = new GatehouseError('ERR_HTTP_REQUEST_TIMEOUT', `${this.request.method} ${this.request.target} after ${this.#owner.requestTimeoutMs} ms`);
    if (this.#notStarted()) {
      this.#answer(engineResponse(error));
      this.#cleanup();
      return;
    }
    if (!this.#answered) this.#answer(engineResponse(error));
    else this.#stream?.fail(error);
    this.#abortThread(error);
  }

  #clientGone(): void {
    const reason = this.request.signal.reason;
    const error = reason instanceof GatehouseError ? reason : new GatehouseError('ERR_HTTP_CLIENT_GONE');
    if (this.#notStarted()) {
      this.#fail(error);
      this.#cleanup();
      return;
    }
    if (!this.#answered) this.#fail(error);
    else this.#stream?.fail(error);
    this.#abortThread(error);
  }

  /** Ends a request that has no thread yet (reading ahead or queued); true if it was one. */
  #notStarted(): boolean {
    if (this.state === 'queued') {
      this.state = 'finished';
      this.#owner.leaveQueue(this);
      return true;
    }
    if (this.state === 'reading') {
      this.state = 'finished';
      return true;
    }
    return false;
  }

  /** The thread's request signal aborts; the thread answers DONE and frees its slot. */
  #abortThread(error: GatehouseError): void {
    if (this.#released || this.#abortSent || !this.#host) return;
    this.#abortSent = true;
    this.#host.post([ABORT, this.id, serializeError(error, 'ERR_HTTP_CLIENT_GONE')]);
  }

  #answer(response: GatewayResponse): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#resolve(response);
  }

  #fail(error: unknown): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#reject(error);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#cleanup();
    this.#host?.release(this);
  }

  #cleanup(): void {
    this.state = 'finished';
    if (this.#timer !== null) { clearTimeout(this.#timer); this.#timer = null; }
    if (this.#unwatch !== null) { this.#unwatch(); this.#unwatch = UNWATCHED; }
    this.#closeBody();
  }

  /** Read-ahead bytes are no longer held by the main thread. */
  #giveBack(): void {
    if (this.#held === 0) return;
    this.#owner.budget.give(this.#held);
    this.#held = 0;
  }

  /** MAIN THREAD: sends the body's read-ahead bytes, then reads the socket side only while the app thread has granted credit. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    const host = this.#host!;
    try {
      const prefix = this.#prefix;
      if (prefix !== null) {
        while (prefix.length > 0 && this.#credit > 0 && !this.#bodyStopped) {
          const chunk = prefix.shift()!;
          this.#credit -= chunk.byteLength;
          host.post([BODY, this.id, wireBytes(chunk)]);
        }
        if (prefix.length > 0) return;
        this.#prefix = null;
        this.#giveBack();
      }
      this.#bodyIterator ??= this.request.body[Symbol.asyncIterator]();
      while (this.#credit > 0 && !this.#bodyStopped && !this.#bodyEnded) {
        const step = await this.#bodyIterator.next();
        if (step.done) this.#bodyEnded = true;
        if (this.#bodyStopped) break;
        if (step.done) {
          host.post([BODY_END, this.id]);
          break;
        }
        this.#credit -= step.value.byteLength;
        host.post([BODY, this.id, wireBytes(step.value)]);
      }
    } catch (error) {
      this.#bodyEnded = true;
      if (!this.#bodyStopped) host.post([BODY_ERROR, this.id, serializeError(error, 'ERR_HTTP_CLIENT_GONE')]);
    } finally {
      this.#pumping = false;
      if (this.#bodyStopped) this.#closeBody();
    }
  }

  /** Stops pumping and gives the unread rest of the body back to the protocol layer (which discards it). */
  #closeBody(): void {
    this.#bodyStopped = true;
    this.#prefix = null;
    this.#inline = null;
    this.#giveBack();
    const iterator = this.#bodyIterator;
    if (!iterator || this.#pumping) return; // the pump (or read-ahead) closes it when its read returns
    this.#bodyIterator = null;
    if (!this.#bodyEnded) void iterator.return?.()?.catch(() => {});
  }
}
