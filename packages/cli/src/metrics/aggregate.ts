/*
 * The master's view of per-request metrics across processes and threads: its own counters
 * plus the latest snapshot each unit reported (UnitStats.metrics), plus the final snapshots of
 * units that have gone away, so counters never go backwards when a worker is replaced.
 * Requests a unit served after its last report and before it died are lost (the last report
 * is at most one stats interval old); documented in docs/configuration.md.
 */
import type { EngineStats, UnitStats } from '@gatehouse/core';
import { SNAPSHOT_KEY, addSnapshot, emptySnapshot, isSnapshot, type UnitMetricsSnapshot } from './unit-metrics.js';

export class MetricsAggregator {
  #retired: UnitMetricsSnapshot = emptySnapshot();
  #live = new Map<string, UnitMetricsSnapshot>();

  /** Totals for this scrape; `local` is the master's own counters. */
  update(stats: EngineStats, local: UnitMetricsSnapshot): UnitMetricsSnapshot {
    const seen = new Map<string, UnitMetricsSnapshot>();
    const walk = (units: readonly UnitStats[], parent: string) => {
      for (const unit of units) {
        const key = `${parent}/${unit.kind}:${unit.id}:${unit.pid ?? ''}:${unit.threadId ?? ''}:${unit.startedAt}`;
        const snapshot = unit.metrics?.[SNAPSHOT_KEY];
        if (isSnapshot(snapshot)) seen.set(key, snapshot);
        if (unit.children) walk(unit.children, key);
      }
    };
    walk(stats.units, '');
    for (const [key, snapshot] of this.#live) {
      if (!seen.has(key)) this.#retired = addSnapshot(this.#retired, { ...snapshot, connections: 0 });
    }
    this.#live = seen;
    let total = addSnapshot(this.#retired, local);
    for (const snapshot of seen.values()) total = addSnapshot(total, snapshot);
    return total;
  }
}

/** Units alive by kind, processes and threads counted at every level. */
export function unitsAlive(stats: EngineStats): Record<'process' | 'thread', number> {
  const out = { process: 0, thread: 0 };
  const walk = (units: readonly UnitStats[]) => {
    for (const unit of units) {
      if (unit.state !== 'stopped') out[unit.kind]++;
      if (unit.children) walk(unit.children);
    }
  };
  walk(stats.units);
  return out;
}

/** Requests in flight, summed over top-level units (a unit's count includes its threads'). */
export function inFlight(stats: EngineStats): number {
  return stats.units.reduce((n, unit) => n + unit.inFlight, 0);
}
