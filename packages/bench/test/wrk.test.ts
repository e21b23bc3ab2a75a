// wrk's --latency text report, parsed from outputs captured from real wrk 4.1.0 runs
// (test/fixtures/wrk-*.txt); expected values are read off those files by eye.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseWrkDuration, parseWrkOutput, wrkScript } from '../src/loadgen/wrk.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url)), 'utf8');

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test('wrk durations in us, ms, s and m become milliseconds', () => {
  near(parseWrkDuration('486.60us'), 0.4866);
  assert.equal(parseWrkDuration('3.93ms'), 3.93);
  assert.equal(parseWrkDuration('1.50s'), 1500);
  assert.equal(parseWrkDuration('2.00m'), 120_000);
  assert.ok(Number.isNaN(parseWrkDuration('fast')));
});

test('a clean run: totals, requests/s, the latency distribution and max from the thread stats', () => {
  const report = parseWrkOutput(fixture('wrk-ok.txt'));
  assert.equal(report.requests, 60062);
  assert.equal(report.durationSec, 2);
  assert.equal(report.rps, 29981.28);
  near(report.latencyMs.p50, 0.256);
  near(report.latencyMs.p75, 0.375);
  near(report.latencyMs.p90, 0.572);
  assert.equal(report.latencyMs.p99, 3.93);
  assert.equal(report.latencyMs.max, 25.59);
  assert.equal(report.non2xx, 0);
  assert.deepEqual(report.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
});

test('non-2xx responses are counted, and percentiles printed in mixed units are all ms', () => {
  const report = parseWrkOutput(fixture('wrk-non2xx.txt'));
  assert.equal(report.requests, 81366);
  assert.equal(report.durationSec, 2.08);
  assert.equal(report.non2xx, 27123);
  near(report.latencyMs.p90, 0.87);
  assert.equal(report.latencyMs.p99, 3.46);
  assert.equal(report.latencyMs.max, 8.61);
});

test('socket errors are read per kind', () => {
  const report = parseWrkOutput(fixture('wrk-socket-errors.txt'));
  assert.equal(report.requests, 753);
  assert.deepEqual(report.socketErrors, { connect: 0, read: 15, write: 0, timeout: 0 });
  assert.equal(report.rps, 248.7);
});

test('output without a totals line is an error, not a run of zero requests', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /requests in/);
});

test('the Lua script sends each request in turn, with its method, headers and body file', () => {
  const script = wrkScript([
    { method: 'GET', path: '/hello', headers: [] },
    { method: 'POST', path: '/upload', headers: [['content-type', 'application/octet-stream']], body: new Uint8Array(4) },
  ], (i) => `/tmp/body-${i}`);
  assert.match(script, /reqs\[1\] = wrk\.format\("GET", "\/hello", \{  \}, nil\)/);
  assert.match(script, /io\.open\("\/tmp\/body-1", "rb"\)/);
  assert.match(script, /reqs\[2\] = wrk\.format\("POST", "\/upload", \{ \["content-type"\] = "application\/octet-stream" \}, f1:read\("\*a"\)\)/);
  assert.match(script, /request = function\(\)\n {2}i = i % #reqs \+ 1\n {2}return reqs\[i\]/);
});
