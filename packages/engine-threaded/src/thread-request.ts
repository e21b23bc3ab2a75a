/*
 * APP THREAD. The GatewayRequest an app thread hands the app, re-created from a REQUEST
 * message: core's AbortableRequest (signal made on first use, as core's own connection does),
 * aborted when the main thread says the client went away or the deadline passed.
 */
import { AbortableRequest, type BodySource } from '@gatehouse/core/app-runtime';
import { RequestField as F, smallBytesFromWire, type RequestMessage } from './messages.js';

export class ThreadRequest extends AbortableRequest {
  constructor(message: RequestMessage, body: BodySource | null) {
    super(message[F.method], message[F.target], message[F.path], message[F.query], message[F.httpVersion], message[F.rawHeaders] as string[],
      message[F.scheme], { address: message[F.remoteAddress], port: message[F.remotePort] },
      { address: message[F.serverAddress], port: message[F.serverPort] }, body);
  }
}

/** A body the main thread read whole before dispatch (read-ahead.ts): it came inside the request message. */
export class InlineBody implements BodySource {
  readonly length: number | null;
  #bytes: Uint8Array | string | null;

  /** `length` as the request declared it (null when it was chunked); `bytes` in its crossing form. */
  constructor(length: number | null, bytes: Uint8Array | string) {
    this.length = length;
    this.#bytes = bytes;
  }

  pull(): Promise<Uint8Array | null> {
    const wire = this.#bytes;
    this.#bytes = null;
    if (wire === null || wire.length === 0) return Promise.resolve(null);
    return Promise.resolve(typeof wire === 'string' ? smallBytesFromWire(wire) : wire);
  }

  cancel(): void {
    this.#bytes = null;
  }
}
