/*
 * report.md: what was run, on what, the table, the chart, and how to run it again. Also used,
 * with a deeper heading level, for the generated sections of docs/benchmarks.md.
 */
import { fmtMiB } from './format.js';
import { COLUMNS, NUMERIC, problemLines, tableRows } from './table.js';
import type { BenchReport } from './types.js';

export interface MarkdownOptions {
  /** Relative path of the chart image to embed, if any. */
  readonly chart?: string;
  /** 1 for a standalone report (# title), 3 for a section inside a larger page. */
  readonly headingLevel?: number;
  readonly title?: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function markdownTable(report: BenchReport): string {
  const head = `| ${COLUMNS.join(' | ')} |`;
  const rule = `|${COLUMNS.map((c) => (NUMERIC.has(c) ? '---:' : '---')).join('|')}|`;
  const rows = tableRows(report).map((row) => `| ${row.map(cell).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

export function renderMarkdown(report: BenchReport, options: MarkdownOptions = {}): string {
  const h = '#'.repeat(options.headingLevel ?? 1);
  const m = report.machine;
  const load = report.load;
  const lines: string[] = [];
  lines.push(`${h} ${options.title ?? `Gatehouse engine benchmark: ${report.scenario.name}`}`, '');
  lines.push(`- **Date**: ${report.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`);
  lines.push(`- **Machine**: ${m.cpus} cores (${m.cpuModel}), ${fmtMiB(m.memoryBytes)} RAM, ${m.platform}/${m.arch}, Node ${m.node}`);
  lines.push(`- **Command**: \`${report.command}\``);
  lines.push(`- **App**: \`${report.app}\`; **scenario** ${report.scenario.name}: ${report.scenario.describe}`);
  lines.push(`- **Load**: ${load.generator} ${load.version}, ${load.connections} connections${load.generator === 'wrk' ? `, ${load.threads} thread(s)` : ''}, ` +
    `${load.rounds} interleaved rounds of ${load.durationSec} s after ${load.warmupSec} s warm-up per target; parallelism ${report.parallelism}`);
  lines.push(`- **Baseline** for ratios: ${report.baseline}`);
  lines.push('');
  if (options.chart) lines.push(`![requests/s and latency per target](${options.chart})`, '');
  lines.push(markdownTable(report), '');
  lines.push('req/s is the median over rounds; spread is ± half the range between the slowest and fastest round. ' +
    'Latency percentiles are the median of the rounds\' percentiles; max is the worst of any round. CPU is user+sys of the ' +
    'whole process tree during a round; peak RSS is summed over the tree, sampled every 100 ms. The load generator runs ' +
    'on the same machine: its own CPU use is in the last column.', '');
  for (const note of report.notes ?? []) lines.push(`**Note:** ${note}`, '');
  const problems = problemLines(report);
  if (problems.length) {
    lines.push('**Not measured:**', '', ...problems.map((p) => `- ${p}`), '');
  }
  lines.push('<details><summary>How each target was started</summary>', '');
  for (const t of report.targets.filter((t) => t.command)) lines.push(`- ${t.name}: \`${t.command}\``);
  lines.push('', '</details>', '');
  return lines.join('\n');
}
