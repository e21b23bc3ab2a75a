/*
 * APP THREAD. The GatewayRequest an app thread hands the app, re-created from a REQUEST
 * message. Same fields as core's createRequest() builds, except that the AbortSignal is made
 * on first use (as core's own connection does): an AbortController costs ~2.4 µs in Node 20,
 * more than the rest of a small request's handling on this side, and most apps never look at
 * it. All fields are own data properties except `signal` (a getter on the prototype).
 */
import { HeaderList, RequestBody, type BodySource, type GatewayRequest, type SocketAddress } from '@gatehouse/core/app-runtime';
import type { RequestMessage } from './messages.js';

export class ThreadRequest implements GatewayRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly headers: HeaderList;
  readonly scheme: 'http' | 'https';
  readonly remote: SocketAddress;
  readonly server: SocketAddress;
  readonly body: RequestBody;
  #controller: AbortController | null = null;
  #aborted = false;
  #reason: unknown = undefined;

  constructor(message: RequestMessage, body: BodySource | null) {
    this.method = message[2];
    this.target = message[3];
    this.path = message[4];
    this.query = message[5];
    this.httpVersion = message[6];
    this.headers = new HeaderList(message[7] as string[]);
    this.scheme = message[8];
    this.remote = { address: message[9], port: message[10] };
    this.server = { address: message[11], port: message[12] };
    this.body = new RequestBody(body);
  }

  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === null) {
      controller = this.#controller = new AbortController();
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  /** The main thread said the client went away or the deadline passed. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** A body the main thread read whole before dispatch (read-ahead.ts): it came inside the request message. */
export class InlineBody implements BodySource {
  readonly length: number | null;
  #bytes: Uint8Array | null;

  /** `length` as the request declared it (null when it was chunked). */
  constructor(length: number | null, bytes: Uint8Array) {
    this.length = length;
    this.#bytes = bytes;
  }

  pull(): Promise<Uint8Array | null> {
    const bytes = this.#bytes;
    this.#bytes = null;
    return Promise.resolve(bytes !== null && bytes.byteLength > 0 ? bytes : null);
  }

  cancel(): void {
    this.#bytes = null;
  }
}
