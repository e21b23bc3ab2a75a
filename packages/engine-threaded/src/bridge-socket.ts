/*
 * APP THREAD. The socket an app's takeover gets for a connection whose real socket stays on
 * the main thread (tunnel.ts): a Duplex whose bytes cross the thread's port under the
 * tunnel's id. It looks enough like a net.Socket for `ws` and for node-style upgrade handlers
 * (setTimeout/setNoDelay/setKeepAlive, addresses, `encrypted` for https), and holds at most a
 * window each way:
 * - reading: the main thread reads the socket only while this side has granted credit, and
 *   credit is granted from _read, which the stream calls when its consumer wants more (a
 *   `ws` receiver that is behind pauses the socket, and then no more is granted);
 * - writing: a write completes at once while less than TUNNEL_WINDOW is unacknowledged,
 *   otherwise when the main thread acknowledges that the socket took the bytes under its
 *   high-water mark. So a client that never reads makes the app's writes wait (a `ws`
 *   bufferedAmount grows here, in the app's own memory, where its cap can see it).
 *
 * A reset of the real socket arrives as a plain destroy: 'close' without 'end' or 'error'
 * (an app without an 'error' listener must not lose its thread to a client going away).
 */
import { Duplex } from 'node:stream';
import { TUNNEL_WINDOW, wireBytes, TUNNEL_OUT, TUNNEL_OUT_END, TUNNEL_PULL, TUNNEL_CLOSE, type FromThread } from './messages.js';

/** What a bridge socket needs of its thread: posting, and being forgotten when it closes. */
export interface BridgeHost {
  post(message: FromThread): void;
  closed(id: number): void;
}

export interface BridgeAddresses {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly encrypted: boolean;
}

/** Credit is topped up in steps of at least this much (fewer PULL messages). */
const GRANT_STEP = TUNNEL_WINDOW / 4;

export class BridgeSocket extends Duplex {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily: string;
  /** Present (true) only over TLS, as on a TLSSocket. */
  readonly encrypted: true | undefined;
  readonly #host: BridgeHost;
  /** Credit granted to the main thread and not yet used by bytes arriving. */
  #credit = 0;
  #unacked = 0;
  #waitingWrite: (() => void) | null = null;
  /** The main side is gone (the socket closed): post nothing more. */
  #remoteClosed = false;

  constructor(id: number, host: BridgeHost, addresses: BridgeAddresses) {
    // allowHalfOpen false, as node:http leaves the socket of an 'upgrade': the client's FIN
    // ends this side too once its writes are out.
    super({ allowHalfOpen: false, decodeStrings: true });
    this.id = id;
    this.#host = host;
    this.remoteAddress = addresses.remoteAddress;
    this.remotePort = addresses.remotePort;
    this.localAddress = addresses.localAddress;
    this.localPort = addresses.localPort;
    this.remoteFamily = addresses.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.encrypted = addresses.encrypted ? true : undefined;
  }

  // net.Socket's knobs: the real socket is on the main thread, which owns its timeouts.
  setTimeout(_ms: number, _callback?: () => void): this { return this; }
  setNoDelay(_noDelay?: boolean): this { return this; }
  setKeepAlive(_enable?: boolean, _delay?: number): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
  get bufferSize(): number { return this.writableLength; }

  // ---- from the main thread ------------------------------------------------------------

  /** Bytes from the client. */
  deliver(chunk: Uint8Array): void {
    this.#credit -= chunk.byteLength;
    this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  /** The client ended its side. */
  deliverEnd(): void {
    this.push(null);
  }

  /** The socket took `bytes` more. */
  acknowledge(bytes: number): void {
    this.#unacked -= bytes;
    if (this.#unacked < TUNNEL_WINDOW && this.#waitingWrite !== null) {
      const done = this.#waitingWrite;
      this.#waitingWrite = null;
      done();
    }
  }

  /** The real socket closed. */
  remoteClose(): void {
    this.#remoteClosed = true;
    this.destroy();
  }

  // ---- Duplex ---------------------------------------------------------------------------

  override _read(): void {
    if (this.#remoteClosed) return;
    const want = TUNNEL_WINDOW - this.#credit - this.readableLength;
    if (want < GRANT_STEP) return;
    this.#credit += want;
    this.#host.post([TUNNEL_PULL, this.id, want]);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  #send(bytes: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#remoteClosed) { callback(); return; } // destroy() follows; the bytes have nowhere to go
    if (bytes.byteLength === 0) { callback(); return; }
    this.#unacked += bytes.byteLength;
    this.#host.post([TUNNEL_OUT, this.id, wireBytes(bytes)]);
    if (this.#unacked < TUNNEL_WINDOW) callback();
    else this.#waitingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#remoteClosed) this.#host.post([TUNNEL_OUT_END, this.id]);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A write waiting for room completes: its bytes were posted, and nothing will ack them.
    const waiting = this.#waitingWrite;
    this.#waitingWrite = null;
    waiting?.();
    if (!this.#remoteClosed) {
      this.#remoteClosed = true;
      this.#host.post([TUNNEL_CLOSE, this.id]);
    }
    this.#host.closed(this.id);
    callback(error);
  }
}
