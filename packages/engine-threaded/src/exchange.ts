/*
 * MAIN THREAD. One request's life on the main side: queued, then running on an app thread,
 * then answered (the dispatch promise settled) and released (the thread no longer holds a
 * concurrency slot for it). The two ends are separate on purpose: a request answered 504 at
 * its deadline still occupies its thread until the thread confirms it let go (`done`), so a
 * thread's in-flight count is the truth about its load. A thread that never confirms is
 * stuck, and the heartbeat check deals with it.
 */
import { HeaderList, GatehouseError, type GatewayRequest, type GatewayResponse, type RequestHead } from '@gatehouse/core';
import { wireBytes, type FromThread, type ToThread } from './messages.js';
import { ResponseStream } from './response-stream.js';
import { deserializeError, engineResponse, serializeError } from './wire-errors.js';

/** The app thread an exchange runs on, as the exchange needs it. */
export interface ExchangeHost {
  post(message: ToThread): void;
  release(exchange: Exchange): void;
}

export type ExchangeState = 'queued' | 'running' | 'finished';

export interface ExchangeOptions {
  /** 0 = no deadline. Counted from arrival, so queueing time counts. */
  readonly requestTimeoutMs: number;
  /** Called when a queued exchange gives up its place (deadline, client gone). */
  readonly leaveQueue: (exchange: Exchange) => void;
}

export class Exchange {
  readonly id: number;
  readonly request: GatewayRequest;
  readonly arrivedAt = Date.now();
  state: ExchangeState = 'queued';
  #host: ExchangeHost | null = null;
  #resolve: (response: GatewayResponse) => void;
  #reject: (error: unknown) => void;
  #answered = false;
  #released = false;
  #abortSent = false;
  #stream: ResponseStream | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #options: ExchangeOptions;
  readonly #onSignal = () => this.#clientGone();
  // Request-body pump state.
  #credit = 0;
  #pumping = false;
  /** No more reads: the thread finished or cancelled the body. */
  #bodyStopped = false;
  /** The body's iterator finished (or failed). */
  #bodyEnded = false;
  #bodyIterator: AsyncIterator<Uint8Array> | null = null;

  constructor(id: number, request: GatewayRequest, resolve: (response: GatewayResponse) => void, reject: (error: unknown) => void, options: ExchangeOptions) {
    this.id = id;
    this.request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#options = options;
    if (options.requestTimeoutMs > 0) this.#timer = setTimeout(() => this.#deadline(), options.requestTimeoutMs);
    request.signal.addEventListener('abort', this.#onSignal, { once: true });
  }

  get answered(): boolean {
    return this.#answered;
  }

  /** True once the request has outlived its deadline (decides 504 over 503 when its thread dies). */
  get pastDeadline(): boolean {
    return this.#options.requestTimeoutMs > 0 && Date.now() - this.arrivedAt >= this.#options.requestTimeoutMs;
  }

  /** MAIN THREAD: sends the request to its thread. */
  start(host: ExchangeHost): void {
    this.state = 'running';
    this.#host = host;
    host.post({ t: 'request', id: this.id, head: headOf(this.request) });
  }

  /** Answers without running the app (queue full, server stopping). */
  refuse(response: GatewayResponse): void {
    this.state = 'finished';
    this.#answer(response);
    this.#cleanup();
  }

  onMessage(message: FromThread): void {
    switch (message.t) {
      case 'response': {
        if (this.#answered) {
          // Answered already (deadline, client gone) and the thread told to abort. A whole
          // response means the thread is done with it; a stream ends with `end` or `done`.
          if (!message.stream) this.#release();
          return;
        }
        const headers = new HeaderList(message.headers);
        if (!message.stream) {
          this.#answer({ status: message.status, headers, body: message.body });
          this.#release();
        } else {
          this.#stream = new ResponseStream(
            (bytes) => { if (!this.#released) this.#host!.post({ t: 'ack', id: this.id, bytes }); },
            () => this.#abortThread(new GatehouseError('ERR_HTTP_CLIENT_GONE')),
          );
          this.#answer({ status: message.status, headers, body: this.#stream });
        }
        return;
      }
      case 'chunk': this.#stream?.push(message.chunk); return;
      case 'end': this.#stream?.end(); this.#release(); return;
      case 'error': {
        const error = deserializeError(message.error);
        if (!this.#answered) this.#fail(error);
        else this.#stream?.fail(error);
        this.#release();
        return;
      }
      case 'pull': this.#credit += message.bytes; if (!this.#pumping) void this.#pump(); return;
      case 'body-cancel': this.#closeBody(); return;
      case 'done':
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
    const error = new GatehouseError('ERR_HTTP_REQUEST_TIMEOUT', `${this.request.method} ${this.request.target} after ${this.#options.requestTimeoutMs} ms`);
    if (this.state === 'queued') {
      this.state = 'finished';
      this.#options.leaveQueue(this);
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
    if (this.state === 'queued') {
      this.state = 'finished';
      this.#options.leaveQueue(this);
      this.#fail(error);
      this.#cleanup();
      return;
    }
    if (!this.#answered) this.#fail(error);
    else this.#stream?.fail(error);
    this.#abortThread(error);
  }

  /** The thread's request signal aborts; the thread answers `done` and frees its slot. */
  #abortThread(error: GatehouseError): void {
    if (this.#released || this.#abortSent || !this.#host) return;
    this.#abortSent = true;
    this.#host.post({ t: 'abort', id: this.id, error: serializeError(error, 'ERR_HTTP_CLIENT_GONE') });
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
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
    this.request.signal.removeEventListener('abort', this.#onSignal);
    this.#closeBody();
  }

  /** MAIN THREAD: reads the socket side of the body only while the app thread has granted credit. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      this.#bodyIterator ??= this.request.body[Symbol.asyncIterator]();
      while (this.#credit > 0 && !this.#bodyStopped && !this.#bodyEnded) {
        const step = await this.#bodyIterator.next();
        if (step.done) this.#bodyEnded = true;
        if (this.#bodyStopped) break;
        if (step.done) {
          this.#host!.post({ t: 'body-end', id: this.id });
          break;
        }
        this.#credit -= step.value.byteLength;
        this.#host!.post({ t: 'body', id: this.id, chunk: wireBytes(step.value) });
      }
    } catch (error) {
      this.#bodyEnded = true;
      if (!this.#bodyStopped) this.#host!.post({ t: 'body-error', id: this.id, error: serializeError(error, 'ERR_HTTP_CLIENT_GONE') });
    } finally {
      this.#pumping = false;
      if (this.#bodyStopped) this.#closeBody();
    }
  }

  /** Stops pumping and gives the unread rest of the body back to the protocol layer (which discards it). */
  #closeBody(): void {
    this.#bodyStopped = true;
    const iterator = this.#bodyIterator;
    if (!iterator || this.#pumping) return; // the pump closes it when its read returns
    this.#bodyIterator = null;
    if (!this.#bodyEnded) void iterator.return?.()?.catch(() => {});
  }
}

/** The plain-data half of a request: what crosses to the app thread. */
export function headOf(request: GatewayRequest): RequestHead {
  return {
    method: request.method,
    target: request.target,
    path: request.path,
    query: request.query,
    httpVersion: request.httpVersion,
    rawHeaders: request.headers.raw,
    scheme: request.scheme,
    remote: { address: request.remote.address, port: request.remote.port },
    server: { address: request.server.address, port: request.server.port },
    bodyLength: request.body.length,
  };
}
