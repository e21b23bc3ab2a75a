/*
 * Both sides. Messages posted during one turn of the event loop leave together, as one
 * postMessage of an array, flushed from setImmediate (after the poll phase, so every socket
 * read or thread message handled in this turn is in the batch). Under load this turns N
 * serializations, N cross-thread wake-ups and N message events into one each; with a single
 * request in flight it adds no wait beyond the end of the current turn.
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
    this.#target.postMessage(batch.length === 1 ? batch[0] : batch);
  };

  /** Drops whatever is pending (the thread is gone). */
  clear(): void {
    this.#pending = [];
  }
}

/** Calls `handle` for a single message or for each message of a batch. */
export function unbatch<T>(handle: (message: T) => void): (data: T | T[]) => void {
  return (data) => {
    if (Array.isArray(data)) for (const message of data) handle(message);
    else handle(data);
  };
}
