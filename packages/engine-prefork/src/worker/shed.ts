/*
 * How a worker gives idle keep-alive connections back when the master asks it to `shed`
 * (handover.ts, "Balance"): one at a time, each only once the previous one is on its way.
 *
 * Why one at a time: node sends one handle at a time over the IPC channel and holds every
 * further one until the master acknowledges the last, and a busy worker reads that
 * acknowledgement only on its next turn of the event loop. Detaching ten connections at once
 * would park nine of them, reading stopped, behind that queue: the requests their clients have
 * already sent wait there for up to ten turns of the busiest loop, which is the latency tail the
 * balance is meant to remove (docs/benchmarks.md, 'prefork CPU-bound tail'). A connection not
 * yet detached is still served here, so the next one is detached only once the previous one is
 * written, and waits in node's queue for at most that one acknowledgement.
 *
 * The latest ask replaces the one before: the master repeats `shed` on each heartbeat with the
 * gap it last saw, so adding them up would move more connections than the gap. When no
 * connection is idle (each has a request being read or answered), it tries again after the
 * next turn, up to RETRY_TURNS times, then waits for the next ask.
 */
import type net from 'node:net';

/** Turns of the event loop to wait for an idle connection before the ask lapses. */
const RETRY_TURNS = 16;

export interface ShedHost {
  /** Up to `count` idle connections, detached with reading stopped (WorkerBody.shed). */
  release(count: number): net.Socket[];
  /** Sends the socket to the master; `sent` once it left this process's queue (or failed). */
  migrate(socket: net.Socket, sent: () => void): void;
  /** Runs `task` after this turn of the event loop (setImmediate). */
  afterTurn(task: () => void): void;
}

export class Shedder {
  readonly #host: ShedHost;
  #owed = 0;
  #moving = false;
  #retries = 0;
  #retryScheduled = false;

  constructor(host: ShedHost) {
    this.#host = host;
  }

  /** The master asks for `count` connections back: the ask replaces any earlier one. */
  ask(count: number): void {
    this.#owed = Math.max(0, count);
    this.#retries = 0;
    this.#next();
  }

  /** Stops giving connections back (the worker stops: its connections leave by handOff). */
  cancel(): void {
    this.#owed = 0;
  }

  /** How many connections this worker still owes the master. */
  get owed(): number {
    return this.#owed;
  }

  #next(): void {
    if (this.#moving || this.#owed <= 0) return;
    const [socket] = this.#host.release(1);
    if (socket === undefined) { this.#retry(); return; }
    this.#owed--;
    this.#moving = true;
    this.#host.migrate(socket, () => {
      this.#moving = false;
      this.#next();
    });
  }

  #retry(): void {
    if (this.#retryScheduled || this.#retries >= RETRY_TURNS) return;
    this.#retries++;
    this.#retryScheduled = true;
    this.#host.afterTurn(() => {
      this.#retryScheduled = false;
      this.#next();
    });
  }
}
