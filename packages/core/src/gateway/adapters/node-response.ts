/*
 * The `res` a node:http listener gets: a real http.ServerResponse whose transport is replaced.
 * node's own code still runs everything apps observe (setHeader/getHeader/appendHeader and
 * their validation, writeHead's merging of headers, statusMessage, HEAD/204/304 having no body,
 * write-after-end errors, 'finish' and end() callbacks); what changes is where the bytes go.
 * Two internal hooks that node:http itself routes every response through are replaced:
 *   _storeHeader(statusLine, headers)  receives the final header set once (writeHead, or the
 *                                      implicit header of the first write/end);
 *   _send(data, encoding, callback)    receives each body chunk.
 * plus end(), wrapped to mark the end of the body. They are own properties, assigned in the
 * constructor, because Express swaps the prototype of every response it handles
 * (Object.setPrototypeOf(res, app.response)) and would drop subclass methods.
 *
 * The GatewayResponse is resolved in the microtask after the first chunk (or end): an app that
 * answers in one go (res.send, res.json, res.end(body)) gives one string/Uint8Array body the
 * protocol layer can send with a Content-Length; anything else gets a streamed body fed by
 * write(), where write() returns false past the high-water mark and 'drain' follows when the
 * protocol layer has taken what was queued (so pipe() and stream.pipeline pace themselves).
 *
 * 'finish' means: the whole body has been handed to Gatehouse's protocol layer.
 *
 * Gateway 1.1 maps two more node APIs: writeEarlyHints() becomes request.sendInterim(103) (a
 * client that cannot take it, HTTP/1.0 or a response already under way, does not get it), and
 * addTrailers() becomes the response's trailers (sent when the request accepts them: a whole
 * body carries the fields it had at end(); a streamed one gets a function read once its body
 * has ended, so trailers added up to end() go).
 */
import http from 'node:http';
import { HeaderList } from '../headers.js';
import type { GatewayResponse, ResponseBody, ResponseHeaders } from '../types.js';
import { isServerOwned } from './server-owned.js';
import { SOCKET_HIGH_WATER_MARK, unsupported, type GatewaySocket } from './node-socket.js';
import type { GatewayIncomingMessage } from './node-request.js';

const kState = Symbol('gatehouse.response');
const outgoingEnd = http.OutgoingMessage.prototype.end as (this: http.OutgoingMessage, ...args: unknown[]) => unknown;
/** node's private slot for headers set with setHeader; writeHead passes it to _storeHeader. */
const outgoingSymbols = Object.getOwnPropertySymbols(new http.OutgoingMessage());
const kOutHeaders: symbol | undefined = outgoingSymbols.find((s) => s.description === 'kOutHeaders');
/** node's write() sets it when write returns false; its writableNeedDrain getter reads it; whoever emits 'drain' clears it. */
const kNeedDrain: symbol | undefined = outgoingSymbols.find((s) => s.description === 'kNeedDrain');
const resolved = Promise.resolve();

/** What the response tells the exchange that created it. Runs on the app's event loop. */
export interface ResponseOwner {
  /** Headers are known (and maybe the whole body): resolve the app's promise. */
  respond(response: GatewayResponse): void;
  /** The whole body has been handed over and 'finish' emitted. */
  finished(): void;
  /** The protocol layer stopped reading the body before its end (the client went away). */
  abandoned(): void;
  /** res.writeEarlyHints: an interim response before the final one. */
  interim(status: number, headers: ResponseHeaders): void;
}

interface Pending {
  readonly data: string | Uint8Array;
  readonly encoding: BufferEncoding | null;
  readonly callback: ((error?: Error | null) => void) | null;
}

type Callback = (error?: Error | null) => void;
type AdaptedResponse = http.ServerResponse & {
  [kState]: ResponseState;
  _header: string | null;
  _hasBody: boolean;
  outputSize: number;
  _sent100: boolean;
};

export class GatewayServerResponse extends http.ServerResponse {
  declare [kState]: ResponseState;

  constructor(req: GatewayIncomingMessage, socket: GatewaySocket, owner: ResponseOwner) {
    super(req);
    const self = this as unknown as Record<string | symbol, unknown>;
    self[kState] = new ResponseState(this as unknown as AdaptedResponse, socket, owner);
    self._storeHeader = storeHeader;
    self._send = send;
    self.end = end;
    self.writeContinue = writeContinue;
    self.writeProcessing = writeProcessing;
    self.writeEarlyHints = writeEarlyHints;
    self.addTrailers = addTrailers;
    self.assignSocket = assignSocket;
    self.detachSocket = detachSocket;
    if (kNeedDrain === undefined) Object.defineProperty(self, 'writableNeedDrain', { get: needDrain, configurable: true, enumerable: false });
    self.socket = socket;
    socket._httpMessage = this;
  }

  /** Ends the exchange from outside: the client went away or the app failed after responding. */
  static abort(res: GatewayServerResponse, error: Error): void {
    res[kState].fail(error);
  }

  static isSettled(res: GatewayServerResponse): boolean {
    return res[kState].settled;
  }
}

// ---- the own-property overrides (`this` is the response, whatever its prototype now is) ----

function storeHeader(this: AdaptedResponse, statusLine: string, headers: unknown): void {
  const status = this.statusCode;
  if (status < 200) {
    throw unsupported(`res.writeHead(${status})`, 'a Gatehouse app sends one final response; 1xx informational responses (101 upgrade, 102, 103 early hints) cannot be sent');
  }
  this[kState].head = collectHeaders(this, headers);
  // Truthy `_header` is what node's headersSent, setHeader's ERR_HTTP_HEADERS_SENT and
  // morgan-style checks look at. The head itself is rendered by the protocol layer.
  this._header = statusLine;
}

function send(this: AdaptedResponse, data: string | Uint8Array, encoding?: BufferEncoding | Callback | null, callback?: Callback | null): boolean {
  if (typeof encoding === 'function') { callback = encoding; encoding = null; }
  return this[kState].push(data, encoding ?? null, callback ?? null);
}

function end(this: AdaptedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): AdaptedResponse {
  const state = this[kState];
  if (this.finished) return outgoingEnd.call(this, chunk, encoding, callback) as AdaptedResponse;
  state.ending = true;
  try {
    outgoingEnd.call(this, chunk, encoding, callback);
  } finally {
    state.ending = false;
  }
  if (this.finished) state.end();
  return this;
}

/** 100 Continue is sent by the protocol layer when the app first reads the body. */
function writeContinue(this: AdaptedResponse, callback?: () => void): void {
  this._sent100 = true;
  if (callback) process.nextTick(callback);
}

function writeProcessing(): never {
  throw unsupported('res.writeProcessing()', '102 Processing is an interim response; a Gatehouse app sends one final response');
}

/**
 * node's writeEarlyHints(hints, callback): `hints.link` (a string or strings, joined as node
 * joins them) is required, as in node, where nothing is sent without it; other keys are more fields.
 */
function writeEarlyHints(this: AdaptedResponse, hints: Record<string, unknown>, callback?: () => void): void {
  if (hints === null || typeof hints !== 'object') throw Object.assign(new TypeError('The "hints" argument must be of type object'), { code: 'ERR_INVALID_ARG_TYPE' });
  const link = hints.link;
  if (link === null || link === undefined) return;
  const links = Array.isArray(link) ? link.map(String) : [String(link)];
  if (links.length === 0) return;
  const fields: Array<[string, string]> = [['link', links.join(', ')]];
  for (const key of Object.keys(hints)) {
    if (key === 'link') continue;
    const value = hints[key];
    if (Array.isArray(value)) for (const item of value) fields.push([key, String(item)]);
    else fields.push([key, String(value)]);
  }
  this[kState].interim(103, fields);
  if (callback) process.nextTick(callback);
}

/** node's addTrailers(headers): an object or [name, value] pairs, checked as node checks them; each call replaces the last. */
function addTrailers(this: AdaptedResponse, headers: Record<string, unknown> | ReadonlyArray<readonly [string, unknown]>): void {
  const flat: string[] = [];
  const entries = Array.isArray(headers) ? headers as ReadonlyArray<readonly [string, unknown]> : Object.entries(headers as Record<string, unknown>);
  for (const [name, value] of entries) {
    http.validateHeaderName(name);
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      http.validateHeaderValue(name, item as string);
      flat.push(name.toLowerCase(), String(item));
    }
  }
  this[kState].trailers = flat;
}

function assignSocket(): never {
  throw unsupported('res.assignSocket()');
}

function detachSocket(): never {
  throw unsupported('res.detachSocket()');
}

function needDrain(this: AdaptedResponse): boolean {
  return !this.destroyed && !this.finished && this[kState].needDrain;
}

// ---- headers ---------------------------------------------------------------------------

/**
 * The header set _storeHeader receives, as node's writeHead hands it over: node's own
 * setHeader store ({ lower: [name, value] }, already validated), or what the app passed to
 * writeHead alone (an object, a flat [name, value, ...] array, or an array of pairs), which
 * node validates here and so do we.
 */
function collectHeaders(res: AdaptedResponse, headers: unknown): string[] {
  const flat: string[] = [];
  if (headers === null || headers === undefined) return flat;
  const store = kOutHeaders ? (res as unknown as Record<symbol, unknown>)[kOutHeaders] : undefined;
  if (headers === store || (!kOutHeaders && Object.getPrototypeOf(headers) === null)) {
    for (const key in headers as Record<string, [string, unknown]>) {
      const entry = (headers as Record<string, [string, unknown]>)[key]!;
      add(flat, key, entry[1], false);
    }
  } else if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as Array<[string, unknown]>) add(flat, pair[0], pair[1], true);
    } else {
      for (let i = 0; i < headers.length; i += 2) add(flat, headers[i] as string, headers[i + 1], true);
    }
  } else {
    for (const name of Object.keys(headers as object)) add(flat, name, (headers as Record<string, unknown>)[name], true);
  }
  return flat;
}

function add(flat: string[], name: string, value: unknown, validate: boolean): void {
  if (validate) {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value as string);
  }
  const lower = name.toLowerCase();
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = String(item);
      if (!isServerOwned(lower, text)) flat.push(lower, text);
    }
  } else {
    const text = String(value);
    if (!isServerOwned(lower, text)) flat.push(lower, text);
  }
}

// ---- the body: a queue between write() and the protocol layer ---------------------------

const UTF8 = new Set<string | null>([null, 'utf8', 'utf-8']);

function toBytes(item: Pending): Uint8Array {
  const { data } = item;
  if (typeof data !== 'string') return data;
  return Buffer.from(data, item.encoding ?? 'utf8');
}

class ResponseState implements AsyncIterator<Uint8Array> {
  head: string[] = [];
  /** What addTrailers() set, flat; null when it was never called. */
  trailers: string[] | null = null;
  ending = false;
  settled = false;
  needDrain = false;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #ended = false;
  #scheduled = false;
  #finishCallback: Callback | null = null;
  #failure: Error | null = null;
  #done = false;
  #waiter: { resolve: (result: IteratorResult<Uint8Array>) => void; reject: (error: Error) => void } | null = null;
  readonly #res: AdaptedResponse;
  readonly #socket: GatewaySocket;
  readonly #owner: ResponseOwner;

  constructor(res: AdaptedResponse, socket: GatewaySocket, owner: ResponseOwner) {
    this.#res = res;
    this.#socket = socket;
    this.#owner = owner;
  }

  /** From _send. Returns what write() returns: false once the queue is past the high-water mark. */
  push(data: string | Uint8Array, encoding: BufferEncoding | null, callback: Callback | null): boolean {
    if (this.ending && data.length === 0) {
      // end()'s final _send('', 'latin1', finish): its callback emits 'finish'.
      this.#finishCallback = callback;
      return true;
    }
    if (this.#failure !== null) {
      // Like node writing to a destroyed socket: the data goes nowhere.
      return false;
    }
    this.#socket.touch();
    if (data.length > 0) {
      this.#queue.push({ data, encoding, callback });
      this.#queuedBytes += data.length;
      this.#res.outputSize = this.#queuedBytes;
    } else if (callback) {
      process.nextTick(callback);
    }
    this.#schedule();
    this.#wake();
    if (this.#queuedBytes < SOCKET_HIGH_WATER_MARK) return true;
    this.needDrain = true;
    return false;
  }

  interim(status: number, headers: ResponseHeaders): void {
    this.#owner.interim(status, headers);
  }

  /** end() completed: nothing more will be written. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#schedule();
    this.#wake();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A promise job rather than queueMicrotask, which wraps each callback in an AsyncResource.
    void resolved.then(() => this.#settle());
  }

  #settle(): void {
    if (this.settled || this.#failure !== null) return;
    this.settled = true;
    const res = this.#res;
    let body: ResponseBody;
    if (this.#ended) {
      body = this.#takeWhole();
      process.nextTick(() => this.#finish());
      const trailers = this.trailers;
      if (trailers !== null) {
        this.#owner.respond({ status: res.statusCode, headers: new HeaderList(this.head), body, trailers: new HeaderList(trailers) });
        return;
      }
    } else {
      body = { [Symbol.asyncIterator]: () => this };
      // Trailers may still be added before end(): read them once the body has ended.
      this.#owner.respond({ status: res.statusCode, headers: new HeaderList(this.head), body, trailers: () => new HeaderList(this.trailers ?? []) });
      return;
    }
    this.#owner.respond({ status: res.statusCode, headers: new HeaderList(this.head), body });
  }

  /** The whole body in one piece, when end() came before the response was handed over. */
  #takeWhole(): string | Uint8Array | null {
    const queue = this.#queue;
    if (queue.length === 0 || !this.#res._hasBody) return null;
    if (queue.length === 1) {
      const only = queue[0]!;
      return typeof only.data === 'string' && UTF8.has(only.encoding) ? only.data : toBytes(only);
    }
    return Buffer.concat(queue.map(toBytes));
  }

  /** Everything was handed over: write callbacks, then 'finish' (node's onFinish). */
  #finish(): void {
    if (this.#done || this.#failure !== null) return;
    this.#done = true;
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#res.outputSize = 0;
    for (const item of queue) item.callback?.();
    this.#finishCallback?.();
    this.#owner.finished();
  }

  // AsyncIterator: the streamed body, pulled by the protocol layer.

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const item = this.#shift();
    if (item !== null) return Promise.resolve({ done: false, value: item });
    if (this.#ended) {
      this.#finish();
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => { this.#waiter = { resolve, reject }; });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#done && this.#failure === null) this.#owner.abandoned();
    return Promise.resolve({ done: true, value: undefined });
  }

  #shift(): Uint8Array | null {
    const queue = this.#queue;
    while (queue.length > 0) {
      const item = queue.shift()!;
      this.#queuedBytes -= item.data.length;
      this.#res.outputSize = this.#queuedBytes;
      if (item.callback) process.nextTick(item.callback);
      if (this.needDrain && this.#queuedBytes === 0) {
        this.needDrain = false;
        if (kNeedDrain !== undefined) (this.#res as unknown as Record<symbol, boolean>)[kNeedDrain] = false;
        process.nextTick(() => { if (!this.#res.destroyed) this.#res.emit('drain'); });
      }
      if (item.data.length > 0) return toBytes(item);
    }
    return null;
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === null) return;
    if (this.#failure !== null) {
      this.#waiter = null;
      waiter.reject(this.#failure);
      return;
    }
    const item = this.#shift();
    if (item !== null) {
      this.#waiter = null;
      waiter.resolve({ done: false, value: item });
    } else if (this.#ended) {
      this.#waiter = null;
      this.#finish();
      waiter.resolve({ done: true, value: undefined });
    }
  }

  /** The exchange ends without a finished response: a waiting protocol layer sees the error. */
  fail(error: Error): void {
    if (this.#failure !== null || this.#done) return;
    this.#failure = error;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#res.outputSize = 0;
    this.#wake();
  }
}
