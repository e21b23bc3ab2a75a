/*
 * wrk as a child process. Parses its `--latency` text report (the only output wrk has without a
 * custom Lua `done` hook, and the one people know). Methods, bodies and several requests are
 * sent through a generated Lua script. wrk's CPU time is read as runMeasured() says.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStat } from '../proctree.js';
import type { LatencyMs, LoadGenerator, LoadRequest, LoadResult, LoadSpec } from './types.js';

export interface WrkReport {
  readonly requests: number;
  readonly durationSec: number;
  readonly rps: number;
  readonly latencyMs: LatencyMs & { readonly p75: number };
  readonly non2xx: number;
  readonly socketErrors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
}

// us divides rather than multiplies by 0.001, so 572us is exactly 0.572 and not 0.5720000000000001.
const UNIT_MS: Record<string, (v: number) => number> = { us: (v) => v / 1000, ms: (v) => v, s: (v) => v * 1000, m: (v) => v * 60_000, h: (v) => v * 3_600_000 };

/** "486.60us", "3.93ms", "1.02s", "1.50m" -> milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) return Number.NaN;
  return UNIT_MS[match[2]!]!(Number(match[1]));
}

export function parseWrkOutput(text: string): WrkReport {
  const number = (re: RegExp) => {
    const match = re.exec(text);
    return match ? Number(match[1]) : Number.NaN;
  };
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(text);
    return match ? parseWrkDuration(match[1]!) : Number.NaN;
  };
  const total = /^\s*(\d+) requests in ([\d.]+\w+),/m.exec(text);
  const thread = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+/m.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (!total) throw new Error(`wrk output has no "N requests in T" line:\n${text.slice(0, 400)}`);
  return {
    requests: Number(total[1]),
    durationSec: parseWrkDuration(total[2]!) / 1000,
    rps: number(/^Requests\/sec:\s+([\d.]+)/m),
    latencyMs: {
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
      max: thread ? parseWrkDuration(thread[3]!) : Number.NaN,
    },
    non2xx: /Non-2xx or 3xx responses: (\d+)/.test(text) ? number(/Non-2xx or 3xx responses: (\d+)/) : 0,
    socketErrors: socket
      ? { connect: Number(socket[1]), read: Number(socket[2]), write: Number(socket[3]), timeout: Number(socket[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

function luaString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A Lua script that sends `requests` in turn; bodies are read from files next to it. */
export function wrkScript(requests: readonly LoadRequest[], bodyFile: (index: number) => string): string {
  const lines = ['local reqs = {}', 'local i = 0', 'init = function(args)'];
  requests.forEach((request, index) => {
    const headers = request.headers.map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`).join(', ');
    let body = 'nil';
    if (request.body) {
      lines.push(`  local f${index} = io.open(${luaString(bodyFile(index))}, "rb")`);
      body = `f${index}:read("*a")`;
    }
    lines.push(`  reqs[${index + 1}] = wrk.format(${luaString(request.method)}, ${luaString(request.path)}, { ${headers} }, ${body})`);
    if (request.body) lines.push(`  f${index}:close()`);
  });
  lines.push('end', 'request = function()', '  i = i % #reqs + 1', '  return reqs[i]', 'end', '');
  return lines.join('\n');
}

export function wrkVersion(): string | null {
  const result = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (result.error) return null;
  const match = /wrk (\S+)/.exec(`${result.stdout}${result.stderr}`);
  return match ? match[1]! : 'unknown';
}

export function createWrk(version: string): LoadGenerator {
  return {
    name: 'wrk',
    version,
    async run(spec: LoadSpec): Promise<LoadResult> {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-wrk-'));
      try {
        const args = [
          '-t', String(Math.max(1, Math.min(spec.threads, spec.connections))),
          '-c', String(spec.connections),
          '-d', `${spec.durationSec}s`,
          '--timeout', `${spec.timeoutSec}s`,
          '--latency',
        ];
        const [first] = spec.requests;
        const plain = spec.requests.length === 1 && first!.method === 'GET' && !first!.body && first!.headers.length === 0;
        if (!plain) {
          spec.requests.forEach((request, index) => {
            if (request.body) writeFileSync(join(dir, `body-${index}`), request.body);
          });
          writeFileSync(join(dir, 'requests.lua'), wrkScript(spec.requests, (index) => join(dir, `body-${index}`)));
          args.push('-s', join(dir, 'requests.lua'));
        }
        args.push(`${spec.origin}${first!.path}`);
        const { code, stdout, stderr, cpuSec: loadgenCpuSec } = await runMeasured('wrk', args, dir);
        if (code !== 0) throw new Error(`wrk exited with ${code}: ${(stderr || stdout).trim().split('\n').pop()}`);
        const report = parseWrkOutput(stdout);
        const { connect, read, write, timeout } = report.socketErrors;
        return {
          requests: report.requests,
          durationSec: report.durationSec,
          rps: report.rps,
          latencyMs: { p50: report.latencyMs.p50, p90: report.latencyMs.p90, p99: report.latencyMs.p99, max: report.latencyMs.max },
          errors: connect + read + write + timeout,
          non2xx: report.non2xx,
          loadgenCpuSec,
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Runs `program args` under a `sh` wrapper that copies its own /proc/$$/stat once it has reaped
 * the program: cutime/cstime then hold exactly the program's user+sys time (NaN without /proc).
 */
export async function runMeasured(program: string, args: readonly string[], dir: string): Promise<{ code: number | null; stdout: string; stderr: string; cpuSec: number }> {
  const statFile = join(dir, 'stat');
  // $0 is the stat file, $1 the program; the rest are its arguments.
  const script = 'p="$1"; shift; "$p" "$@"; code=$?; cat /proc/$$/stat > "$0" 2>/dev/null; exit $code';
  const result = await collect(spawn('sh', ['-c', script, statFile, program, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let cpuSec = Number.NaN;
  try {
    const stat = parseStat(readFileSync(statFile, 'utf8'));
    if (stat) cpuSec = stat.cpuSec;
  } catch { /* no /proc: unknown */ }
  return { ...result, cpuSec };
}

export function collect(child: import('node:child_process').ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
