/*
 * Both sides. Messages posted during one turn of the event loop leave together, as one
 * postMessage of an array, flushed from setImmediate (after the poll phase, so every socket
 * read or thread message handled in this turn is in the batch). Under load this turns N
 * serializations, N cross-thread wake-ups and N message events into one each; with a single
 * request in flight it adds no wait beyond the end of the current turn. Measured under wrk on
 * hello, a batch carries about as many requests as a thread has slots (--thread-concurrency):
 * a request that arrives while its thread works on a batch rides the next one, and a thread's
 * replies to one batch leave together.
 *
 * A batch is always an array of messages (messages are tuples, so a lone message could not
 * be told from a batch).
 */
export interface MessageTarget {
  postMessage(value: unknown): void;
}

export class Outbox<T> {
  #pending: T[] = [];
  #scheduled = false;
  readonly #target: MessageTarget;

  constructor(target: MessageTarget) {
    this.#target = target;
  }

  send(message: T): void {
    this.#pending.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Posts whatever is pending now (before closing the port or exiting). */
  readonly flush = (): void => {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#target.postMessage(batch);
  };

  /** Drops whatever is pending (the thread is gone). */
  clear(): void {
    this.#pending = [];
  }
}

/** Calls `handle` for each message of a batch. */
export function unbatch<T>(handle: (message: T) => void): (batch: readonly T[]) => void {
  return (batch) => {
    for (let i = 0; i < batch.length; i++) handle(batch[i]!);
  };
}
