// A hand-made BenchReport for renderer tests, and a small XML well-formedness check (no XML
// parser is a dependency here: tags must nest and close, attributes must be quoted, entities known).
import { REPORT_SCHEMA, type BenchReport, type TargetReport } from '../../src/report/types.js';

function okTarget(name: string, kind: 'engine' | 'peer', rps: [number, number, number], ratio: number): TargetReport {
  const [min, med, max] = rps;
  const latencyMs = { p50: 1.2, p90: 3.4, p99: 9.8, max: 41 };
  return {
    name, kind, workers: 2, threads: 1, command: `node ${name}.js`, status: 'ok',
    rounds: [min, med, max].map((value, i) => ({ round: i + 1, requests: value * 2, durationSec: 2, rps: value, latencyMs, errors: 0, non2xx: 0, cpuSec: 1.5, loadgenCpuSec: 0.8, peakRssBytes: 80 * 1024 * 1024 })),
    summary: {
      rps: { median: med, min, max, spreadPct: ((max - min) / med) * 100 },
      latencyMs, requests: (min + med + max) * 2, errors: 0, non2xx: 0, cpuSecPerRound: 1.5, cpuUsPerRequest: 25,
      loadgenCpuSecPerRound: 0.8, peakRssBytes: 80 * 1024 * 1024, ratio,
    },
  };
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
      okTarget('prefork', 'engine', [9000, 10000, 11000], 1.25),
      okTarget('node-http', 'peer', [7500, 8000, 8200], 1),
      { name: 'threaded', kind: 'engine', workers: 1, threads: 2, command: 'node serve.js', status: 'failed', error: 'failed to start: boom', rounds: [], summary: null },
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
