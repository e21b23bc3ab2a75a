/*
 * The master's view of per-request metrics across processes and threads: its own counters,
 * plus the latest report of every live unit (UnitStats.metrics), plus the final reports of
 * units that are gone. A unit's final report reaches the master with core's unitDown message,
 * published as its supervisor forgets it, so at any moment a unit is either live in
 * engine.stats() or retired here, never both and never neither: counters only go up, across
 * reloads, recycles, scale-down and crashes, whenever the scrapes happen.
 *
 * A prefork worker sends its final report after its drain, so a stop, reload or recycle loses
 * nothing; a unit that is killed (SIGKILL, --timeout) loses what it served since its last
 * heartbeat, at most one heartbeat interval (docs/configuration.md, Metrics).
 */
import type { EngineStats, UnitMessage, UnitStats } from '@gatehouse/core';
import { SNAPSHOT_KEY, addSnapshot, emptySnapshot, isSnapshot, type UnitMetricsSnapshot } from './unit-metrics.js';

export class MetricsAggregator {
  #retired: UnitMetricsSnapshot = emptySnapshot();

  /** A unit went down (channels.unitDown): its final counters stay in the totals; its connections are closed. */
  retire(message: UnitMessage): void {
    const snapshot = message.metrics?.[SNAPSHOT_KEY];
    if (isSnapshot(snapshot)) this.#retired = addSnapshot(this.#retired, { ...snapshot, connections: 0 });
  }

  /** Totals for this scrape; `local` is the master's own counters. */
  totals(stats: EngineStats, local: UnitMetricsSnapshot): UnitMetricsSnapshot {
    let total = addSnapshot(this.#retired, local);
    for (const { unit } of everyUnit(stats)) {
      const snapshot = unit.metrics?.[SNAPSHOT_KEY];
      if (isSnapshot(snapshot)) total = addSnapshot(total, snapshot);
    }
    return total;
  }
}

/**
 * Every unit at every level, each with its series label: a process by its pid, a thread by
 * `pid:threadId` (bounded: only units alive now have one).
 */
export function everyUnit(stats: EngineStats): Array<{ label: string; unit: UnitStats }> {
  const out: Array<{ label: string; unit: UnitStats }> = [];
  const walk = (units: readonly UnitStats[]) => {
    for (const unit of units) {
      const pid = unit.pid ?? stats.pid;
      out.push({ label: unit.kind === 'thread' ? `${pid}:${unit.threadId ?? unit.id}` : String(pid), unit });
      if (unit.children) walk(unit.children);
    }
  };
  walk(stats.units);
  return out;
}

/** Units alive by kind, processes and threads counted at every level. */
export function unitsAlive(stats: EngineStats): Record<'process' | 'thread', number> {
  const out = { process: 0, thread: 0 };
  for (const { unit } of everyUnit(stats)) if (unit.state !== 'stopped') out[unit.kind]++;
  return out;
}

/** Requests in flight, summed over top-level units (a unit's count includes its threads'). */
export function inFlight(stats: EngineStats): number {
  return stats.units.reduce((n, unit) => n + unit.inFlight, 0);
}

/** The engine's task queue (threaded), or the sum of its units' queues (hybrid worker processes). */
export function queueDepth(stats: EngineStats): number {
  return stats.queueDepth ?? stats.units.reduce((n, unit) => n + (unit.queueDepth ?? 0), 0);
}

/**
 * The utilization gauge's total: the mean over the ready units that run the app (those with no
 * children: prefork workers, app threads); undefined while none is ready.
 */
export function meanUtilization(units: ReadonlyArray<{ unit: UnitStats; utilization: number | undefined }>): number | undefined {
  let sum = 0;
  let n = 0;
  for (const { unit, utilization } of units) {
    if (unit.state !== 'ready' || unit.children?.length || utilization === undefined) continue;
    sum += utilization;
    n++;
  }
  return n === 0 ? undefined : sum / n;
}
