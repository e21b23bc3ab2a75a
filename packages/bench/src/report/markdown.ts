/*
 * report.md: what was run, on what, the tables, the verdicts, the chart, and how to start each
 * target again. Also used, with a deeper heading level, for the generated sections of
 * docs/benchmarks.md.
 */
import { fmtMiB } from './format.js';
import { VERDICT_RULE, problemLines, reportTables, verdictLines, type Table } from './table.js';
import type { BenchReport } from './types.js';

export interface MarkdownOptions {
  /** Relative path of the chart image to embed, if any. */
  readonly chart?: string;
  /** 1 for a standalone report (# title), 3 for a section inside a larger page. */
  readonly headingLevel?: number;
  readonly title?: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

function tableMarkdown(t: Table): string {
  const head = `| ${t.columns.join(' | ')} |`;
  const rule = `|${t.numeric.map((numeric) => (numeric ? '---:' : '---')).join('|')}|`;
  const rows = t.rows.map((row) => `| ${row.map(cell).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

/** The report's tables as Markdown, each under its title in bold. */
export function markdownTable(report: BenchReport): string {
  return reportTables(report).map((t) => `**${t.title}**\n\n${tableMarkdown(t)}`).join('\n\n');
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
  const h2 = load.protocol === 'h2c' ? ` over h2c x ${load.streams ?? 1} streams` : '';
  lines.push(`- **Load**: ${load.generator} ${load.version}, ${load.connections} connections${h2}${load.generator === 'wrk' ? `, ${load.threads} thread(s)` : ''}, ` +
    `${load.rounds} interleaved rounds of ${load.durationSec} s after ${load.warmupSec} s warm-up per target; parallelism ${report.parallelism}`);
  lines.push(`- **Baseline** for ratios: ${report.baseline}`);
  lines.push('');
  const verdicts = verdictLines(report);
  if (verdicts.length) lines.push(`**Verdicts.** ${VERDICT_RULE}`, '', ...verdicts.map((v) => `- ${v}`), '');
  if (options.chart) lines.push(`![requests/s, latency, CPU per request and memory per target](${options.chart})`, '');
  lines.push(markdownTable(report), '');
  lines.push('req/s is the median over rounds; spread is ± half the range between the slowest and fastest round. ' +
    'Latency percentiles are the median of the rounds\' percentiles; max is the worst of any round. CPU is user+sys of the ' +
    'whole process tree during the rounds, read from /proc; CPU µs/req divides it by the requests served. Peak RSS is summed ' +
    'over the tree, sampled every 100 ms. The load generator runs on the same machine: its own CPU use is in the last column.', '');
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
