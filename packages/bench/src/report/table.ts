/*
 * The comparison as tables of cells: one source for the terminal and report.md, so both show
 * the same columns in the same order. Two tables rather than one wide one, so that the terminal
 * output fits a 100-column terminal (TERMINAL_WIDTH): throughput and latency first, then what
 * each target cost (CPU, memory, errors, the load generator's own CPU).
 */
import { fmtInt, fmtMiB, fmtMs, fmtPct, fmtRatio, fmtSec, wrap } from './format.js';
import type { BenchReport, TargetReport } from './types.js';
import { MIN_ROUNDS, comparisons, tradeOffLines } from './verdict.js';

export const TERMINAL_WIDTH = 100;

type Summary = NonNullable<TargetReport['summary']>;

interface Column {
  readonly head: string;
  readonly numeric: boolean;
  readonly cell: (s: Summary) => string;
}

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  /** Right-aligned columns: every numeric one. */
  readonly numeric: readonly boolean[];
  readonly rows: readonly (readonly string[])[];
}

const THROUGHPUT: readonly Column[] = [
  { head: 'req/s', numeric: true, cell: (s) => fmtInt(s.rps.median) },
  { head: 'spread', numeric: true, cell: (s) => fmtPct(s.rps.spreadPct) },
  { head: 'ratio', numeric: true, cell: (s) => fmtRatio(s.ratio) },
  { head: 'p50 ms', numeric: true, cell: (s) => fmtMs(s.latencyMs.p50) },
  { head: 'p90 ms', numeric: true, cell: (s) => fmtMs(s.latencyMs.p90) },
  { head: 'p99 ms', numeric: true, cell: (s) => fmtMs(s.latencyMs.p99) },
  { head: 'max ms', numeric: true, cell: (s) => fmtMs(s.latencyMs.max) },
];

const COST: readonly Column[] = [
  { head: 'CPU µs/req', numeric: true, cell: (s) => fmtInt(s.cpuUsPerRequest) },
  { head: 'CPU s/round', numeric: true, cell: (s) => fmtSec(s.cpuSecPerRound) },
  { head: 'peak RSS', numeric: true, cell: (s) => fmtMiB(s.peakRssBytes) },
  { head: 'errors', numeric: true, cell: (s) => fmtInt(s.errors) },
  { head: 'non-2xx', numeric: true, cell: (s) => fmtInt(s.non2xx) },
  { head: 'loadgen CPU s', numeric: true, cell: (s) => fmtSec(s.loadgenCpuSecPerRound) },
];

function targetLabel(report: BenchReport, t: TargetReport): string {
  const label = t.kind === 'peer' ? `${t.name} (peer)` : t.name;
  return label + (t.name === report.baseline && t.status === 'ok' ? ' *' : '');
}

function table(report: BenchReport, title: string, columns: readonly Column[], withShape: boolean): Table {
  const lead = withShape ? ['target', 'procs x thr'] : ['target'];
  const rows = report.targets.map((t) => {
    const head = [targetLabel(report, t), ...(withShape ? [t.status === 'skipped' ? '-' : `${t.workers} x ${t.threads}`] : [])];
    if (!t.summary || t.status !== 'ok') return [...head, t.status === 'skipped' ? 'skipped' : 'FAILED', ...columns.slice(1).map(() => '')];
    return [...head, ...columns.map((c) => c.cell(t.summary!))];
  });
  return {
    title,
    columns: [...lead, ...columns.map((c) => c.head)],
    numeric: [...lead.map(() => false), ...columns.map((c) => c.numeric)],
    rows,
  };
}

export function reportTables(report: BenchReport): Table[] {
  const rounds = report.load.rounds;
  return [
    table(report, `Throughput and latency: median of ${rounds} round(s); spread ± half their range; ratio to ${report.baseline} (*)`, THROUGHPUT, true),
    table(report, 'Cost: server CPU (user+sys, whole process tree), peak RSS, load generator CPU (s = per round)', COST, false),
  ];
}

/** Failures and skips, one line each, for under the tables. */
export function problemLines(report: BenchReport): string[] {
  return report.targets.filter((t) => t.status !== 'ok').map((t) => `${t.name}: ${t.status}: ${t.error ?? ''}`);
}

/** The verdict sentences: every target against the baseline, then the engine trade-offs. */
export function verdictLines(report: BenchReport): string[] {
  return [...comparisons(report).map((c) => c.line), ...tradeOffLines(report)];
}

export const VERDICT_RULE = `A difference counts only when the rounds' req/s ranges do not overlap (${MIN_ROUNDS}+ rounds).`;

function textTable(t: Table): string[] {
  const all = [t.columns, ...t.rows];
  const widths = t.columns.map((_, i) => Math.max(...all.map((row) => [...(row[i] ?? '')].length)));
  const line = (row: readonly string[], head: boolean) => row.map((cell, i) => {
    const pad = ' '.repeat(widths[i]! - [...cell].length);
    return t.numeric[i] && !head ? pad + cell : cell + pad;
  }).join('  ').trimEnd();
  return [line(t.columns, true), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map((row) => line(row, false))];
}

/** What `serve bench` prints on stdout: every line at most TERMINAL_WIDTH columns. */
export function terminalTable(report: BenchReport): string {
  const out: string[] = [];
  for (const t of reportTables(report)) out.push(...wrap(t.title, TERMINAL_WIDTH), ...textTable(t), '');
  const verdicts = verdictLines(report);
  if (verdicts.length) {
    out.push(...wrap(`Verdicts. ${VERDICT_RULE}`, TERMINAL_WIDTH));
    for (const v of verdicts) out.push(...wrap(`- ${v}`, TERMINAL_WIDTH, '  '));
  }
  for (const problem of problemLines(report)) out.push(...wrap(problem, TERMINAL_WIDTH, '  '));
  for (const note of report.notes ?? []) out.push(...wrap(`* ${note}`, TERMINAL_WIDTH, '  '));
  return out.join('\n').replace(/\n+$/, '');
}
