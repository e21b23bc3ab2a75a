/*
 * MAIN THREAD. The Dispatcher core's protocol layer calls for each request: it reads the
 * request's body ahead while --read-ahead-budget lasts (read-ahead.ts: a slow body must not
 * hold a thread's slot), then sends the request to the least-loaded app thread with a free
 * slot, or queues it (FIFO) when every thread is at its --thread-concurrency bound. Past --max-queue a request is answered 503 with
 * Retry-After at once (cheaper for everyone than a long wait). When the queue grows past a
 * threshold a warning is published, as Waitress logs "Task queue depth is N".
 *
 * Requests still in progress WATCH_DELAY_MS after they arrived start watching request.signal
 * (one timer per dispatcher, not one listener per request; see exchange.ts). The timer's pass
 * looks at the requests still in flight (reading ahead, queued, on a thread), so nothing holds
 * a finished request until the pass: a list of every arrival would keep thousands of finished
 * requests alive under load for the young-generation GC to promote, pausing the main thread
 * (docs/benchmarks.md, section 'Lazy request signals').
 *
 * --sticky: a request with a remote address goes to the thread that address belongs to
 * (pool.route(), rendezvous hashing over thread slots) and, when that thread is at its bound,
 * waits for it in the StickyQueue rather than taking another thread; --max-queue counts both
 * queues. Requests without an address (a unix socket, no forwarding header) go as without it.
 */
import { channels, GatehouseError, type Dispatcher, type GatewayRequest, type GatewayResponse } from '@gatehouse/core';
import { Exchange, type ExchangeOwner } from './exchange.js';
import { ReadAheadBudget, wantsReadAhead } from './read-ahead.js';
import { StickyQueue } from './sticky-queue.js';
import type { ThreadPool } from './pool.js';
import { engineResponse } from './wire-errors.js';

export interface ThreadPoolDispatcherOptions {
  readonly maxQueue: number;
  /** 0 = no deadline. */
  readonly requestTimeoutMs: number;
  /** --read-ahead-budget: request-body bytes held before dispatch, across all requests (0 = no read-ahead). */
  readonly readAheadBudget: number;
  /** Queue depth that triggers the warning; defaults to an eighth of maxQueue (at least 1). */
  readonly queueWarnDepth?: number;
  readonly engineName?: string;
  /** --sticky: each request runs on the thread its remote address belongs to (pool.route()). */
  readonly sticky?: boolean;
}

/** Seconds a client is told to wait when the queue is full. */
const RETRY_AFTER_SECONDS = 1;
/** At most one queue warning per this interval while the queue stays deep. */
const WARN_INTERVAL_MS = 5000;
/** How long a request runs before the client going away is watched for (the most it can go unnoticed). */
const WATCH_DELAY_MS = 50;

export class ThreadPoolDispatcher implements Dispatcher {
  /** Responses come back in one message per thread and loop turn (outbox.ts). */
  readonly respondsInGroups = true;
  readonly #pool: ThreadPool;
  readonly #options: ThreadPoolDispatcherOptions;
  readonly #warnDepth: number;
  /** FIFO with lazy removal: entries that left (deadline, client gone) are skipped when reached. */
  #queue: Array<Exchange | undefined> = [];
  #head = 0;
  #queued = 0;
  #nextId = 1;
  #closed = false;
  #lastWarning = 0;
  #rejected = 0;
  readonly #owner: ExchangeOwner;
  /** Exchanges reading their body ahead: neither queued nor on a thread yet. */
  readonly #reading = new Set<Exchange>();
  #watchTimer: NodeJS.Timeout | null = null;
  /** Set with --sticky: requests waiting for their own thread. */
  readonly #sticky: StickyQueue | null;

  constructor(pool: ThreadPool, options: ThreadPoolDispatcherOptions) {
    this.#pool = pool;
    this.#options = options;
    this.#warnDepth = options.queueWarnDepth ?? Math.max(1, Math.floor(options.maxQueue / 8));
    this.#owner = {
      requestTimeoutMs: options.requestTimeoutMs,
      budget: new ReadAheadBudget(options.readAheadBudget),
      leaveQueue: () => { this.#queued--; },
    };
    this.#sticky = options.sticky ? new StickyQueue() : null;
    pool.onCapacity = () => this.#serveQueue();
  }

  get queueDepth(): number {
    return this.#queued;
  }

  /** Requests answered 503 because the queue was full. */
  get rejected(): number {
    return this.#rejected;
  }

  dispatch(request: GatewayRequest): Promise<GatewayResponse> {
    return new Promise<GatewayResponse>((resolve, reject) => {
      const exchange = new Exchange(this.#nextId++, request, resolve, reject, this.#owner);
      if (this.#closed) {
        exchange.refuse(engineResponse(new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', 'the server is stopping'), RETRY_AFTER_SECONDS));
        return;
      }
      this.#watchSoon();
      if (wantsReadAhead(request) && this.#owner.budget.available > 0) void this.#readAhead(exchange);
      else this.#admit(exchange);
    });
  }

  /** Bytes of request bodies held by read-ahead, free to hold (negative: over budget). */
  get readAheadAvailable(): number {
    return this.#owner.budget.available;
  }

  async #readAhead(exchange: Exchange): Promise<void> {
    this.#reading.add(exchange);
    let goOn: boolean;
    try {
      goOn = await exchange.readAhead();
    } finally {
      this.#reading.delete(exchange);
    }
    if (!goOn) return;
    if (this.#closed) exchange.refuse(engineResponse(new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', 'the server is stopping'), RETRY_AFTER_SECONDS));
    else this.#admit(exchange);
  }

  /** Runs the exchange on a thread with a free slot, or queues it, or answers 503 past --max-queue. */
  #admit(exchange: Exchange): void {
    exchange.state = 'queued';
    if (this.#sticky !== null && exchange.request.remote.address) { this.#admitSticky(this.#sticky, exchange); return; }
    if (this.#queued === 0) {
      const thread = this.#pool.pick();
      if (thread) { this.#pool.run(thread, exchange); return; }
    }
    if (this.#refusedAsFull(exchange)) return;
    this.#queue.push(exchange);
    this.#counted();
  }

  /** Runs the exchange on its address's thread if that has a free slot and nothing waits for it; else it waits for that thread. */
  #admitSticky(sticky: StickyQueue, exchange: Exchange): void {
    const thread = this.#pool.route(exchange.request.remote.address);
    if (thread && sticky.idle(thread) && this.#pool.hasRoom(thread)) { this.#pool.run(thread, exchange); return; }
    if (this.#refusedAsFull(exchange)) return;
    sticky.push(thread, exchange);
    this.#counted();
  }

  /** Past --max-queue: answers 503 with Retry-After. */
  #refusedAsFull(exchange: Exchange): boolean {
    if (this.#queued < this.#options.maxQueue) return false;
    this.#rejected++;
    exchange.refuse(engineResponse(new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', `${this.#queued} requests already queued (--max-queue ${this.#options.maxQueue})`), RETRY_AFTER_SECONDS));
    this.#warn('queue-full', `Task queue full (${this.#queued}): answering 503`);
    return true;
  }

  /** One more request queued. */
  #counted(): void {
    this.#queued++;
    if (this.#queued >= this.#warnDepth) this.#warn('queue-depth', `Task queue depth is ${this.#queued}`);
  }

  #watchSoon(): void {
    if (this.#watchTimer === null) {
      this.#watchTimer = setTimeout(this.#watchPass, WATCH_DELAY_MS);
      this.#watchTimer.unref();
    }
  }

  readonly #watchPass = (): void => {
    this.#watchTimer = null;
    if (this.#watchInFlight(WATCH_DELAY_MS)) this.#watchSoon();
  };

  /** Watches the requests in flight for at least `minAgeMs`; true when younger ones are left. */
  #watchInFlight(minAgeMs: number): boolean {
    const now = Date.now();
    let younger = false;
    const visit = (exchange: Exchange | undefined): void => {
      if (exchange === undefined || exchange.state === 'finished' || exchange.watching) return;
      if (now - exchange.arrivedAt >= minAgeMs) exchange.watch();
      else younger = true;
    };
    for (const exchange of this.#reading) visit(exchange);
    for (let i = this.#head; i < this.#queue.length; i++) visit(this.#queue[i]);
    if (this.#sticky !== null) for (const exchange of this.#sticky.waiting()) visit(exchange);
    this.#pool.forEachExchange(visit);
    return younger;
  }

  /** Answers every queued request 503 and refuses new ones (the server is stopping). */
  close(): void {
    this.#closed = true;
    if (this.#watchTimer !== null) { clearTimeout(this.#watchTimer); this.#watchTimer = null; }
    this.#watchInFlight(0);
    const stopping = (): GatewayResponse => engineResponse(new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', 'the server is stopping'), RETRY_AFTER_SECONDS);
    for (let exchange = this.#shift(); exchange; exchange = this.#shift()) exchange.refuse(stopping());
    if (this.#sticky !== null) {
      const waiting = [...this.#sticky.waiting()];
      this.#sticky.clear();
      for (const exchange of waiting) { this.#queued--; exchange.refuse(stopping()); }
    }
  }

  #serveQueue(): void {
    this.#sticky?.serve(this.#pool, (thread, exchange) => {
      this.#queued--;
      this.#pool.run(thread, exchange);
    });
    while (this.#queued > 0) {
      const thread = this.#pool.pick();
      if (!thread) return;
      const exchange = this.#shift();
      if (!exchange) return;
      this.#pool.run(thread, exchange);
    }
  }

  #shift(): Exchange | null {
    while (this.#head < this.#queue.length) {
      const exchange = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (exchange && exchange.state === 'queued') {
        this.#queued--;
        this.#compact();
        return exchange;
      }
    }
    this.#compact();
    return null;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) { this.#queue = []; this.#head = 0; }
    else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) { this.#queue = this.#queue.slice(this.#head); this.#head = 0; }
  }

  #warn(event: string, detail: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < WARN_INTERVAL_MS) return;
    this.#lastWarning = now;
    channels.engine.publish({ engine: this.#options.engineName ?? 'threaded', event, detail, level: 'warn' });
  }
}
