#!/usr/bin/env node
// `pnpm bench`: the repository's benchmarks in one run, and the tables of docs/benchmarks.md.
//
//   1. every benchmarks/micro/*.bench.mjs micro-benchmark (tinybench), each in its own process, run as
//      `node FILE --json [--time MS]`; its last stdout line is one JSON object with `rows`
//      (the convention is in benchmarks/README.md);
//   2. the standard engine comparison: `serve bench` on examples/hello (scenario hello) and on
//      examples/cpu (scenario cpu), every installed engine plus single, against the node:http
//      and node:cluster peers;
//   3. rewrites only the region between <!-- bench:begin --> and <!-- bench:end --> in
//      docs/benchmarks.md (prose around it is left alone) and copies the charts to docs/img/.
//
// Usage: node benchmarks/run.mjs [--micro-only | --engines-only] [--quick] [--no-docs]
//                                [--only SUBSTRING] [--duration S] [--rounds R] [--timeout S]
//   --quick     short runs (micro --time 200, engines 2 rounds of 3 s): a smoke test, not figures
//   --no-docs   print and write bench-out/ only; leave docs/ untouched
//   --only      run only the micro-benchmarks whose file name contains SUBSTRING
//   --timeout   seconds a micro-benchmark may run before it is killed and reported (600; 120 with --quick)
// Exit code: 0 when everything ran, 1 when a micro-benchmark or a comparison failed.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = flag('--quick');
const writeDocs = !flag('--no-docs');
const runMicro = !flag('--engines-only');
const runEngines = !flag('--micro-only');
const only = value('--only');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';
let failed = false;

/** A micro-benchmark that hangs must not hang `pnpm bench`: it is killed and reported. */
const MICRO_TIMEOUT_SEC = Number(value('--timeout') ?? (quick ? 120 : 600));

function runChild(file, childArgs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...childArgs], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, MICRO_TIMEOUT_SEC * 1000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: timedOut ? `killed after ${MICRO_TIMEOUT_SEC} s` : code, stdout }); });
  });
}

const fmtCell = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : String(v)) : String(v ?? ''));
const mdCell = (v) => fmtCell(v).replace(/\|/g, '\\|');

/** Columns: the union of row keys in first-seen order; numbers right-aligned. */
function columnsOf(rows) {
  const columns = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return columns;
}

function terminalTable(rows) {
  const columns = columnsOf(rows);
  const cells = [columns, ...rows.map((row) => columns.map((c) => fmtCell(row[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r, ri) => r.map((c, i) => (ri > 0 && typeof rows[ri - 1][columns[i]] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

function markdownTable(rows) {
  const columns = columnsOf(rows);
  const numeric = columns.map((c) => rows.every((row) => typeof row[c] === 'number' || row[c] === undefined));
  return [
    `| ${columns.map(mdCell).join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${columns.map((c) => mdCell(row[c])).join(' | ')} |`),
  ].join('\n');
}

/**
 * The bench's JSON: the whole of stdout, else its last line that is a JSON object. `rows` is
 * the convention; until every bench follows it, the first top-level array of objects stands in.
 */
function parseResult(stdout) {
  const candidates = [stdout.trim(), stdout.trim().split('\n').reverse().find((l) => l.trim().startsWith('{'))];
  for (const text of candidates) {
    if (!text) continue;
    let data;
    try { data = JSON.parse(text); } catch { continue; }
    if (!data || typeof data !== 'object') continue;
    if (!Array.isArray(data.rows)) {
      const key = Object.keys(data).find((k) => Array.isArray(data[k]) && data[k].length && typeof data[k][0] === 'object');
      if (!key) continue;
      data.rows = data[key];
      delete data[key];
    }
    return data;
  }
  return null;
}

async function micro() {
  const files = readdirSync(join(root, 'benchmarks', 'micro')).filter((f) => f.endsWith('.bench.mjs') && (!only || f.includes(only))).sort();
  const results = [];
  for (const file of files) {
    const name = basename(file, '.bench.mjs');
    process.stderr.write(`pnpm bench: ${file} ...\n`);
    const { code, stdout } = await runChild(join(root, 'benchmarks', 'micro', file), ['--json', ...(quick ? ['--time', '200'] : [])]);
    const result = parseResult(stdout);
    if (code !== 0 || !result || !Array.isArray(result.rows)) {
      failed = true;
      process.stderr.write(`pnpm bench: ${file} failed (exit ${code}${result ? '' : ', no JSON line with rows on stdout'})\n`);
      results.push({ name, file, error: `exit ${code}` });
      continue;
    }
    results.push({ name: result.name ?? name, file, title: result.title, result });
    process.stdout.write(`\n${result.title ?? name} (${file})\n${terminalTable(result.rows)}\n`);
  }
  return results;
}

async function engines() {
  const { runBench, terminalTable: benchTable, renderMarkdown } = await import(join(root, 'packages/bench/dist/src/index.js'));
  const runs = [
    { key: 'hello', app: 'examples/hello/app.js', scenario: 'hello', title: 'hello: the cost of the server itself' },
    { key: 'cpu', app: 'examples/cpu/app.js', scenario: 'cpu', title: 'cpu: CPU-bound requests, where parallelism pays' },
  ];
  const duration = Number(value('--duration') ?? (quick ? 3 : 10));
  const rounds = Number(value('--rounds') ?? (quick ? 2 : 3));
  const warmup = quick ? 1 : 3;
  const { installedEngines } = await import(join(root, 'packages/bench/dist/src/plan.js'));
  const engineList = ['single', ...installedEngines()];
  const sections = [];
  for (const run of runs) {
    if (!existsSync(join(root, run.app))) {
      process.stderr.write(`pnpm bench: ${run.app} does not exist; the ${run.key} comparison is skipped\n`);
      failed = true;
      continue;
    }
    const out = join(root, 'bench-out', run.key);
    const argv = [run.app, '--scenario', run.scenario, '--engines', engineList.join(','), '--peers', 'node-http,node-cluster',
      '--duration', String(duration), '--rounds', String(rounds), '--warmup', String(warmup), '--out', `bench-out/${run.key}`];
    process.stderr.write(`pnpm bench: serve bench ${argv.join(' ')}\n`);
    try {
      const report = await runBench({
        app: run.app, scenario: run.scenario, engines: engineList, peers: ['node-http', 'node-cluster'], duration, rounds, warmup,
        out, cwd: root, command: `serve bench ${argv.join(' ')}`,
        onProgress: (e) => { if (e.phase === 'measured' || e.phase === 'failed') process.stderr.write(`  ${e.target} ${e.round ? `round ${e.round}/${e.rounds}: ` : ''}${e.message}\n`); },
      });
      if (report.targets.some((t) => t.status === 'failed')) failed = true;
      process.stdout.write(`\n${run.title}\n${benchTable(report)}\n`);
      sections.push({ run, report, renderMarkdown });
    } catch (error) {
      failed = true;
      process.stderr.write(`pnpm bench: the ${run.key} comparison failed: ${error.toLine?.() ?? error.stack ?? error}\n`);
    }
  }
  return sections;
}

function generated(microResults, engineSections) {
  const cpus = os.cpus();
  const lines = [
    '<!-- Generated by `pnpm bench` (benchmarks/run.mjs): edits between the bench markers are overwritten. -->',
    '',
    `Generated ${new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} by \`pnpm bench\`${quick ? ' --quick (smoke run: short, not for quoting)' : ''} on ` +
      `${os.availableParallelism()} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${process.platform}/${process.arch}.`,
    '',
  ];
  if (microResults.length) {
    lines.push('### Micro-benchmarks', '');
    for (const m of microResults) {
      lines.push(`#### ${m.title ?? m.name} (\`benchmarks/micro/${m.file}\`)`, '');
      if (m.error) { lines.push(`Failed to run (${m.error}).`, ''); continue; }
      const { rows, ...rest } = m.result;
      const context = Object.entries(rest).filter(([k, v]) => !['name', 'title', 'machine'].includes(k) && (typeof v !== 'object' || v === null)).map(([k, v]) => `${k}: ${v}`);
      if (context.length) lines.push(context.join('; '), '');
      lines.push(markdownTable(rows), '');
      lines.push(`Command: \`node benchmarks/micro/${m.file}\``, '');
    }
  }
  if (engineSections.length) {
    lines.push('### Engine comparison', '');
    for (const { run, report, renderMarkdown } of engineSections) {
      lines.push(renderMarkdown(report, { headingLevel: 4, title: run.title, chart: `img/bench-${run.key}.svg` }));
    }
  }
  return lines.join('\n');
}

function rewriteDocs(body) {
  const file = join(root, 'docs', 'benchmarks.md');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  if (!text.includes(BEGIN) || !text.includes(END)) text = `${text.trimEnd()}\n\n${BEGIN}\n${END}\n`;
  const start = text.indexOf(BEGIN) + BEGIN.length;
  const end = text.indexOf(END);
  writeFileSync(file, `${text.slice(0, start)}\n${body.trim()}\n${text.slice(end)}`);
  process.stderr.write(`pnpm bench: rewrote the generated section of docs/benchmarks.md\n`);
}

const microResults = runMicro ? await micro() : [];
const engineSections = runEngines ? await engines() : [];
if (writeDocs && (microResults.length || engineSections.length)) {
  mkdirSync(join(root, 'docs', 'img'), { recursive: true });
  for (const { run, report } of engineSections) copyFileSync(report.files.svg, join(root, 'docs', 'img', `bench-${run.key}.svg`));
  rewriteDocs(generated(microResults, engineSections));
}
process.exitCode = failed ? 1 : 0;
