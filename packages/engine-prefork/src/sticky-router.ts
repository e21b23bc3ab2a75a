/*
 * --sticky: the master's accept path. Workers get no listener; the master listens on its own
 * sockets (unread: pauseOnConnect), accepts every connection and hands it to the worker its
 * client address belongs to, by rendezvous hashing over worker slots (core's
 * engine/rendezvous.ts), so every connection of one client meets the same process.
 *
 * The candidates are the ready workers; of two in one slot (a recycled worker and its
 * replacement, an old and a new generation during a reload) the newer serves. Liveness and a
 * pending hand-over do not move a client: a stuck worker's clients wait until --timeout
 * replaces it. Nothing is balanced, and a connection a stopping worker gives back goes where
 * its address belongs. A connection without an address (a unix socket) has no client to stick
 * to and is handed over as without --sticky (handover.ts). While no worker is ready (the first
 * boot, every worker restarting) accepted sockets wait here, in arrival order, up to --backlog
 * of them, and go as soon as one is.
 */
import type net from 'node:net';
import { rendezvousPick } from '@gatehouse/core/internal';
import { sendConnection, type Handover } from './handover.js';
import type { WorkerHandle } from './worker-handle.js';

/** Rendezvous seed of the process level (hybrid's threads hash the same address with another). */
const STICKY_SEED = 'process';

export interface StickyHost {
  workers(): Iterable<WorkerHandle>;
  /** False once the master stops: sockets are then closed, not handed over. */
  readonly accepting: boolean;
  /** At most how many sockets wait for a ready worker (--backlog). */
  readonly backlog: number;
  /** Where a connection without a client address goes. */
  readonly handover: Handover;
}

export class StickyRouter {
  readonly #host: StickyHost;
  #pending: Array<{ socket: net.Socket; index: number }> = [];

  constructor(host: StickyHost) {
    this.#host = host;
  }

  /** The master's listener `index` accepted `socket`. */
  accepted(socket: net.Socket, index: number, now: number): void {
    if (!this.#host.accepting) { socket.destroy(); return; }
    if (this.#pending.length === 0 && this.#route(socket, index, now)) return;
    if (this.#pending.length >= this.#host.backlog) socket.destroy();
    else this.#pending.push({ socket, index });
  }

  /** A worker became ready (or the master stops gracefully): the sockets waiting for one go now. */
  flush(now: number): void {
    while (this.#pending.length > 0) {
      const { socket, index } = this.#pending[0]!;
      if (!this.#route(socket, index, now)) return;
      this.#pending.shift();
    }
  }

  drop(): void {
    for (const { socket } of this.#pending.splice(0)) socket.destroy();
  }

  /** A connection a worker gave back goes to the worker its address belongs to now. */
  rehome(_from: WorkerHandle, socket: net.Socket, now: number): void {
    if (!this.#host.accepting || !this.#route(socket, 0, now)) socket.destroy();
  }

  #route(socket: net.Socket, index: number, now: number): boolean {
    const address = socket.remoteAddress;
    if (!address) return this.#host.handover.handOver(socket, index, now);
    const ready = [...this.#host.workers()].filter((w) => w.state === 'ready');
    if (ready.length === 0) return false;
    sendConnection(rendezvousPick(address, STICKY_SEED, ready, (w) => w.slot, newer)!, socket, index);
    return true;
  }
}

/** Of two workers in one slot: the newer generation, then the one not retiring, then the younger. */
function newer(a: WorkerHandle, b: WorkerHandle): number {
  return a.generation - b.generation || Number(b.retiring !== null) - Number(a.retiring !== null) || a.id - b.id;
}
