/*
 * Which worker the master asks to `shed` keep-alive connections, and how many (handover.ts,
 * "Balance"). The counts come from heartbeats, so they lag the moves: a worker that was just
 * handed connections may report a count from before it had them, and during a burst of new
 * connections the workers' counts change faster than they are reported. Asking on such a count
 * moves connections back the way they came, and each move makes the request its client has
 * already sent wait for the master and the receiving worker's next turn.
 *
 * So a worker that received moved connections in the last SETTLE_MS is not asked to give any
 * back: the counts settle first (under CPU-bound load a worker's turn takes tens of milliseconds,
 * and both sides report within a few turns). The rest is the rule the balance always had: when
 * the busiest and the least busy differ by more than 2 and by more than BALANCE_SLACK of all
 * connections, the busiest gives back half the difference.
 */

/** Connection counts within this fraction of the total (or within 2) count as balanced. */
const BALANCE_SLACK = 0.1;
/** How long a worker that received moved connections is left out as a source. */
export const SETTLE_MS = 500;

export interface Balanced {
  /** Open connections, as last reported and adjusted by the moves since. */
  readonly connections: number | null;
}

export class BalancePolicy<W extends Balanced> {
  /** When each worker last received a moved connection. */
  readonly #receivedAt = new WeakMap<W, number>();

  /** A connection moved into `worker` at `now`. */
  received(worker: W, now: number): void {
    this.#receivedAt.set(worker, now);
  }

  /** The worker to ask and how many connections to ask for; null when the split is even enough or still settling. */
  pick(workers: readonly W[], now: number): { readonly worker: W; readonly count: number } | null {
    if (workers.length < 2) return null;
    const sorted = [...workers].sort((a, b) => a.connections! - b.connections!);
    const least = sorted[0]!;
    const most = sorted[sorted.length - 1]!;
    const total = sorted.reduce((sum, w) => sum + w.connections!, 0);
    const gap = most.connections! - least.connections!;
    if (gap <= 2 || gap <= total * BALANCE_SLACK) return null;
    if (now - (this.#receivedAt.get(most) ?? -Infinity) < SETTLE_MS) return null;
    return { worker: most, count: Math.floor(gap / 2) };
  }
}
