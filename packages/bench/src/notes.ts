/*
 * Sentences under the table that say what a result means for the choice of engine, computed
 * from the report's own figures. One so far: when hybrid serves fewer requests/s than prefork
 * in the same run, say why and when hybrid is still the one to pick (docs/engines.md, section
 * 'When hybrid', has the measured figures behind the reasons).
 */
import type { TargetReport } from './report/types.js';

const MiB = 1024 * 1024;

/** Notes for a run's targets (empty when nothing calls for one). */
export function engineNotes(targets: readonly TargetReport[]): string[] {
  const notes: string[] = [];
  const prefork = okSummary(targets, 'prefork');
  const hybrid = okSummary(targets, 'hybrid');
  if (prefork && hybrid && hybrid.summary.rps.median < prefork.summary.rps.median) {
    const share = (hybrid.summary.rps.median / prefork.summary.rps.median).toFixed(2);
    notes.push(
      `hybrid (${hybrid.workers} x ${hybrid.threads}) served ${share}x prefork's requests/s here, with ` +
      `${hybrid.summary.cpuUsPerRequest.toFixed(0)} µs of CPU per request against ${prefork.summary.cpuUsPerRequest.toFixed(0)} ` +
      `and ${Math.round(hybrid.summary.peakRssBytes / MiB)} MiB against ${Math.round(prefork.summary.peakRssBytes / MiB)}: ` +
      'each request crosses from a process\'s I/O thread to an app thread and back, and each process carries its threads\' heaps. ' +
      'Pick hybrid when requests block their event loop or run long CPU work (a busy thread leaves its process serving, ' +
      'a stuck one is replaced) and you want process isolation as well; for fast async requests prefork serves more ' +
      '(docs/engines.md, "When hybrid").',
    );
  }
  return notes;
}

function okSummary(targets: readonly TargetReport[], name: string): (TargetReport & { summary: NonNullable<TargetReport['summary']> }) | undefined {
  const target = targets.find((t) => t.name === name && t.status === 'ok' && t.summary !== null);
  return target as (TargetReport & { summary: NonNullable<TargetReport['summary']> }) | undefined;
}
