/*
 * Per-request counters kept in each process or thread where requests end (the setup module
 * feeds them from core's requestEnd / connection channels). They travel to the master as plain
 * JSON: the engine publishes channels.metricsCollect in the unit, the setup module puts a
 * snapshot under `into.gatehouse`, and the engine carries it as UnitStats.metrics. Counters are
 * cumulative for the unit's life; the master keeps the totals of units that have gone away.
 */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const SNAPSHOT_KEY = 'gatehouse';

export interface UnitMetricsSnapshot {
  /** Requests ended, by status class. */
  readonly requests: Readonly<Record<string, number>>;
  /** Count per DURATION_BUCKETS bound (not cumulative); the last slot is +Inf. */
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
  /** Connections open now (a gauge). */
  readonly connections: number;
}

export class UnitMetrics {
  readonly #requests: Record<string, number> = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  readonly #buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  #sum = 0;
  #count = 0;
  connections = 0;

  observe(status: number, seconds: number): void {
    const cls = status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : '5xx';
    this.#requests[cls] = (this.#requests[cls] ?? 0) + 1;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.#buckets[i]!++;
    this.#sum += seconds;
    this.#count++;
  }

  snapshot(): UnitMetricsSnapshot {
    return { requests: { ...this.#requests }, buckets: [...this.#buckets], sum: this.#sum, count: this.#count, connections: this.connections };
  }
}

export function emptySnapshot(): UnitMetricsSnapshot {
  return { requests: Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])), buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0, connections: 0 };
}

export function isSnapshot(value: unknown): value is UnitMetricsSnapshot {
  const v = value as UnitMetricsSnapshot | undefined;
  return typeof v === 'object' && v !== null && typeof v.requests === 'object' && Array.isArray(v.buckets) && typeof v.count === 'number';
}

/** Adds b into a (counters and the connections gauge alike). */
export function addSnapshot(a: UnitMetricsSnapshot, b: UnitMetricsSnapshot): UnitMetricsSnapshot {
  const requests: Record<string, number> = { ...a.requests };
  for (const [cls, n] of Object.entries(b.requests)) requests[cls] = (requests[cls] ?? 0) + n;
  return {
    requests,
    buckets: a.buckets.map((n, i) => n + (b.buckets[i] ?? 0)),
    sum: a.sum + b.sum,
    count: a.count + b.count,
    connections: a.connections + b.connections,
  };
}
