// HTTP/2 load: the node-h2 generator against a real node:http2 server (sessions, streams in
// flight, what it sends), h2load's output parsed from a fixture (h2load itself is not needed),
// and `serve bench --protocol h2c` end to end with engines and the node-http peer serving h2c.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../src/index.js';
import { h2loadArgs, h2loadRefuses, latencyFromLog, parseH2loadOutput } from '../src/loadgen/h2load.js';
import { createNodeH2 } from '../src/loadgen/node-h2.js';
import type { LoadSpec } from '../src/loadgen/types.js';
import { repoRoot } from '../src/scenarios.js';

const root = repoRoot()!;
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-h2-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('node-h2: C sessions, each keeping S streams in flight; every response counted; no HTTP/1.1-only fields sent', { timeout: 30_000 }, async (t) => {
  let sessions = 0;
  let served = 0;
  let inFlight = 0;
  let peak = 0;
  const seen: http2.IncomingHttpHeaders[] = [];
  const server = http2.createServer();
  server.on('session', () => { sessions++; });
  server.on('stream', (stream, headers) => {
    if (seen.length < 3) seen.push(headers);
    inFlight++;
    peak = Math.max(peak, inFlight);
    // Held a moment, so a generator that sent one stream at a time could not reach the peak.
    setTimeout(() => {
      inFlight--;
      served++;
      stream.respond({ ':status': headers[':path'] === '/missing' ? 404 : 200 });
      stream.end('hi');
    }, 5);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const spec: LoadSpec = {
    origin: `http://127.0.0.1:${port}`, connections: 3, streams: 4, durationSec: 1, threads: 1, timeoutSec: 5,
    requests: [{ method: 'GET', path: '/', headers: [['connection', 'keep-alive'], ['x-bench', '1']] }, { method: 'GET', path: '/missing', headers: [] }],
  };
  const result = await createNodeH2().run(spec);
  assert.equal(sessions, 3);
  assert.equal(peak, 12, '3 sessions x 4 streams in flight');
  assert.ok(result.requests > 100, `${result.requests} responses`);
  assert.equal(result.requests, served, 'every response the server sent was counted, and only those');
  assert.equal(result.errors, 0);
  assert.ok(Math.abs(result.non2xx - result.requests / 2) <= 12, `half the requests were /missing (non-2xx ${result.non2xx} of ${result.requests})`);
  assert.ok(result.latencyMs.p50 >= 5 && result.latencyMs.p50 <= result.latencyMs.max);
  assert.ok(result.loadgenCpuSec > 0);
  const first = seen.find((h) => h[':path'] === '/')!;
  assert.equal(first['x-bench'], '1');
  assert.equal(first.connection, undefined);
});

const H2LOAD_OUTPUT = `starting benchmark...
spawning thread #0: 64 total client(s). Timing-based test with 0s of warm-up time and 10s of main duration for measurements.
Warm-up phase is over for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 10.00s, 41234.50 req/s, 1.83MB/s
requests: 412345 total, 412985 started, 412345 done, 412000 succeeded, 345 failed, 300 errored, 5 timeout
status codes: 412000 2xx, 10 3xx, 20 4xx, 10 5xx
traffic: 18.31MB (19197850) total, 1.19MB (1248120) headers (space savings 95.42%), 5.11MB (5360485) data
                     min         max         mean         sd        +/- sd
time for request:      231us     38.87ms     13.16ms      3.42ms    70.32%
`;

test('h2load: its summary and its per-request log are read into the figures', () => {
  const report = parseH2loadOutput(H2LOAD_OUTPUT);
  assert.deepEqual(report, { durationSec: 10, done: 412345, succeeded: 412000, failed: 345, errored: 300, timeout: 5, non2xx: 40 });
  // start time (us since epoch), status, microseconds to the end of the response; 10 requests of 1..10 ms.
  const log = Array.from({ length: 10 }, (_, i) => `1700000000${String(i).padStart(6, '0')}\t200\t${(10 - i) * 1000}`).join('\n') + '\n';
  assert.deepEqual(latencyFromLog(log), { p50: 5, p90: 9, p99: 10, max: 10 });
});

test('h2load: arguments carry connections, streams, duration, headers and each path; methods it cannot send are refused', () => {
  const spec: LoadSpec = {
    origin: 'http://127.0.0.1:9', connections: 64, streams: 10, durationSec: 5, threads: 2, timeoutSec: 30,
    requests: [{ method: 'GET', path: '/a', headers: [['x-a', '1']] }, { method: 'GET', path: '/b', headers: [['x-a', '1']] }],
  };
  assert.deepEqual(h2loadArgs(spec, '/tmp/log', null), ['-c', '64', '-m', '10', '-t', '2', '-D', '5', '-T', '30', '--log-file', '/tmp/log', '-H', 'x-a: 1', 'http://127.0.0.1:9/a', 'http://127.0.0.1:9/b']);
  assert.equal(h2loadRefuses(spec), null);
  assert.match(h2loadRefuses({ ...spec, requests: [{ method: 'PUT', path: '/', headers: [] }] })!, /not PUT/);
  assert.equal(h2loadRefuses({ ...spec, requests: [{ method: 'POST', path: '/', headers: [], body: Buffer.from('x') }] }), null);
});

test('serve bench --protocol h2c: engines and the node-http peer serve h2c; the report says h2c and the streams', { timeout: 90_000 }, async () => {
  const out = join(scratch, 'h2c');
  const report = await runBench({
    app: join(root, 'examples', 'hello', 'app.js'), engines: ['single', 'prefork'], peers: ['node-http'], workers: 1, duration: 1, rounds: 1, warmup: 0,
    connections: 2, streams: 4, protocol: 'h2c', loadgen: 'node-h2', out, cwd: root,
  });
  assert.equal(report.load.generator, 'node-h2');
  assert.equal(report.load.protocol, 'h2c');
  assert.equal(report.load.streams, 4);
  assert.deepEqual(report.targets.map((target) => target.name), ['single', 'prefork', 'node-http']);
  for (const target of report.targets) {
    assert.equal(target.status, 'ok', `${target.name}: ${target.error}`);
    assert.ok(target.summary!.requests > 0, `${target.name} served requests over h2c`);
    assert.equal(target.summary!.errors, 0, `${target.name}: no stream or session errors`);
    assert.equal(target.summary!.non2xx, 0);
  }
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, /- \*\*Load\*\*: node-h2 node v[\d.]+, 2 connections over h2c x 4 streams,/);
  assert.match(md, /^- node-http: `PROTOCOL=h2c PORT=\d+ node /m);
});
