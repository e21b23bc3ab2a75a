// A hand-made BenchReport for renderer tests, and a small XML well-formedness check (no XML
// parser is a dependency here: tags must nest and close, attributes must be quoted, entities known).
import { REPORT_SCHEMA, type BenchReport, type TargetReport } from '../../src/report/types.js';

export interface TargetFigures {
  /** req/s of each round, in round order. */
  readonly rounds: readonly number[];
  readonly ratio?: number;
  readonly latencyMs?: { p50: number; p90: number; p99: number; max: number };
  readonly cpuUsPerRequest?: number;
  readonly peakRssMiB?: number;
  readonly workers?: number;
  readonly threads?: number;
}

/** A measured target whose summary is computed by hand from `figures` (median of 3 by sorting). */
export function okTarget(name: string, kind: 'engine' | 'peer', figures: TargetFigures): TargetReport {
  const rps = figures.rounds;
  const sorted = [...rps].sort((a, b) => a - b);
  const [min, max] = [sorted[0]!, sorted[sorted.length - 1]!];
  const med = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const latencyMs = figures.latencyMs ?? { p50: 1.2, p90: 3.4, p99: 9.8, max: 41 };
  const peakRssBytes = (figures.peakRssMiB ?? 80) * 1024 * 1024;
  return {
    name, kind, workers: figures.workers ?? 2, threads: figures.threads ?? 1, command: `node ${name}.js`, status: 'ok',
    rounds: rps.map((value, i) => ({ round: i + 1, requests: value * 2, durationSec: 2, rps: value, latencyMs, errors: 0, non2xx: 0, cpuSec: 1.5, loadgenCpuSec: 0.8, peakRssBytes })),
    summary: {
      rps: { median: med, min, max, spreadPct: ((max - min) / med) * 100 },
      latencyMs, requests: rps.reduce((a, b) => a + b, 0) * 2, errors: 0, non2xx: 0, cpuSecPerRound: 1.5, cpuUsPerRequest: figures.cpuUsPerRequest ?? 25,
      loadgenCpuSecPerRound: 0.8, peakRssBytes, ratio: figures.ratio ?? 1,
    },
  };
}

export function failedTarget(name: string, error: string): TargetReport {
  return { name, kind: 'engine', workers: 1, threads: 2, command: 'node serve.js', status: 'failed', error, rounds: [], summary: null };
}

export function reportOf(targets: TargetReport[], baseline: string, rounds = 3): BenchReport {
  return { ...sampleReport(), baseline, targets, load: { ...sampleReport().load, rounds } };
}

export function sampleReport(): BenchReport {
  return {
    schema: REPORT_SCHEMA,
    date: '2025-01-02T03:04:05.000Z',
    command: 'serve bench examples/hello/app.js --peers node-http',
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryBytes: 8 * 1024 ** 3, node: 'v20.20.2', platform: 'linux', arch: 'x64' },
    app: 'examples/<odd> & "quoted"/app.js',
    scenario: { name: 'hello', describe: 'GET /', requests: [{ method: 'GET', path: '/', bodyBytes: 0 }] },
    load: { generator: 'autocannon', version: '8.0.0', connections: 10, durationSec: 2, rounds: 3, warmupSec: 1, threads: 1 },
    parallelism: 2,
    baseline: 'node-http',
    targets: [
      okTarget('prefork', 'engine', { rounds: [9000, 10000, 11000], ratio: 1.25, latencyMs: { p50: 1.2, p90: 3.4, p99: 9.8, max: 41 }, cpuUsPerRequest: 25, peakRssMiB: 120 }),
      okTarget('node-http', 'peer', { rounds: [7500, 8000, 8200], ratio: 1, latencyMs: { p50: 2.5, p90: 4, p99: 5, max: 30 }, cpuUsPerRequest: 50, peakRssMiB: 60, workers: 1 }),
      failedTarget('threaded', 'failed to start: boom'),
    ],
  };
}

/** Throws unless `xml` is well-formed: one root, balanced tags, quoted attributes, known entities. */
export function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  let last = 0;
  let roots = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    if (/[<>]/.test(between)) throw new Error(`stray markup near: ${between.slice(0, 80)}`);
    for (const entity of between.match(/&[^;\s]*;?/g) ?? []) {
      if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);$/i.test(entity)) throw new Error(`bad entity ${entity}`);
    }
    last = m.index + m[0].length;
    if (!m[2]) continue; // comment or declaration
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) throw new Error(`</${m[2]}> closes <${open}>`);
    } else if (!m[4]) {
      if (stack.length === 0) roots++;
      stack.push(m[2]);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  if (/[<>]/.test(xml.slice(last))) throw new Error('markup that is not a well-formed tag');
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
}

export function count(xml: string, re: RegExp): number {
  return (xml.match(new RegExp(re.source, 'g')) ?? []).length;
}
