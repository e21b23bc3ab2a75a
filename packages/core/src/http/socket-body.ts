/*
 * A request body as a BodySource over the connection (runs on the connection's event loop).
 * The connection pushes dechunked bytes as the parser yields them; the app pulls. Bytes
 * are buffered only up to a high-water mark: past it push() returns false and the connection
 * stops reading the socket, and a pull that brings the buffer back under it lets reading
 * resume. That is the whole of request-side backpressure: an app that never reads a large
 * upload holds at most one high-water mark of it (plus one socket read), the rest stays in
 * the kernel and, past its buffers, in the client.
 *
 * The first pull tells the connection, which is what sends `100 Continue` to a client that
 * is waiting for it (RFC 9110 §10.1.1). A pull that has to wait tells it too (the body-read
 * timeout runs only while someone is waiting for bytes that do not come).
 */
import type { BodySource } from '../gateway/body-source.js';

/** What the body needs from its connection. */
export interface BodyHost {
  /** The first pull: send `100 Continue` if the client expects it. */
  bodyFirstPull(): void;
  /** A pull is now waiting for bytes (true) or got them (false). */
  bodyWaiting(waiting: boolean): void;
  /** Buffered bytes fell under the high-water mark: reading may resume. */
  bodyDrained(): void;
  /** The reader will not pull again: drop what is buffered and what is still to come. */
  bodyCancelled(): void;
}

export class SocketBody implements BodySource {
  readonly length: number | null;
  readonly #host: BodyHost;
  readonly #highWaterMark: number;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: unknown = null;
  #cancelled = false;
  #pulled = false;
  #resolve: ((chunk: Uint8Array | null) => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  constructor(host: BodyHost, length: number | null, highWaterMark: number) {
    this.#host = host;
    this.length = length;
    this.#highWaterMark = highWaterMark;
  }

  /** Bytes received and not yet pulled. */
  get buffered(): number { return this.#buffered; }
  /** No more bytes will come (end, error, or cancel). */
  get finished(): boolean { return this.#ended || this.#error !== null || this.#cancelled; }
  get cancelled(): boolean { return this.#cancelled; }
  /** The app has pulled at least once. */
  get pulled(): boolean { return this.#pulled; }
  /** A pull is waiting for bytes. */
  get waiting(): boolean { return this.#resolve !== null; }

  /**
   * Connection side: body bytes arrived (a view: copied here, since the parser may reuse
   * its memory). Returns false when the buffer is over its high-water mark: stop reading.
   */
  push(view: Uint8Array): boolean {
    if (this.#cancelled || this.#error !== null || view.byteLength === 0) return true;
    const chunk = Buffer.from(view);
    const resolve = this.#resolve;
    if (resolve !== null) {
      this.#resolve = null;
      this.#reject = null;
      this.#host.bodyWaiting(false);
      resolve(chunk);
      return true;
    }
    this.#queue.push(chunk);
    this.#buffered += chunk.byteLength;
    return this.#buffered < this.#highWaterMark;
  }

  /** Connection side: the message is complete. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const resolve = this.#resolve;
    if (resolve !== null && this.#queue.length === 0) {
      this.#resolve = null;
      this.#reject = null;
      this.#host.bodyWaiting(false);
      resolve(null);
    }
  }

  /** Connection side: the body cannot complete (client gone, timeout, framing error). */
  fail(error: unknown): void {
    if (this.#ended && this.#queue.length === 0) return;
    if (this.#error !== null) return;
    this.#error = error;
    this.#queue = [];
    this.#buffered = 0;
    const reject = this.#reject;
    if (reject !== null) {
      this.#resolve = null;
      this.#reject = null;
      this.#host.bodyWaiting(false);
      reject(error);
    }
  }

  pull(): Promise<Uint8Array | null> {
    if (!this.#pulled) {
      this.#pulled = true;
      this.#host.bodyFirstPull();
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      const wasFull = this.#buffered >= this.#highWaterMark;
      this.#buffered -= chunk.byteLength;
      if (wasFull && this.#buffered < this.#highWaterMark) this.#host.bodyDrained();
      return Promise.resolve(chunk);
    }
    if (this.#ended || this.#cancelled) return Promise.resolve(null);
    if (this.#resolve !== null) return Promise.reject(new Error('SocketBody: pull() while another pull is pending'));
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#host.bodyWaiting(true);
    });
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#queue = [];
    this.#buffered = 0;
    const resolve = this.#resolve;
    if (resolve !== null) {
      this.#resolve = null;
      this.#reject = null;
      this.#host.bodyWaiting(false);
      resolve(null);
    }
    this.#host.bodyCancelled();
  }
}
