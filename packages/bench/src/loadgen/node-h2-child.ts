/*
 * Runs in its own process (spawned by node-h2.ts): HTTP/2 load with Node's http2 client, then
 * one JSON line on stdout (child.ts). `connections` sessions with prior knowledge (h2c), each
 * keeping `streams` requests in flight: a stream that completes is replaced at once, as h2load
 * -m does. The requests of the spec are sent in turn. A session that fails is replaced; the
 * requests it lost count as errors. Every latency is kept (a run of a few seconds is at most a
 * few million numbers) and the percentiles are exact.
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ChildResult, ChildSpec } from './child.js';

/** RFC 9113 §8.2.2: fields that do not exist in HTTP/2 (and host, which :authority replaces). */
const NOT_ON_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

class Timeout extends Error {}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildSpec;
const requests = spec.requests.map((r) => ({
  headers: { ':method': r.method, ':path': r.path, ...Object.fromEntries(r.headers.filter(([name]) => !NOT_ON_H2.has(name.toLowerCase()))) } as http2.OutgoingHttpHeaders,
  body: r.body === undefined ? undefined : Buffer.from(r.body, 'base64'),
}));
const timeoutMs = spec.timeoutSec * 1000;
const latencies: number[] = [];
let errors = 0;
let timeouts = 0;
let non2xx = 0;

function send(session: http2.ClientHttp2Session, request: (typeof requests)[number]): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request(request.headers, { endStream: request.body === undefined });
    let status = 0;
    const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); reject(new Timeout()); }, timeoutMs);
    stream.on('response', (headers) => { status = Number(headers[':status']); });
    stream.on('data', () => { /* read and dropped */ });
    stream.on('end', () => { clearTimeout(timer); resolve(status); });
    stream.on('error', (error) => { clearTimeout(timer); reject(error); });
    if (request.body !== undefined) stream.end(request.body);
  });
}

async function connection(index: number, end: number): Promise<void> {
  let session: http2.ClientHttp2Session | null = null;
  const current = (): http2.ClientHttp2Session => {
    if (session === null || session.destroyed || session.closed) {
      session = http2.connect(spec.origin);
      session.on('error', () => { /* its streams fail and count */ });
    }
    return session;
  };
  const loop = async (first: number): Promise<void> => {
    for (let i = first; performance.now() < end; i++) {
      const started = performance.now();
      try {
        const status = await send(current(), requests[i % requests.length]!);
        latencies.push(performance.now() - started);
        if (status < 200 || status > 299) non2xx++;
      } catch (error) {
        if (error instanceof Timeout) timeouts++;
        else errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.streams }, (_, k) => loop(index + k)));
  (session as http2.ClientHttp2Session | null)?.close();
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const cpuBefore = process.cpuUsage();
const started = performance.now();
const end = started + spec.durationSec * 1000;
await Promise.all(Array.from({ length: spec.connections }, (_, index) => connection(index, end)));
const durationSec = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const sorted = Float64Array.from(latencies).sort();
const result: ChildResult = {
  requests: latencies.length,
  durationSec,
  latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN },
  errors: errors + timeouts,
  timeouts,
  non2xx,
  loadgenCpuSec: (cpu.user + cpu.system) / 1e6,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
