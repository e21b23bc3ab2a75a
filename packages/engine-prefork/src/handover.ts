/*
 * Connections that pass through the master, and the balance of keep-alive connections
 * between workers. The arbiter owns the workers; this module only decides where a socket goes.
 *
 * Hand-over: the master accepts nothing itself (the workers accept on the shared sockets:
 * docs/benchmarks.md, section 'Socket sharing'); the connections that pass through it are the
 * ones workers give back. Each goes to a ready worker, preferring the serving generation,
 * workers not retiring and workers heard from lately. A worker with a hand-over still
 * unwritten is backed up (node queues further handles to a child until it acknowledges the
 * last, which a stuck worker never does) and is passed over.
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
 * Under --sticky the master accepts every connection and picks its worker by client address
 * instead: sticky-router.ts, which uses this module only for a connection without an address.
 */
import type net from 'node:net';
import type { WorkerHandle } from './worker-handle.js';
import { BalancePolicy } from './balance-policy.js';


export interface HandoverHost {
  workers(): Iterable<WorkerHandle>;
  /** The generation serving traffic. */
  readonly generation: number;
  /** False once the master stops: sockets are then closed, not handed over. */
  readonly accepting: boolean;
  /** Whether the worker's last message is recent enough to trust its loop is turning. */
  heardFromLately(worker: WorkerHandle, now: number): boolean;
}

export class Handover {
  readonly #host: HandoverHost;
  #roundRobin = 0;
  readonly #policy = new BalancePolicy<WorkerHandle>();

  constructor(host: HandoverHost) {
    this.#host = host;
  }

  /** Asks the worker with the most connections to give idle ones back, when the split is uneven. */
  balance(now: number): void {
    const ask = this.#policy.pick(this.#balanceable(now), now);
    if (!ask || ask.worker.lastHeartbeat <= ask.worker.shedAt) return;
    ask.worker.shedAt = now;
    ask.worker.send({ type: 'shed', count: ask.count });
  }

  /** A connection a worker gave back goes to the least loaded other worker. */
  rehome(from: WorkerHandle, socket: net.Socket, now: number): void {
    if (from.connections !== null && from.connections > 0) from.connections--;
    if (!this.#host.accepting) { socket.destroy(); return; }
    const target = this.#balanceable(now).filter((w) => w !== from && w.handedOver.size === 0)
      .sort((a, b) => a.connections! - b.connections!)[0];
    if (!target) {
      // Nowhere better to go: to any ready worker (perhaps the same one).
      if (!this.handOver(socket, 0, now)) socket.destroy();
      return;
    }
    target.connections!++;
    this.#policy.received(target, now);
    sendConnection(target, socket, 0);
  }

  /** Ready, serving generation, not retiring, heard from lately, and able to give connections back. */
  #balanceable(now: number): WorkerHandle[] {
    return [...this.#host.workers()].filter((w) => w.state === 'ready' && w.connections !== null && !w.retiring
      && w.generation >= this.#host.generation && this.#host.heardFromLately(w, now));
  }

  /** Hands `socket` (of listener `index`) to a ready worker; false when none is ready. */
  handOver(socket: net.Socket, index: number, now: number): boolean {
    const ready = [...this.#host.workers()].filter((w) => w.state === 'ready');
    if (ready.length === 0) return false;
    const responsive = ready.filter((w) => this.#host.heardFromLately(w, now) && w.handedOver.size === 0);
    const preferred = responsive.filter((w) => !w.retiring && w.generation >= this.#host.generation);
    const pool = preferred.length > 0 ? preferred : responsive.length > 0 ? responsive : ready;
    sendConnection(pool[this.#roundRobin++ % pool.length]!, socket, index);
    return true;
  }
}

/** Passes `socket` (of listener `index`) to `worker` over IPC; the master's copy closes once it is written. */
export function sendConnection(worker: WorkerHandle, socket: net.Socket, index: number): void {
  // keepOpen: the master closes its copy itself once the message is written (the kernel then
  // holds the descriptor in flight), or when the worker dies before it was: a socket must
  // never outlive the worker it was meant for.
  worker.handedOver.add(socket);
  worker.send({ type: 'connection', index }, socket, () => {
    worker.handedOver.delete(socket);
    socket.destroy();
  }, true);
}
