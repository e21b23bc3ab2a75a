/*
 * runBench: start every target, warm each up, then measure in interleaved rounds (A B C A B C
 * ...) so slow drift on a shared machine (thermal, a neighbour's build) lands on every target
 * alike, instead of on whichever ran last. Targets stay up for the whole run, idle while the
 * others are measured. A target that fails to start, or dies mid-run, is reported as failed
 * and the others go on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BenchError } from './errors.js';
import { selectLoadGenerator } from './loadgen/select.js';
import type { LoadGenerator, LoadSpec } from './loadgen/types.js';
import { type BenchOptions, type BenchProgress } from './options.js';
import { planBench, type BenchPlan, type Target } from './plan.js';
import { TreeSampler, treeUsage } from './proctree.js';
import { engineNotes } from './notes.js';
import { displayPath } from './scenarios.js';
import { renderMarkdown } from './report/markdown.js';
import { renderSvg } from './report/svg.js';
import { comparisons } from './report/verdict.js';
import { REPORT_SCHEMA, type BenchReport, type RoundResult, type TargetReport, type TargetSummary } from './report/types.js';
import { HOST, ServerProcess, closesAfterResponse, freePort, portIsFree } from './server.js';
import { median, ratio, spread } from './stats.js';

interface Running {
  readonly target: Target;
  readonly port: number;
  server: ServerProcess | null;
  error?: string;
  readonly rounds: RoundResult[];
  peakRssBytes: number;
}

function commandLine(options: BenchOptions): string {
  if (options.command) return options.command;
  const parts = ['serve', 'bench'];
  if (options.app) parts.push(options.app);
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || ['app', 'onProgress', 'signal', 'cwd', 'command'].includes(key)) continue;
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    parts.push(`--${flag}`, Array.isArray(value) ? value.join(',') : String(value));
  }
  return parts.join(' ');
}

/** A word as a POSIX shell reads it back: quoted only when it holds something the shell treats specially. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

async function assignPorts(plan: BenchPlan): Promise<number[]> {
  if (plan.port === null) return Promise.all(plan.targets.map(() => freePort()));
  const ports = plan.targets.map((_, i) => plan.port! + i);
  for (const port of ports) {
    if (!(await portIsFree(port))) throw new BenchError('ERR_BENCH_PORT_IN_USE', `${HOST}:${port}`);
  }
  return ports;
}

function summarize(rounds: readonly RoundResult[], peakRssBytes: number): Omit<TargetSummary, 'ratio'> {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const cpuTotal = rounds.reduce((sum, r) => sum + r.cpuSec, 0);
  return {
    rps: spread(rounds.map((r) => r.rps)),
    latencyMs: {
      p50: median(rounds.map((r) => r.latencyMs.p50)),
      p90: median(rounds.map((r) => r.latencyMs.p90)),
      p99: median(rounds.map((r) => r.latencyMs.p99)),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
    requests,
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    cpuSecPerRound: median(rounds.map((r) => r.cpuSec)),
    cpuUsPerRequest: requests > 0 ? (cpuTotal / requests) * 1e6 : Number.NaN,
    loadgenCpuSecPerRound: median(rounds.map((r) => r.loadgenCpuSec)),
    peakRssBytes,
  };
}

/** Runs the whole comparison and writes report.json, report.md and chart.svg to plan.out. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const plan = planBench(options);
  const loadgen = selectLoadGenerator(plan.loadgen, plan.protocol);
  const ports = await assignPorts(plan);
  mkdirSync(plan.out, { recursive: true });

  const running: Running[] = plan.targets.map((target, i) => ({ target, port: ports[i]!, server: null, rounds: [], peakRssBytes: 0 }));
  const totalSec = running.length * (plan.warmupSec + plan.rounds * plan.durationSec);
  let doneSec = 0;
  const emit = (event: Omit<BenchProgress, 'fraction'>) => options.onProgress?.({ ...event, fraction: totalSec > 0 ? doneSec / totalSec : 0 });
  const aborted = () => options.signal?.aborted === true;

  const killAll = () => { for (const r of running) r.server?.killTreeNow(); };
  process.once('exit', killAll);
  try {
    for (const r of running) {
      if (aborted()) break;
      emit({ phase: 'start', target: r.target.name });
      const fail = (message: string) => {
        r.error = message;
        doneSec += plan.warmupSec + plan.rounds * plan.durationSec;
        emit({ phase: 'failed', target: r.target.name, message });
      };
      try {
        r.server = await ServerProcess.start({
          args: r.target.kind === 'engine' ? [...r.target.args, '--bind', `${HOST}:${r.port}`] : r.target.args,
          env: r.target.env,
          port: r.port,
          logFile: join(plan.out, `${r.target.name}.log`),
          cwd: plan.cwd,
          startTimeoutSec: plan.startTimeoutSec,
          expectReady: r.target.kind === 'engine',
          protocol: plan.protocol,
        });
      } catch (error) {
        fail(`failed to start: ${(error as Error).message}`);
        continue;
      }
      const actual = r.server.ready?.engine;
      // e.g. the CLI standing `single` in for a prefork engine that is not built: measuring it
      // under prefork's name would be a false figure.
      const problem = r.target.kind === 'engine' && actual && actual !== r.target.name
        ? `serve ran the "${actual}" engine instead of "${r.target.name}"`
        : plan.scenario.closesConnection ? await closesAfterResponse(r.port, plan.scenario.requests[0]!.path) : null;
      if (problem) fail(problem);
      else emit({ phase: 'ready', target: r.target.name });
    }

    const spec = (port: number, durationSec: number): LoadSpec => ({
      origin: `http://${HOST}:${port}`,
      requests: plan.scenario.requests,
      connections: plan.connections,
      streams: plan.streams,
      durationSec,
      threads: plan.loadgenThreads,
      timeoutSec: 30,
    });
    const live = () => running.filter((r) => r.server && !r.error);
    const markDead = (r: Running, during: string) => {
      r.error = `died during ${during}: ${r.server!.exitDescription()}; ${r.server!.logTail()}`;
      emit({ phase: 'failed', target: r.target.name, message: r.error });
    };

    if (plan.warmupSec > 0) {
      for (const r of live()) {
        if (aborted()) break;
        emit({ phase: 'warmup', target: r.target.name, seconds: plan.warmupSec });
        const sampler = new TreeSampler(r.server!.pid).start();
        try {
          await loadgen.run(spec(r.port, Math.max(1, Math.round(plan.warmupSec))));
        } catch (error) {
          if (r.server!.alive) r.error = `load generator failed during warmup: ${(error as Error).message}`;
        }
        r.peakRssBytes = Math.max(r.peakRssBytes, sampler.stop().peakRssBytes);
        doneSec += plan.warmupSec;
        if (!r.server!.alive && !r.error) markDead(r, 'warmup');
      }
    }

    for (let round = 1; round <= plan.rounds; round++) {
      for (const r of running) {
        if (aborted()) break;
        if (!r.server || r.error) continue;
        emit({ phase: 'measure', target: r.target.name, round, rounds: plan.rounds, seconds: plan.durationSec });
        const cpuBefore = treeUsage(r.server.pid).cpuSec;
        const sampler = new TreeSampler(r.server.pid).start();
        try {
          const result = await loadgen.run(spec(r.port, plan.durationSec));
          const after = sampler.stop();
          r.peakRssBytes = Math.max(r.peakRssBytes, after.peakRssBytes);
          if (!r.server.alive) {
            markDead(r, `round ${round}`);
          } else if (result.requests === 0) {
            // Up but answering nothing (stuck dispatch, every connection reset): a failure, not
            // a figure of 0 req/s, and not worth the remaining rounds.
            r.error = `answered no request in round ${round} (${result.errors} socket errors or timeouts, ${result.non2xx} non-2xx); see ${r.target.name}.log`;
            emit({ phase: 'failed', target: r.target.name, message: r.error });
          } else {
            r.rounds.push({ round, ...result, cpuSec: after.cpuSec - cpuBefore, peakRssBytes: after.peakRssBytes });
            emit({ phase: 'measured', target: r.target.name, round, rounds: plan.rounds, message: `${Math.round(result.rps)} req/s` });
          }
        } catch (error) {
          sampler.stop();
          if (!r.server.alive) markDead(r, `round ${round}`);
          else r.error = `load generator failed in round ${round}: ${(error as Error).message}`;
        }
        doneSec += plan.durationSec;
      }
    }
  } finally {
    emit({ phase: 'stop' });
    await Promise.all(running.map((r) => r.server?.stop()));
    process.removeListener('exit', killAll);
  }
  if (aborted()) throw new BenchError('ERR_BENCH_USAGE', 'interrupted');

  const report = buildReport(plan, loadgen, running, commandLine(options));
  if (!report.targets.some((t) => t.status === 'ok')) {
    writeReport(report, plan.out);
    throw new BenchError('ERR_BENCH_NOTHING_RAN', report.targets.map((t) => `${t.name}: ${(t.error ?? '').replace(/\.+$/, '')}`).join('; '));
  }
  const files = writeReport(report, plan.out);
  emit({ phase: 'done' });
  return { ...report, files };
}

function buildReport(plan: BenchPlan, loadgen: LoadGenerator, running: readonly Running[], command: string): BenchReport {
  const summaries = new Map(running.map((r) => [r.target.name, r.rounds.length ? summarize(r.rounds, r.peakRssBytes) : null]));
  const baselineRps = summaries.get(plan.baseline)?.rps.median ?? Number.NaN;
  const targets: TargetReport[] = running.map((r) => {
    const summary = summaries.get(r.target.name);
    const ok = !r.error && r.rounds.length > 0;
    const shownArgs = r.target.kind === 'engine' ? [...r.target.shown, '--bind', `${HOST}:${r.port}`] : r.target.shown;
    const env = Object.entries({ ...r.target.env, PORT: String(r.port) }).map(([k, v]) => `${k}=${v}`);
    return {
      name: r.target.name,
      kind: r.target.kind,
      workers: r.target.workers,
      threads: r.target.threads,
      command: [...(r.target.kind === 'peer' ? env : []), ...shownArgs].map(shellWord).join(' '),
      status: ok ? 'ok' : 'failed',
      ...(r.error || !ok ? { error: r.error ?? 'no round completed' } : {}),
      rounds: r.rounds,
      summary: summary ? { ...summary, ratio: ratio(summary.rps.median, baselineRps) } : null,
    };
  });
  for (const skip of plan.skipped) {
    targets.push({ name: skip.name, kind: skip.kind, workers: 0, threads: 0, command: '', status: 'skipped', error: skip.reason, rounds: [], summary: null });
  }
  const cpus = os.cpus();
  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    date: new Date().toISOString(),
    command,
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryBytes: os.totalmem(),
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    },
    app: displayPath(plan.app!, plan.cwd),
    scenario: {
      name: plan.scenario.name,
      describe: plan.scenario.describe,
      requests: plan.scenario.requests.map((r) => ({ method: r.method, path: r.path, bodyBytes: r.body?.byteLength ?? 0 })),
    },
    load: {
      generator: loadgen.name,
      version: loadgen.version,
      protocol: plan.protocol,
      streams: plan.protocol === 'h2c' ? plan.streams : 1,
      connections: plan.connections,
      durationSec: plan.durationSec,
      rounds: plan.rounds,
      warmupSec: plan.warmupSec,
      threads: loadgen.name === 'wrk' ? plan.loadgenThreads : 1,
    },
    parallelism: plan.parallelism,
    baseline: plan.baseline,
    targets,
    notes: engineNotes(targets),
  };
  return { ...report, verdicts: comparisons(report) };
}

/** NaN is not JSON: write null so report.json stays parseable by every reader. */
function toJson(report: BenchReport): string {
  return `${JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

export function writeReport(report: BenchReport, dir: string): NonNullable<BenchReport['files']> {
  mkdirSync(dir, { recursive: true });
  const files = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), svg: join(dir, 'chart.svg') };
  writeFileSync(files.json, toJson(report));
  writeFileSync(files.markdown, renderMarkdown(report, { chart: 'chart.svg' }));
  writeFileSync(files.svg, renderSvg(report));
  return files;
}
