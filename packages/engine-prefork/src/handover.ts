/*
 * Connections that pass through the master, and the balance of keep-alive connections
 * between workers. The arbiter owns the workers; this module only decides where a socket goes.
 *
 * Hand-over: the master's own copy of each listener accepts a few connections (the one that
 * wakes first accepts what is queued); each goes, unread (pauseOnConnect), to a ready worker,
 * preferring the serving generation, workers not retiring and workers heard from lately. A
 * worker with a hand-over still unwritten is backed up (node queues further handles to a child
 * until it acknowledges the last, which a stuck worker never does) and is passed over. With no
 * ready worker, sockets wait, up to --backlog of them, for the first one. Why workers accept
 * on the shared socket and the master only takes the few it wins: docs/benchmarks.md, section
 * 'Socket sharing'.
 *
 * Balance: workers sharing a socket split long-lived keep-alive connections unevenly, and the
 * busier worker sets the latency tail. So when the connection counts the heartbeats report
 * differ by more than 2 and by more than a tenth of all of them, the busiest worker (unless it
 * has just received moved connections: balance-policy.ts) is told to `shed` half the
 * difference: it gives idle connections back (between requests, reading stopped, one at a
 * time: worker/shed.ts), and each goes to the least loaded worker. At most one shed per
 * worker per heartbeat, since its count is stale until it reports again. A worker that stops with
 * `handOff` gives its idle connections back the same way (`migrate`), so that they are served
 * by the workers that stay.
 *
 * Sticky (--sticky): workers get no listener; the master accepts every connection and hands
 * it to the worker its client address belongs to, by rendezvous hashing over worker slots
 * (core's engine/rendezvous.ts), so every connection of one client meets the same process.
 * The candidates are the ready workers; of two in one slot (a recycled worker and its
 * replacement, an old and a new generation during a reload) the newer serves. Liveness and a
 * pending hand-over do not move a client: a stuck worker's clients wait until --timeout
 * replaces it. Nothing is balanced, and a connection a stopping worker gives back goes where
 * its address belongs. A connection without an address (a unix socket) has no client to stick
 * to and is handed over as without --sticky.
 */
import type net from 'node:net';
import { rendezvousPick } from '@gatehouse/core/internal';
import type { WorkerHandle } from './worker-handle.js';
import { BalancePolicy } from './balance-policy.js';

/** Rendezvous seed of the process level (hybrid's threads hash the same address with another). */
const STICKY_SEED = 'process';

export interface HandoverHost {
  workers(): Iterable<WorkerHandle>;
  /** The generation serving traffic. */
  readonly generation: number;
  /** False once the master stops: sockets are then closed, not handed over. */
  readonly accepting: boolean;
  /** At most how many sockets wait for a ready worker (--backlog). */
  readonly backlog: number;
  /** --sticky: route each connection by its client address; never balance. */
  readonly sticky: boolean;
  /** Whether the worker's last message is recent enough to trust its loop is turning. */
  heardFromLately(worker: WorkerHandle, now: number): boolean;
}

export class Handover {
  readonly #host: HandoverHost;
  #pending: Array<{ socket: net.Socket; index: number }> = [];
  #roundRobin = 0;
  readonly #policy = new BalancePolicy<WorkerHandle>();

  constructor(host: HandoverHost) {
    this.#host = host;
  }

  /** The master's copy of listener `index` accepted `socket`. */
  accepted(socket: net.Socket, index: number, now: number): void {
    if (!this.#host.accepting) { socket.destroy(); return; }
    if (this.#handOver(socket, index, now)) return;
    if (this.#pending.length >= this.#host.backlog) socket.destroy();
    else this.#pending.push({ socket, index });
  }

  /** A worker became ready: the sockets waiting for one go now. */
  flush(now: number): void {
    while (this.#pending.length > 0) {
      const { socket, index } = this.#pending[0]!;
      if (!this.#handOver(socket, index, now)) return;
      this.#pending.shift();
    }
  }

  drop(): void {
    for (const { socket } of this.#pending.splice(0)) socket.destroy();
  }

  /** Asks the worker with the most connections to give idle ones back, when the split is uneven. */
  balance(now: number): void {
    if (this.#host.sticky) return;
    const ask = this.#policy.pick(this.#balanceable(now), now);
    if (!ask || ask.worker.lastHeartbeat <= ask.worker.shedAt) return;
    ask.worker.shedAt = now;
    ask.worker.send({ type: 'shed', count: ask.count });
  }

  /** A connection a worker gave back goes to the least loaded other worker. */
  rehome(from: WorkerHandle, socket: net.Socket, now: number): void {
    if (from.connections !== null && from.connections > 0) from.connections--;
    if (!this.#host.accepting) { socket.destroy(); return; }
    if (this.#host.sticky) {
      if (!this.#handOver(socket, 0, now)) socket.destroy();
      return;
    }
    const target = this.#balanceable(now).filter((w) => w !== from && w.handedOver.size === 0)
      .sort((a, b) => a.connections! - b.connections!)[0];
    if (!target) {
      // Nowhere better to go: to any ready worker (perhaps the same one).
      if (!this.#handOver(socket, 0, now)) socket.destroy();
      return;
    }
    target.connections!++;
    this.#policy.received(target, now);
    this.#send(target, socket, 0);
  }

  /** Ready, serving generation, not retiring, heard from lately, and able to give connections back. */
  #balanceable(now: number): WorkerHandle[] {
    return [...this.#host.workers()].filter((w) => w.state === 'ready' && w.connections !== null && !w.retiring
      && w.generation >= this.#host.generation && this.#host.heardFromLately(w, now));
  }

  #handOver(socket: net.Socket, index: number, now: number): boolean {
    const ready = [...this.#host.workers()].filter((w) => w.state === 'ready');
    if (ready.length === 0) return false;
    const address = this.#host.sticky ? socket.remoteAddress : undefined;
    if (address) {
      this.#send(rendezvousPick(address, STICKY_SEED, ready, (w) => w.slot, newer)!, socket, index);
      return true;
    }
    const responsive = ready.filter((w) => this.#host.heardFromLately(w, now) && w.handedOver.size === 0);
    const preferred = responsive.filter((w) => !w.retiring && w.generation >= this.#host.generation);
    const pool = preferred.length > 0 ? preferred : responsive.length > 0 ? responsive : ready;
    this.#send(pool[this.#roundRobin++ % pool.length]!, socket, index);
    return true;
  }

  #send(worker: WorkerHandle, socket: net.Socket, index: number): void {
    // keepOpen: the master closes its copy itself once the message is written (the kernel then
    // holds the descriptor in flight), or when the worker dies before it was: a socket must
    // never outlive the worker it was meant for.
    worker.handedOver.add(socket);
    worker.send({ type: 'connection', index }, socket, () => {
      worker.handedOver.delete(socket);
      socket.destroy();
    }, true);
  }
}

/** Of two workers in one slot: the newer generation, then the one not retiring, then the younger. */
function newer(a: WorkerHandle, b: WorkerHandle): number {
  return a.generation - b.generation || Number(b.retiring !== null) - Number(a.retiring !== null) || a.id - b.id;
}
