/*
 * MAIN THREAD. The wait of --sticky requests: one FIFO per app thread, because a sticky request
 * waits for its own thread (pool.route() of its remote address), not for any free one. A thread
 * that stops taking requests (it died, drains, or was scaled away) has its waiting requests
 * routed again, to the thread their address belongs to now; requests that arrived while no
 * thread was ready wait under `null` and are routed as soon as one is. Entries that left the
 * queue (deadline, client gone) are skipped when reached, as in the dispatcher's own queue.
 */
import type { AppThread } from './app-thread.js';
import type { Exchange } from './exchange.js';
import type { ThreadPool } from './pool.js';

type StickyPool = Pick<ThreadPool, 'route' | 'routes' | 'hasRoom'>;

export class StickyQueue {
  readonly #waiting = new Map<AppThread | null, Exchange[]>();

  /** True when no request waits for `thread`: a new one may run at once without overtaking. */
  idle(thread: AppThread): boolean {
    return !this.#waiting.has(thread);
  }

  push(thread: AppThread | null, exchange: Exchange): void {
    const list = this.#waiting.get(thread);
    if (list) list.push(exchange);
    else this.#waiting.set(thread, [exchange]);
  }

  /** Runs what waits for a thread with a free slot; `run` takes each exchange off the queue. */
  serve(pool: StickyPool, run: (thread: AppThread, exchange: Exchange) => void): void {
    // First route again what waits for a thread that no longer takes requests.
    for (const [thread, list] of [...this.#waiting]) {
      if (thread !== null && pool.routes(thread)) continue;
      const target = pool.route(list[0]!.request.remote.address);
      if (target === thread) continue; // still no thread ready
      this.#waiting.delete(thread);
      for (const exchange of list) if (exchange.state === 'queued') this.push(pool.route(exchange.request.remote.address), exchange);
    }
    for (const [thread, list] of this.#waiting) {
      if (thread === null) continue;
      let taken = 0;
      // Running one may retire the thread (max-requests): it then takes no more.
      while (taken < list.length && pool.routes(thread) && pool.hasRoom(thread)) {
        const exchange = list[taken++]!;
        if (exchange.state === 'queued') run(thread, exchange);
      }
      if (taken === list.length) this.#waiting.delete(thread);
      else if (taken > 0) list.splice(0, taken);
    }
  }

  /** Every request still waiting (for the dispatcher's signal watch and its close). */
  *waiting(): Iterable<Exchange> {
    for (const list of this.#waiting.values()) for (const exchange of list) if (exchange.state === 'queued') yield exchange;
  }

  clear(): void {
    this.#waiting.clear();
  }
}
