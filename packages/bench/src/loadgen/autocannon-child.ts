/*
 * Runs in its own process (spawned by autocannon.ts): one autocannon run, then one JSON line on
 * stdout with the figures and this process's own CPU time. A separate process keeps the load
 * generator's event loop apart from the tool's sampler and makes its CPU cost measurable.
 */
import { readFileSync } from 'node:fs';
import type { ChildSpec } from './child.js';
// autocannon ships no types; the few fields used are declared at the use site.
// @ts-ignore
import autocannon from 'autocannon';

interface AutocannonResult {
  requests: { total: number };
  duration: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** The slice of autocannon's per-connection Client that onePerConnection wraps. */
interface AutocannonClient {
  _connect(): void;
  _doRequest(...args: unknown[]): void;
  getRequestBuffer(): Buffer;
}

const KEEP_ALIVE_LINE = Buffer.from('\r\nConnection: keep-alive\r\n');

/** The request bytes without the `Connection: keep-alive` line autocannon adds to every request. */
function withoutKeepAlive(request: Buffer): Buffer {
  const at = request.indexOf(KEEP_ALIVE_LINE);
  if (at === -1) return request;
  return Buffer.concat([request.subarray(0, at + 2), request.subarray(at + KEEP_ALIVE_LINE.length)]);
}

/**
 * Connection per request. autocannon writes the next request as soon as a response completes,
 * onto the socket a `Connection: close` server is closing: the request is lost or reset and its
 * queue entry skews every later latency. Its own reconnect option (reconnectRate) drops the
 * response it reconnects on from the counts. So each connection gets exactly one request here:
 * the request after a response waits for the server's close, and autocannon's reconnect on
 * 'end' sends it on a new connection. A server that does not close shows up as timeouts.
 * autocannon also writes `Connection: keep-alive` into every request; it is taken out, so the
 * server sees one unambiguous `Connection: close`.
 * These are private methods of autocannon's Client (pinned at 8.0.0); the loadgen test checks
 * one request per connection against a real server, so an upgrade that changes them fails it.
 */
function onePerConnection(client: AutocannonClient): void {
  const connect = client._connect;
  const doRequest = client._doRequest;
  const requestBuffer = client.getRequestBuffer;
  const rewritten = new WeakMap<Buffer, Buffer>();
  client.getRequestBuffer = function (this: AutocannonClient) {
    const original = requestBuffer.call(this);
    let request = rewritten.get(original);
    if (!request) rewritten.set(original, (request = withoutKeepAlive(original)));
    return request;
  };
  let sent = false;
  client._connect = function (this: AutocannonClient) {
    sent = false;
    connect.call(this);
  };
  client._doRequest = function (this: AutocannonClient, ...args: unknown[]) {
    if (sent) return;
    sent = true;
    doRequest.apply(this, args);
  };
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
const closing = requests.every((r) => Object.entries(r.headers).some(([name, value]) => name.toLowerCase() === 'connection' && value.toLowerCase() === 'close'));
const result = (await autocannon(closing ? { ...options, setupClient: onePerConnection } : options)) as AutocannonResult;
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
