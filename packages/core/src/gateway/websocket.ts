/*
 * The GatewayWebSocket an app gets from UpgradeOffer.acceptWebSocket: a thin owner of a `ws`
 * WebSocket (RFC 6455 framing, masking, fragmentation, the close handshake, permessage-deflate
 * are all `ws`'s) that adds what a server needs and `ws` leaves to its user:
 *
 * - It exists before the socket does: the app gets it with the 101 response it must return,
 *   and the handshake runs only after the protocol layer hands the connection over. Sends and
 *   a close made meanwhile wait for 'open'; a handshake `ws` refuses (bad key or version: it
 *   answers 400 itself and drops the connection) never opens, and `closed` resolves 1002.
 * - Backpressure out: bufferedAmount, drained() (under the drain mark), and a cap: past
 *   maxBuffered the client is not reading, so the socket is terminated (a close frame would
 *   wait behind the same unread bytes) and the app sees 1006.
 * - Backpressure in: async iteration holds at most what one read brings, pausing the socket
 *   (ws pause()) while a message waits for the app, resuming once the app has taken them all
 *   (a message the app is already waiting for goes straight to it, unpaused). Iterators get
 *   messages from the socket directly, not through listeners, and allocate nothing per
 *   message but the promise next() returns (MessageIterator below).
 * - Keep-alive pings and a pong deadline; an idle timeout on messages (pings do not count).
 *
 * Runs on the event loop that owns the socket (the connection's, or an app thread's, given
 * a Duplex that carries the bytes across).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { WebSocket as WsSocket } from 'ws';
import type { GatewayWebSocket, WebSocketData } from './types.js';
import type { WebSocketLimits } from './upgrade-options.js';

/** Close codes (RFC 6455 §7.4.1). */
const NORMAL = 1000;
const GOING_AWAY = 1001;
const PROTOCOL_ERROR = 1002;
const ABNORMAL = 1006;

export interface CloseInfo { readonly code: number; readonly reason: string }

type State = 0 | 1 | 2 | 3;
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const RESOLVED: Promise<void> = Promise.resolve();
/** ws.send options; ws copies them, so one object of each serves every send. */
const AS_TEXT = { binary: false } as const;
const AS_BINARY = { binary: true } as const;

export class ServerWebSocket extends EventEmitter implements GatewayWebSocket {
  readonly protocol: string;
  readonly closed: Promise<CloseInfo>;
  readonly #limits: WebSocketLimits;
  #ws: WsSocket | null = null;
  #duplex: Duplex | null = null;
  #state: State = CONNECTING;
  /** Sends made before open, and their size (counted in bufferedAmount). */
  #early: WebSocketData[] = [];
  #earlyBytes = 0;
  #earlyClose: CloseInfo | null = null;
  /** Set when the server itself ended the socket: what the app's 'close' reports. */
  #endedBecause: CloseInfo | null = null;
  #resolveClosed!: (info: CloseInfo) => void;
  /** The app's iterations in progress: each gets every message. */
  #iterators: MessageIterator[] = [];
  /** Iterators holding a message the app has not taken: the socket stays paused meanwhile. */
  #holding = 0;
  #lastMessageAt = 0;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongTimer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(protocol: string, limits: WebSocketLimits) {
    super();
    this.protocol = protocol;
    this.#limits = limits;
    this.closed = new Promise((resolve) => { this.#resolveClosed = resolve; });
  }

  get readyState(): State { return this.#state; }

  get bufferedAmount(): number {
    return this.#ws === null ? this.#earlyBytes : this.#ws.bufferedAmount;
  }

  // --- The server's side: the takeover attaches the connection, `ws` opens it. ---

  /** The connection is ours: until open, its closing means the handshake was refused. */
  attach(duplex: Duplex): void {
    this.#duplex = duplex;
    duplex.once('close', () => {
      if (this.#state === CONNECTING) this.#finish({ code: PROTOCOL_ERROR, reason: 'WebSocket handshake refused' });
    });
  }

  /** The handshake is done (ws wrote the 101). */
  open(ws: WsSocket): void {
    this.#ws = ws;
    this.#state = OPEN;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#lastMessageAt = Date.now();
      const message = isBinary ? data : data.toString('utf8');
      const iterators = this.#iterators;
      if (iterators.length === 1) iterators[0]!.deliver(message);
      else if (iterators.length > 1) for (const iterator of [...iterators]) iterator.deliver(message);
      this.emit('message', message);
    });
    ws.on('ping', (data: Buffer) => this.emit('ping', data));
    ws.on('pong', (data: Buffer) => { this.#pongArrived(); this.emit('pong', data); });
    ws.on('error', (error: Error) => { if (this.listenerCount('error') > 0) this.emit('error', error); });
    ws.on('close', (code: number, reason: Buffer) => this.#finish(this.#endedBecause ?? { code, reason: reason.toString('utf8') }));
    this.#lastMessageAt = Date.now();
    this.#schedulePing();
    this.#scheduleIdleCheck(this.#limits.idleTimeoutMs);
    this.emit('open');
    const early = this.#early;
    this.#early = [];
    this.#earlyBytes = 0;
    for (const data of early) this.send(data);
    if (this.#earlyClose !== null) this.close(this.#earlyClose.code, this.#earlyClose.reason);
  }

  /** The unit is stopping: close 1001 so the client reconnects elsewhere. */
  goingAway(): void {
    if (this.#state === OPEN) this.close(GOING_AWAY, 'server going away');
    else if (this.#state === CONNECTING) this.#duplex?.destroy();
  }

  // --- The app's side. ---

  send(data: WebSocketData): void {
    if (this.#state === CONNECTING) {
      this.#early.push(data);
      this.#earlyBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      this.#checkBuffered();
      return;
    }
    if (this.#state !== OPEN) return; // as a browser's WebSocket: sends after close are dropped
    this.#lastMessageAt = Date.now();
    this.#ws!.send(data, typeof data === 'string' ? AS_TEXT : AS_BINARY);
    this.#checkBuffered();
  }

  ping(data?: Uint8Array): void {
    if (this.#state === OPEN) this.#ws!.ping(data);
  }

  close(code = NORMAL, reason = ''): void {
    if (this.#state === CONNECTING) { this.#earlyClose = { code, reason }; return; }
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#ws!.close(code, reason);
  }

  /**
   * Resolves once bufferedAmount is under the drain mark (or the socket is closed). Apps await
   * it after every send, so the common case, nothing to wait for, costs no promise of its own
   * and no listeners; a wait registers its three listeners and removes them when it resolves.
   */
  drained(): Promise<void> {
    if (this.#isDrained()) return RESOLVED;
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.#isDrained()) return;
        this.#duplex?.off('drain', check);
        this.off('close', check);
        this.off('open', check);
        resolve();
      };
      // Before open nothing drains but opening (the early sends then go to the socket).
      this.#duplex?.on('drain', check);
      this.on('close', check);
      this.on('open', check);
    });
  }

  #isDrained(): boolean {
    return this.#state === CLOSED || this.bufferedAmount < this.#limits.drainMark;
  }

  [Symbol.asyncIterator](): AsyncIterator<WebSocketData> {
    const iterator = new MessageIterator(this.#reading);
    if (this.#state === CLOSED) iterator.end();
    else this.#iterators.push(iterator);
    return iterator;
  }

  /** What the socket's iterators may do to it: kept off the socket an app sees. */
  readonly #reading: ReadingControl = {
    // An iterator holds a message the app has not taken: reading stops until it has.
    hold: () => { if (this.#holding++ === 0) this.#ws?.pause(); },
    // That iterator's queue is empty again.
    release: () => { if (--this.#holding === 0) this.#ws?.resume(); },
    // An iterator that ended or was returned stops getting messages.
    detach: (iterator) => {
      const index = this.#iterators.indexOf(iterator);
      if (index >= 0) this.#iterators.splice(index, 1);
    },
  };

  // --- Limits. ---

  /** A client that does not read cannot make the server hold more than maxBuffered for it. */
  #checkBuffered(): void {
    if (this.bufferedAmount <= this.#limits.maxBuffered) return;
    this.#terminate({ code: ABNORMAL, reason: 'send buffer over the limit (--ws-max-buffered): the client is not reading' });
  }

  #schedulePing(): void {
    const interval = this.#limits.pingIntervalMs;
    if (interval <= 0 || this.#state !== OPEN) return;
    this.#pingTimer = setTimeout(this.#keepAlivePing, interval).unref();
  }

  readonly #keepAlivePing = (): void => {
    this.#pingTimer = null;
    if (this.#state !== OPEN) return;
    this.#ws!.ping();
    const timeout = this.#limits.pongTimeoutMs;
    if (timeout > 0) this.#pongTimer = setTimeout(this.#noPong, timeout).unref();
    else this.#schedulePing();
  };

  readonly #noPong = (): void => {
    this.#pongTimer = null;
    // While the app holds the socket paused its pong may be unread: not the peer's fault.
    if (this.#holding > 0) { this.#pongTimer = setTimeout(this.#noPong, this.#limits.pongTimeoutMs).unref(); return; }
    this.#terminate({ code: ABNORMAL, reason: 'no pong within --ws-pong-timeout' });
  };

  #pongArrived(): void {
    if (this.#pongTimer === null) return;
    clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
    this.#schedulePing();
  }

  #scheduleIdleCheck(delay: number): void {
    if (this.#limits.idleTimeoutMs <= 0 || this.#state !== OPEN) return;
    this.#idleTimer = setTimeout(this.#idleCheck, delay).unref();
  }

  /** One timer per socket, re-armed for the rest of the period rather than reset per message. */
  readonly #idleCheck = (): void => {
    this.#idleTimer = null;
    const left = this.#lastMessageAt + this.#limits.idleTimeoutMs - Date.now();
    if (left > 0) { this.#scheduleIdleCheck(left); return; }
    this.close(GOING_AWAY, 'idle timeout');
  };

  #terminate(because: CloseInfo): void {
    this.#endedBecause ??= because;
    // Sends from here on are dropped (ws would count them in bufferedAmount until 'close').
    if (this.#ws !== null) { this.#state = CLOSING; this.#ws.terminate(); }
    else { this.#duplex?.destroy(); this.#finish(because); }
  }

  #finish(info: CloseInfo): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#early = [];
    this.#earlyBytes = 0;
    for (const timer of [this.#pingTimer, this.#pongTimer, this.#idleTimer]) if (timer !== null) clearTimeout(timer);
    this.#pingTimer = this.#pongTimer = this.#idleTimer = null;
    this.#resolveClosed(info);
    const iterators = this.#iterators;
    this.#iterators = [];
    for (const iterator of iterators) iterator.end();
    this.emit('close', info.code, info.reason);
  }
}

const DONE: IteratorResult<WebSocketData> = Object.freeze({ value: undefined, done: true });

/**
 * One `for await` over a socket. The socket hands it each message; a message the app is
 * already waiting for resolves its pending next() at once, with no pause (most messages of
 * an app that awaits each one); any others queue and hold the socket paused until the app
 * has taken them all. next() is a plain method: a queued message costs one resolved promise,
 * a wait one promise, and nothing else is allocated per message.
 */
interface ReadingControl {
  hold(): void;
  release(): void;
  detach(iterator: MessageIterator): void;
}

class MessageIterator implements AsyncIterator<WebSocketData> {
  readonly #control: ReadingControl;
  readonly #queue: WebSocketData[] = [];
  #waiting: ((result: IteratorResult<WebSocketData>) => void) | null = null;
  #ended = false;
  #holding = false;

  constructor(control: ReadingControl) {
    this.#control = control;
  }

  deliver(message: WebSocketData): void {
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      waiting({ value: message, done: false });
      return;
    }
    this.#queue.push(message);
    if (!this.#holding) { this.#holding = true; this.#control.hold(); }
  }

  /** The socket closed: queued messages are still delivered, then the iteration ends. */
  end(): void {
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting !== null) { this.#stop(); waiting(DONE); }
  }

  next(): Promise<IteratorResult<WebSocketData>> {
    const queue = this.#queue;
    if (queue.length > 0) {
      const value = queue.shift()!;
      if (queue.length === 0) this.#release();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) { this.#stop(); return Promise.resolve(DONE); }
    return new Promise((resolve) => { this.#waiting = resolve; });
  }

  return(): Promise<IteratorResult<WebSocketData>> {
    this.#ended = true;
    this.#queue.length = 0;
    this.#stop();
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.(DONE);
    return Promise.resolve(DONE);
  }

  #release(): void {
    if (this.#holding) { this.#holding = false; this.#control.release(); }
  }

  #stop(): void {
    this.#release();
    this.#control.detach(this);
  }
}
