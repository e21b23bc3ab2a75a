// The terminal output of `serve bench`: it must fit a 100-column terminal whatever the figures,
// and say, in words, what the run found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminalTable } from '../src/report/table.js';
import { wrap } from '../src/report/format.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { failedTarget, okTarget, reportOf } from './kit/report.js';

/** The widest figures a run can plausibly print: six targets, big numbers, a long failure. */
function worstCase() {
  const huge = { p50: 1234.5, p90: 5678.9, p99: 99999, max: 123456 };
  const report = reportOf([
    okTarget('prefork', 'engine', { rounds: [1_234_567, 1_300_000, 1_100_000], ratio: 123.45, latencyMs: huge, cpuUsPerRequest: 1_234_567, peakRssMiB: 123_456, workers: 64 }),
    okTarget('threaded', 'engine', { rounds: [5000, 8500, 9300], workers: 1, threads: 64, latencyMs: huge }),
    okTarget('hybrid', 'engine', { rounds: [7000, 7100, 6900], workers: 32, threads: 2 }),
    failedTarget('single', `failed to start: exited with code 1 before answering: ${'an error message from the app that goes on '.repeat(12)}`),
    okTarget('node-http', 'peer', { rounds: [9000, 9500, 10000], workers: 1 }),
    okTarget('node-cluster', 'peer', { rounds: [9000, 9500, 10000], workers: 64 }),
  ], 'node-cluster');
  const targets = report.targets.map((t) => (t.summary ? { ...t, summary: { ...t.summary, errors: 1_234_567, non2xx: 12_345_678, loadgenCpuSecPerRound: 1234.56, cpuSecPerRound: 9999.99 } } : t));
  return { ...report, targets };
}

test('every line of the terminal output is at most 100 columns, even with the widest figures', () => {
  const output = terminalTable(worstCase());
  for (const line of output.split('\n')) assert.ok([...line].length <= 100, `${[...line].length} columns: ${line}`);
  // Nothing was dropped to get there: every target, both tables, every verdict.
  for (const name of ['prefork', 'threaded', 'hybrid', 'single', 'node-http (peer)', 'node-cluster (peer) *']) assert.match(output, new RegExp(`^${name.replace(/[()*]/g, '\\$&')}\\s`, 'm'));
  assert.match(output, /^target\s+procs x thr\s+req\/s\s+spread\s+ratio\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms$/m);
  assert.match(output, /^target\s+CPU µs\/req\s+CPU s\/round\s+peak RSS\s+errors\s+non-2xx\s+loadgen CPU s$/m);
  assert.match(output, /^prefork\s+64 x 1\s+1,234,567\s/m);
  assert.match(output, /^prefork\s+1,234,567\s+9999\.99\s+123456 MiB\s+1,234,567\s+12,345,678\s+1234\.56$/m);
  assert.match(output, /goes on an error message/);
});

test('the output has a verdict per comparison, under a line stating the rule', () => {
  const output = terminalTable(worstCase());
  assert.match(output, /^Verdicts\. A difference counts only when the rounds' req\/s ranges do not overlap \(3\+ rounds\)\.$/m);
  assert.match(output, /^- prefork 64x1 at /m);
  // Long sentences wrap onto lines indented by two spaces; joined again, each is whole.
  const joined = output.replace(/\n {2}/g, ' ');
  assert.match(joined, /^- threaded 1x64 at 0\.89x node-cluster 64x1 \(8,500 vs 9,500 req\/s\), within noise: the rounds overlap \(5,000-9,300 vs 9,000-10,000 req\/s\);/m);
  assert.match(output, /^single: failed: failed to start:/m);
});

test('report.md has the same two tables and the verdicts', () => {
  const md = renderMarkdown(worstCase());
  assert.match(md, /^\| target \| procs x thr \| req\/s \| spread \| ratio \|/m);
  assert.match(md, /^\| target \| CPU µs\/req \| CPU s\/round \| peak RSS \|/m);
  assert.match(md, /^\*\*Verdicts\.\*\* A difference counts only/m);
  assert.match(md, /^- hybrid 32x2 at /m);
});

test('wrapping breaks at spaces, indents what follows, and keeps a number with its unit', () => {
  const text = 'hybrid 1x2 serves this app at 0.70x prefork 2x1: pick by memory (157 MiB vs 277 MiB peak RSS)';
  // A break at 80 columns would fall between "277" and "MiB".
  assert.deepEqual(wrap(text, 80), [
    'hybrid 1x2 serves this app at 0.70x prefork 2x1: pick by memory (157 MiB vs',
    '  277 MiB peak RSS)',
  ]);
  const path = `/${'very-long-directory/'.repeat(6)}report.md`;
  assert.deepEqual(wrap(`Report: ${path}`, 40), ['Report:', `  ${path}`]);
});
