/*
 * APP THREAD. The GatewayRequest an app thread hands the app, re-created from a REQUEST
 * message: core's AbortableRequest (signal made on first use, as core's own connection does),
 * aborted when the main thread says the client went away or the deadline passed.
 */
import { AbortableRequest, type BodySource, type UpgradeOptions } from '@gatehouse/core/app-runtime';
import { RequestField as F, type RequestMessage } from './messages.js';

export class ThreadRequest extends AbortableRequest {
  /** `upgradeOptions`: the WebSocket limits of the settings the thread runs with (the same for every request). */
  constructor(message: RequestMessage, body: BodySource | null, upgradeOptions: UpgradeOptions) {
    super(message[F.method], message[F.target], message[F.path], message[F.query], message[F.httpVersion], message[F.rawHeaders] as string[],
      message[F.scheme], { address: message[F.remoteAddress], port: message[F.remotePort] },
      { address: message[F.serverAddress], port: message[F.serverPort] }, body, upgradeOptions);
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
