/*
 * The comparison as rows of cells: one source for the terminal table and report.md, so both
 * show the same columns in the same order.
 */
import { fmtInt, fmtMiB, fmtMs, fmtPct, fmtRatio, fmtSec } from './format.js';
import type { BenchReport } from './types.js';

export const COLUMNS = [
  'target', 'procs x threads', 'req/s', 'spread', 'ratio', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms',
  'errors', 'non-2xx', 'CPU s/round', 'CPU µs/req', 'peak RSS', 'loadgen CPU s/round',
] as const;

/** Right-aligned columns: every numeric one. */
export const NUMERIC = new Set<string>(COLUMNS.slice(2));

export function tableRows(report: BenchReport): string[][] {
  return report.targets.map((t) => {
    const shape = t.status === 'skipped' ? '-' : `${t.workers} x ${t.threads}`;
    const label = t.kind === 'peer' ? `${t.name} (peer)` : t.name;
    const s = t.summary;
    if (!s || t.status !== 'ok') {
      return [label, shape, t.status === 'skipped' ? 'skipped' : 'FAILED', '', '', '', '', '', '', '', '', '', '', '', ''];
    }
    return [
      label + (t.name === report.baseline ? ' *' : ''),
      shape,
      fmtInt(s.rps.median),
      fmtPct(s.rps.spreadPct),
      fmtRatio(s.ratio),
      fmtMs(s.latencyMs.p50),
      fmtMs(s.latencyMs.p90),
      fmtMs(s.latencyMs.p99),
      fmtMs(s.latencyMs.max),
      fmtInt(s.errors),
      fmtInt(s.non2xx),
      fmtSec(s.cpuSecPerRound),
      fmtInt(s.cpuUsPerRequest),
      fmtMiB(s.peakRssBytes),
      fmtSec(s.loadgenCpuSecPerRound),
    ];
  });
}

/** Failures and skips, one line each, for under the table. */
export function problemLines(report: BenchReport): string[] {
  return report.targets.filter((t) => t.status !== 'ok').map((t) => `${t.name}: ${t.status}: ${t.error ?? ''}`);
}

export function terminalTable(report: BenchReport): string {
  const rows = [COLUMNS.slice() as string[], ...tableRows(report)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => [...(row[i] ?? '')].length)));
  const line = (row: string[]) => row.map((cell, i) => {
    const pad = ' '.repeat(widths[i]! - [...cell].length);
    return NUMERIC.has(COLUMNS[i]!) && row !== rows[0] ? pad + cell : cell + pad;
  }).join('  ').trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  out.push(`* baseline for ratios: ${report.baseline}. spread: ±half the range of the ${report.load.rounds} rounds' req/s around the median.`);
  for (const problem of problemLines(report)) out.push(problem);
  for (const note of report.notes ?? []) out.push(`* ${note}`);
  return out.join('\n');
}
