/*
 * APP THREAD. The GatewayRequest an app thread hands the app, re-created from a REQUEST
 * message: core's AbortableRequest (signal made on first use, as core's own connection does),
 * aborted when the main thread says the client went away or the deadline passed.
 * sendInterim is checked here, where the app called it (a misuse throws in the app), then
 * crosses to the socket's side, which writes it or drops it (gateway/interim.ts).
 */
import { AbortableRequest, interimFields, type BodySource, type ResponseHeaders, type UpgradeOptions } from '@gatehouse/core/app-runtime';
import { ID, RequestField as F, smallBytesFromWire, type RequestMessage } from './messages.js';

/** Where a request's interim responses go: the thread's one poster, shared by its requests. */
export interface InterimSink {
  interim(id: number, status: number, fields: string[]): void;
}

export class ThreadRequest extends AbortableRequest {
  readonly #id: number;
  readonly #sink: InterimSink;

  /** `upgradeOptions`: the WebSocket limits of the settings the thread runs with (the same for every request). */
  constructor(message: RequestMessage, body: BodySource | null, sink: InterimSink, upgradeOptions: UpgradeOptions) {
    super(message[F.method], message[F.target], message[F.path], message[F.query], message[F.httpVersion], message[F.rawHeaders] as string[],
      message[F.scheme], { address: message[F.remoteAddress], port: message[F.remotePort] },
      { address: message[F.serverAddress], port: message[F.serverPort] }, body, upgradeOptions);
    this.#id = message[ID];
    this.#sink = sink;
  }

  sendInterim(status: number, headers: ResponseHeaders): void {
    this.#sink.interim(this.#id, status, interimFields(status, headers));
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
