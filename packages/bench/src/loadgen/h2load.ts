/*
 * h2load (nghttp2) as a child process, for --protocol h2c. Its text summary gives the counts
 * and the duration; latency percentiles come from its --log-file (one line per request: start
 * time, status, microseconds to the end of the response), which its summary lacks. Its CPU
 * time is read as wrk's is (runMeasured). h2load sends GET, or POST with -d FILE: other
 * methods, or several different bodies, are refused with a pointer to node-h2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMeasured } from './wrk.js';
import type { LatencyMs, LoadGenerator, LoadResult, LoadSpec } from './types.js';

export interface H2loadReport {
  readonly durationSec: number;
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timeout: number;
  /** Responses with status 3xx, 4xx or 5xx. */
  readonly non2xx: number;
}

const UNIT_SEC: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1 };

export function parseH2loadOutput(text: string): H2loadReport {
  const finished = /^finished in ([\d.]+)(us|ms|s),/m.exec(text);
  const counts = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(text);
  const statuses = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  if (!finished || !counts) throw new Error(`h2load output has no "finished in" or "requests:" line:\n${text.slice(0, 400)}`);
  return {
    durationSec: Number(finished[1]) * UNIT_SEC[finished[2]!]!,
    done: Number(counts[3]),
    succeeded: Number(counts[4]),
    failed: Number(counts[5]),
    errored: Number(counts[6]),
    timeout: Number(counts[7]),
    non2xx: statuses ? Number(statuses[2]) + Number(statuses[3]) + Number(statuses[4]) : 0,
  };
}

/** Percentiles of the third column (microseconds) of an h2load --log-file, in ms. */
export function latencyFromLog(text: string): LatencyMs {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const micros = Number(line.split('\t')[2]);
    if (line !== '' && Number.isFinite(micros)) values.push(micros / 1000);
  }
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : Number.NaN);
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN };
}

export function h2loadVersion(): string | null {
  const result = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  if (result.error) return null;
  const match = /nghttp2\/(\S+)/.exec(`${result.stdout}${result.stderr}`);
  return match ? match[1]! : 'unknown';
}

/** h2load's arguments for `spec` (the log file and body file paths given). */
export function h2loadArgs(spec: LoadSpec, logFile: string, bodyFile: string | null): string[] {
  const args = [
    '-c', String(spec.connections),
    '-m', String(spec.streams),
    '-t', String(Math.max(1, Math.min(spec.threads, spec.connections))),
    '-D', String(spec.durationSec),
    '-T', String(spec.timeoutSec),
    '--log-file', logFile,
  ];
  if (bodyFile !== null) args.push('-d', bodyFile);
  for (const [name, value] of spec.requests[0]!.headers) args.push('-H', `${name}: ${value}`);
  for (const request of spec.requests) args.push(`${spec.origin}${request.path}`);
  return args;
}

/** Why h2load cannot send these requests, or null. */
export function h2loadRefuses(spec: LoadSpec): string | null {
  const [first] = spec.requests;
  const body = first!.body ? Buffer.from(first!.body) : null;
  for (const request of spec.requests) {
    const expected = body === null ? 'GET' : 'POST';
    if (request.method !== expected) return `h2load sends GET, or POST with a body; not ${request.method}${request.body ? ' with a body' : ''}`;
    const same = body === null ? !request.body : request.body !== undefined && body.equals(Buffer.from(request.body));
    if (!same) return 'h2load sends one body for every request';
    if (JSON.stringify(request.headers) !== JSON.stringify(first!.headers)) return 'h2load sends the same header fields with every request';
  }
  return null;
}

export function createH2load(version: string): LoadGenerator {
  return {
    name: 'h2load',
    version,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const refused = h2loadRefuses(spec);
      if (refused) throw new Error(`${refused}; use --loadgen node-h2`);
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-h2load-'));
      try {
        const logFile = join(dir, 'requests.log');
        let bodyFile: string | null = null;
        if (spec.requests[0]!.body) writeFileSync(bodyFile = join(dir, 'body'), spec.requests[0]!.body);
        const { code, stdout, stderr, cpuSec } = await runMeasured('h2load', h2loadArgs(spec, logFile, bodyFile), dir);
        if (code !== 0) throw new Error(`h2load exited with ${code}: ${(stderr || stdout).trim().split('\n').pop()}`);
        const report = parseH2loadOutput(stdout);
        const responses = report.done - report.errored - report.timeout;
        return {
          requests: responses,
          durationSec: report.durationSec,
          rps: report.durationSec > 0 ? responses / report.durationSec : 0,
          latencyMs: latencyFromLog(readFileSync(logFile, 'utf8')),
          errors: report.errored + report.timeout,
          non2xx: report.non2xx,
          loadgenCpuSec: cpuSec,
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
