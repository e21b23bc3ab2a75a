/*
 * benchMain(argv): the command-line glue shared by `serve bench ...` (the CLI mounts it) and
 * this package's own `gatehouse-bench` bin. Parses argv with node:util from benchCommandSpec,
 * runs the bench with a progress line on stderr, prints the table on stdout.
 * Exit codes: 0 all targets measured; 1 a target failed (the report still names it); 2 bad usage
 * or nothing could be measured.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { relative } from 'node:path';
import { isGatehouseError } from '@gatehouse/core';
import { BenchError } from './errors.js';
import { benchCommandSpec, type BenchOptions, type FlagSpec } from './options.js';
import { createProgressPrinter } from './progress.js';
import { wrap } from './report/format.js';
import { TERMINAL_WIDTH, terminalTable } from './report/table.js';
import { runBench } from './run.js';

export function benchUsage(): string {
  const lines = [`Usage: serve ${benchCommandSpec.command} [options]`, '', benchCommandSpec.describe, '', 'Options:'];
  for (const [flag, spec] of Object.entries(benchCommandSpec.flags) as [string, FlagSpec][]) {
    const name = `${spec.alias ? `-${spec.alias}, ` : '    '}--${flag}${spec.type === 'boolean' ? '' : ' <value>'}`;
    const def = spec.default === undefined || (Array.isArray(spec.default) && spec.default.length === 0) ? '' : ` [default: ${String(spec.default)}]`;
    lines.push(`  ${name.padEnd(30)} ${spec.describe}${def}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(30)} Show this help.`);
  lines.push('', 'Example: serve bench examples/hello/app.js --engines prefork,threaded --peers node-http,node-cluster',
    '         serve bench app.js --scenario close    (a new connection per request)');
  return lines.join('\n');
}

/** argv (after `bench`) -> BenchOptions, or 'help'. Throws BenchError on a bad flag. */
export function parseBenchArgv(argv: readonly string[]): BenchOptions | 'help' {
  const config: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [flag, spec] of Object.entries(benchCommandSpec.flags) as [string, FlagSpec][]) {
    config[flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.alias ? { short: spec.alias } : {}), ...(spec.type === 'list' ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw new BenchError('ERR_BENCH_USAGE', (error as Error).message.split('\n')[0]);
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length > 1) throw new BenchError('ERR_BENCH_USAGE', `one app expected, got ${parsed.positionals.join(' ')}`);
  const options: Record<string, unknown> = {};
  if (parsed.positionals[0]) options.app = parsed.positionals[0];
  for (const [flag, spec] of Object.entries(benchCommandSpec.flags) as [string, FlagSpec][]) {
    const value = parsed.values[flag];
    if (value === undefined) continue;
    if (spec.type === 'number') {
      const number = Number(value);
      if (value === '' || !Number.isFinite(number)) throw new BenchError('ERR_BENCH_USAGE', `--${flag} expects a number, got "${value}"`);
      options[spec.key] = number;
    } else {
      options[spec.key] = value;
    }
  }
  options.command = ['serve', 'bench', ...argv].join(' ');
  return options as BenchOptions;
}

export async function benchMain(argv: readonly string[], io: { stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let options: BenchOptions | 'help';
  try {
    options = parseBenchArgv(argv);
  } catch (error) {
    stderr.write(`serve bench: ${error instanceof BenchError ? error.toLine() : (error as Error).message}\n`);
    return 2;
  }
  if (options === 'help') {
    stdout.write(`${benchUsage()}\n`);
    return 0;
  }
  const progress = createProgressPrinter(stderr);
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const report = await runBench({ ...options, onProgress: progress.onProgress, signal: controller.signal });
    progress.end();
    stdout.write(`\n${terminalTable(report)}\n\n`);
    const files = report.files!;
    const show = (file: string) => { const rel = relative(process.cwd(), file); return rel && !rel.startsWith('..') ? rel : file; };
    const footer = `Load generator: ${report.load.generator} ${report.load.version}. Report: ${show(files.markdown)}, ${show(files.json)}, chart: ${show(files.svg)}`;
    stdout.write(`${wrap(footer, TERMINAL_WIDTH).join('\n')}\n`);
    return report.targets.some((t) => t.status === 'failed') ? 1 : 0;
  } catch (error) {
    progress.end();
    stderr.write(`serve bench: ${error instanceof BenchError || isGatehouseError(error) ? error.toLine() : (error as Error).stack ?? error}\n`);
    return 2;
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
}
