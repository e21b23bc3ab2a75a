/*
 * The `req` a node:http listener gets: a real http.IncomingMessage (so `instanceof`, the
 * header getters and node's duplicate-header rules are node's own), fed from the
 * GatewayRequest instead of a socket. The body is pulled from request.body only when the
 * Readable asks (`_read`), one chunk per call: an app that does not read does not make the
 * server buffer, and a slow reader slows the upload (backpressure through the protocol layer).
 *
 * Express replaces the prototype of every request it handles (Object.setPrototypeOf(req,
 * app.request), whose chain still ends in IncomingMessage.prototype). Anything this adapter
 * changes must therefore be an own property of the instance, not a method of a subclass: the
 * overrides (`_read`, `_destroy`) are assigned in the constructor, and state lives behind a
 * symbol.
 */
import http from 'node:http';
import type { GatewayRequest } from '../types.js';
import type { GatewaySocket } from './node-socket.js';

const kBody = Symbol('gatehouse.requestBody');

interface BodyState {
  readonly request: GatewayRequest;
  iterator: AsyncIterator<Uint8Array> | null;
  pulling: boolean;
  /** The body source failed (client gone, too large, timed out): the protocol layer handles the connection. */
  sourceFailed: boolean;
}

type AdaptedRequest = http.IncomingMessage & { [kBody]: BodyState; _readableState: { readingMore: boolean }; _consuming: boolean; _dumped: boolean; _addHeaderLines(raw: string[], n: number): void };

export class GatewayIncomingMessage extends http.IncomingMessage {
  declare [kBody]: BodyState;

  constructor(socket: GatewaySocket, request: GatewayRequest) {
    super(socket as never);
    const self = this as unknown as AdaptedRequest;
    self[kBody] = { request, iterator: null, pulling: false, sourceFailed: false };
    self._read = readBody;
    self._destroy = destroyRequest;
    this.method = request.method;
    this.url = request.target;
    this.httpVersion = request.httpVersion;
    this.httpVersionMajor = 1;
    this.httpVersionMinor = request.httpVersion === '1.0' ? 0 : 1;
    (this as unknown as { upgrade: boolean }).upgrade = false;
    // node's own bookkeeping: `headers`, `headersDistinct` are computed lazily from these by
    // IncomingMessage's getters, with node's rules for duplicates (set-cookie an array, most
    // fields comma-joined, singletons such as content-type keep the first).
    const raw = request.headers.raw;
    self._addHeaderLines(raw.slice(), raw.length);
    // As node does for a request without a body: complete at once, 'end' on first read
    // (pushed by readBody, so a request nobody reads costs no stream work at all).
    if (request.body.length === 0) this.complete = true;
  }
}

/** Readable._read, as an own property. Runs on the app's event loop. */
function readBody(this: AdaptedRequest): void {
  if (!this._consuming) {
    // IncomingMessage starts with readingMore set (its parser pushes unasked); a pulled
    // stream needs Readable's read-ahead back, as node's own _read does on first call.
    this._readableState.readingMore = false;
    this._consuming = true;
  }
  const state = this[kBody];
  if (state.pulling) return;
  if (state.request.body.length === 0) {
    this.push(null);
    return;
  }
  if (this._dumped && state.iterator === null) {
    // node dumps an unread body once the response is finished; the protocol layer discards
    // the bytes itself, so the stream just ends.
    this.complete = true;
    this.push(null);
    return;
  }
  state.pulling = true;
  state.iterator ??= state.request.body[Symbol.asyncIterator]();
  state.iterator.next().then(
    (result) => {
      state.pulling = false;
      if (this.destroyed) return;
      if (result.done) {
        this.complete = true;
        this.push(null);
      } else {
        const chunk = result.value;
        this.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    },
    (error: Error) => {
      state.pulling = false;
      state.sourceFailed = true;
      this.destroy(error);
    },
  );
}

/**
 * Readable._destroy, as an own property: node's version waits on the real socket with
 * stream.finished(), which the stand-in is not.
 */
function destroyRequest(this: AdaptedRequest, error: Error | null, callback: (error?: Error | null) => void): void {
  if (!this.readableEnded || !this.complete) {
    this.aborted = true;
    this.emit('aborted');
  }
  const state = this[kBody];
  if (state.iterator !== null && !this.complete) {
    // Tell the body source nobody will read the rest (RequestBody forwards return() as cancel()).
    state.iterator.return?.().catch(() => {});
  }
  const socket = this.socket as unknown as GatewaySocket;
  // An app that destroys its request (to refuse an upload) closes the connection, as in node.
  if (this.aborted && !state.sourceFailed && !socket.destroyed) socket.destroy(error ?? undefined);
  process.nextTick(() => callback(this.listenerCount('error') === 0 ? null : error));
}

/** node's connResetException('aborted'): what req emits when the client goes away mid-request. */
export function abortedError(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}
