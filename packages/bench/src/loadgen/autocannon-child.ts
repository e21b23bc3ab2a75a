/*
 * Runs in its own process (spawned by autocannon.ts): one autocannon run, then one JSON line on
 * stdout with the figures and this process's own CPU time. A separate process keeps the load
 * generator's event loop apart from the tool's sampler and makes its CPU cost measurable.
 */
import { readFileSync } from 'node:fs';
// autocannon ships no types; the few fields used are declared at the use site.
// @ts-ignore
import autocannon from 'autocannon';

interface ChildSpec {
  origin: string;
  connections: number;
  durationSec: number;
  timeoutSec: number;
  requests: { method: string; path: string; headers: [string, string][]; body?: string }[];
}

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildSpec;
const decode = (body?: string) => (body === undefined ? undefined : Buffer.from(body, 'base64'));
const requests = spec.requests.map((r) => ({ method: r.method, path: r.path, headers: Object.fromEntries(r.headers), body: decode(r.body) }));
const first = requests[0]!;
const cpuBefore = process.cpuUsage();
const options = {
  url: `${spec.origin}${first.path}`,
  connections: spec.connections,
  duration: spec.durationSec,
  timeout: spec.timeoutSec,
  ...(requests.length === 1 ? { method: first.method, headers: first.headers, body: first.body } : { requests }),
};
const result = (await autocannon(options)) as AutocannonResult;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({
  requests: result.requests.total,
  durationSec: result.duration,
  latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  loadgenCpuSec: (cpu.user + cpu.system) / 1e6,
})}\n`);
