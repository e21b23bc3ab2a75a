/*
 * MAIN THREAD. The socket side of an upgraded connection whose app runs on an app thread.
 * The thread answered TAKE; the dispatcher resolved the request with a takeover response of
 * its own whose takeover is attach(): the protocol layer hands over the socket here, and from
 * then on bytes cross the thread's port by the request's id (no MessageChannel per
 * connection: an idle WebSocket costs this object and the socket). The app's framing (`ws`)
 * runs on the app thread; this side only moves bytes:
 * - client -> app: the socket is read only while the thread has granted credit (TUNNEL_PULL),
 *   so an app that does not read stops the socket, and TCP stops the client;
 * - app -> client: each chunk is written to the socket; what the socket took under its
 *   high-water mark is acknowledged (TUNNEL_ACK) once it adds up to ACK_STEP, the rest on
 *   'drain'. A small message then costs no acknowledgement of its own (an echo would
 *   otherwise cross three times, not two), and the app never waits for one: what is held back
 *   stays under ACK_STEP, well inside its window. So a client that never reads holds the
 *   socket's buffer and one window here, and the app's writes wait.
 *
 * Either side may end it: the socket closing tells the thread (TUNNEL_CLOSED); the app
 * destroying its bridge socket destroys this one (after flushing, when the app had ended its
 * side cleanly first). A takeover response the protocol layer never used (the client left
 * first, or it refused the upgrade) closes the tunnel at the end of the loop turn.
 */
import type { Duplex } from 'node:stream';
import type { TakenConnection } from '@gatehouse/core/internal';
import {
  GOING_AWAY, OPEN_TUNNEL, TUNNEL_ACK, TUNNEL_CLOSE, TUNNEL_CLOSED, TUNNEL_IN, TUNNEL_IN_END, TUNNEL_OUT, TUNNEL_OUT_END, TUNNEL_PULL,
  TAG, BYTES_FIELD, CHUNK_FIELD, TUNNEL_WINDOW, wireBytes, type FromThread, type ToThread,
} from './messages.js';

/** The app thread a tunnel belongs to, as the tunnel needs it. */
export interface TunnelHost {
  post(message: ToThread): void;
  tunnelClosed(tunnel: Tunnel): void;
}

/**
 * How long a socket the app ended and then let go of may take to flush before it is destroyed
 * (a client that stopped reading would otherwise hold it).
 */
const LINGER_MS = 2000;

/** Bytes the socket took that are acknowledged together (a quarter of the window). */
const ACK_STEP = TUNNEL_WINDOW / 4;

export class Tunnel implements TakenConnection {
  readonly id: number;
  readonly #host: TunnelHost;
  #socket: Duplex | null = null;
  /** Bytes the thread has granted and the socket has not yet delivered. */
  #credit = 0;
  /** App bytes the socket took and not yet acknowledged, or written past its high-water mark (acknowledged on 'drain'). */
  #unacked = 0;
  #appEnded = false;
  #threadClosed = false;
  #closed = false;
  #linger: NodeJS.Timeout | null = null;

  constructor(id: number, host: TunnelHost) {
    this.id = id;
    this.#host = host;
    setImmediate(() => { if (this.#socket === null) this.#finish(); });
  }

  get open(): boolean {
    return !this.#closed;
  }

  /** The takeover of the dispatcher's response: the protocol layer hands over the socket. */
  attach(socket: Duplex, head: Buffer): TakenConnection {
    if (this.#closed) { socket.destroy(); return this; }
    this.#socket = socket;
    socket.pause(); // reading waits for the thread's first grant
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('close', this.#onClose);
    this.#host.post([OPEN_TUNNEL, this.id, wireBytes(head)]);
    return this;
  }

  /** A message about this tunnel from its app thread. */
  onMessage(message: FromThread): void {
    const socket = this.#socket;
    if (socket === null || this.#closed) return;
    switch (message[TAG]) {
      case TUNNEL_OUT: {
        const chunk = message[CHUNK_FIELD];
        this.#unacked += chunk.byteLength;
        if (socket.write(chunk) && this.#unacked >= ACK_STEP) this.#acknowledge();
        return;
      }
      case TUNNEL_OUT_END:
        this.#appEnded = true;
        socket.end();
        return;
      case TUNNEL_PULL:
        this.#credit += message[BYTES_FIELD];
        if (this.#credit > 0) socket.resume();
        return;
      case TUNNEL_CLOSE:
        this.#threadClosed = true;
        if (this.#appEnded && !socket.writableFinished) {
          socket.once('finish', () => socket.destroy());
          this.#linger = setTimeout(() => socket.destroy(), LINGER_MS);
          this.#linger.unref();
        } else {
          socket.destroy();
        }
        return;
      default:
        return;
    }
  }

  /** The unit is stopping: the app ends the connection its protocol's way. */
  goingAway(): void {
    if (!this.#closed) this.#host.post([GOING_AWAY, this.id]);
  }

  /** Ends it now (the thread is gone, or the graceful timeout passed). */
  cut(): void {
    if (this.#socket !== null) this.#socket.destroy();
    else this.#finish();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#credit -= chunk.byteLength;
    this.#host.post([TUNNEL_IN, this.id, wireBytes(chunk)]);
    if (this.#credit <= 0) this.#socket!.pause();
  };

  readonly #onEnd = (): void => {
    this.#host.post([TUNNEL_IN_END, this.id]);
  };

  readonly #onDrain = (): void => {
    if (this.#unacked > 0) this.#acknowledge();
  };

  #acknowledge(): void {
    this.#host.post([TUNNEL_ACK, this.id, this.#unacked]);
    this.#unacked = 0;
  }

  readonly #onClose = (): void => {
    this.#finish();
  };

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#linger !== null) { clearTimeout(this.#linger); this.#linger = null; }
    const socket = this.#socket;
    if (socket !== null) {
      socket.off('data', this.#onData);
      socket.off('end', this.#onEnd);
      socket.off('drain', this.#onDrain);
      socket.off('close', this.#onClose);
    }
    if (!this.#threadClosed) this.#host.post([TUNNEL_CLOSED, this.id]);
    this.#host.tunnelClosed(this);
  }
}
