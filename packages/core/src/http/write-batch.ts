/*
 * Responses written during one turn of the event loop leave together: a connection that
 * writes a response corks its socket and joins the batch, and the batch uncorks every socket
 * from setImmediate, i.e. in the check phase, once the loop has served every socket the poll
 * phase found ready.
 *
 * Why: written the moment each is made, every response wakes the client's thread while this
 * loop goes on to the next socket; the client answers, finds nothing more, sleeps, and the
 * next response wakes it again. Under keep-alive load that is a wakeup (an IPI and a context
 * switch on both sides) per request, the largest cost left once parsing is cheap. Sent
 * together, one wakeup serves the batch (the saving is measured in docs/benchmarks.md,
 * section 'Write batching').
 *
 * What bounds the wait, so a response is never held for long:
 * - the batch is sent as soon as a response joins it more than HOLD_BUDGET_MS after the first
 *   one did (the loop has been busy with other requests that long);
 * - a response that comes more than HOLD_BUDGET_MS after the previous one is not held at all:
 *   the loop is doing slow work (a CPU-bound app, sync or async), and holding its response
 *   would keep it waiting for the whole of the next request's work.
 * So a response waits at most for the check phase, or for one more request's work when fast
 * responses are followed by a slow one.
 * Streams are not batched (they flow with backpressure); a connection that closes or ends
 * flushes its own socket (Writable.end uncorks).
 */

/** A party whose socket is corked until the batch is sent (a Connection). */
export interface HeldWriter {
  /** Uncork: let what was written go to the kernel. */
  flushHeld(): void;
}

/** How long (ms) the loop may go on working while a written response waits. */
export const HOLD_BUDGET_MS = 0.5;

export interface WriteBatchClock {
  now(): number;
  /** Runs `task` once the poll phase is over (setImmediate). */
  afterPoll(task: () => void): void;
}

const loopClock: WriteBatchClock = {
  now: () => performance.now(),
  afterPoll: (task) => { setImmediate(task); },
};

export class WriteBatch {
  readonly #clock: WriteBatchClock;
  #held: HeldWriter[] = [];
  #spare: HeldWriter[] = [];
  #openedAt = 0;
  /** When the last response joined (ms); -Infinity: none yet. */
  #lastHoldAt = Number.NEGATIVE_INFINITY;
  #scheduled = false;

  constructor(clock: WriteBatchClock = loopClock) {
    this.#clock = clock;
  }

  /** Writers waiting to be flushed. */
  get size(): number { return this.#held.length; }

  /** `writer` has corked its socket and written: flush it with the batch. */
  hold(writer: HeldWriter): void {
    const now = this.#clock.now();
    const afterQuiet = now - this.#lastHoldAt > HOLD_BUDGET_MS;
    this.#lastHoldAt = now;
    if (this.#held.length === 0) this.#openedAt = now;
    this.#held.push(writer);
    if (afterQuiet || now - this.#openedAt > HOLD_BUDGET_MS) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#clock.afterPoll(this.#onCheck);
    }
  }

  /** Sends every held writer now. */
  flush(): void {
    const held = this.#held;
    if (held.length === 0) return;
    // A writer that writes again while being flushed joins the next batch, not this loop.
    this.#held = this.#spare;
    for (let i = 0; i < held.length; i++) held[i]!.flushHeld();
    held.length = 0;
    this.#spare = held;
  }

  readonly #onCheck = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}

/** The batch of this event loop (each worker thread has its own module instance). */
export const writeBatch = new WriteBatch();
