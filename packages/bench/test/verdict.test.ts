// Verdicts: fixed per-round figures in, the exact sentence out. The expected sentences are written
// out by hand from the rule in docs/benchmarks.md ("Verdicts"): a difference counts only when the
// rounds' req/s ranges do not overlap, with at least 3 rounds each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, comparisons, outcomeOf, tradeOffLines } from '../src/report/verdict.js';
import { okTarget, failedTarget, reportOf } from './kit/report.js';

test('the rule: separate ranges are a win or a loss; touching or overlapping ones are noise; under 3 rounds is not judged', () => {
  assert.equal(outcomeOf([110, 120, 115], [90, 95, 100]), 'faster');
  assert.equal(outcomeOf([90, 95, 100], [110, 120, 115]), 'slower');
  assert.equal(outcomeOf([100, 120, 115], [90, 95, 100]), 'within-noise', 'the slowest round equals the other\'s fastest');
  // The medians differ by 17%, but one round of each crosses the other's range.
  assert.equal(outcomeOf([85, 120, 117], [99, 100, 101]), 'within-noise');
  assert.equal(outcomeOf([200, 210], [100, 101]), 'too-few-rounds');
});

test('a clear win names the target, the ratio, both medians, the rounds that decide it, and CPU per request', () => {
  const prefork = okTarget('prefork', 'engine', { rounds: [11000, 12000, 11500], cpuUsPerRequest: 40 });
  const peer = okTarget('node-http', 'peer', { rounds: [9000, 9500, 10000], cpuUsPerRequest: 52, workers: 1 });
  assert.equal(compare(prefork, peer)!.line,
    'prefork 2x1 at 1.21x node-http 1x1 (11,500 vs 9,500 req/s), faster beyond noise: its slowest round ' +
    '(11,000 req/s) beat the fastest of node-http (10,000); server CPU per request 40 vs 52 µs.');
});

test('a clear loss says slower and which rounds show it', () => {
  const threaded = okTarget('threaded', 'engine', { rounds: [7000, 7400, 7200], workers: 1, threads: 2, cpuUsPerRequest: 61 });
  const prefork = okTarget('prefork', 'engine', { rounds: [9900, 10000, 10400], cpuUsPerRequest: 45 });
  const comparison = compare(threaded, prefork)!;
  assert.equal(comparison.outcome, 'slower');
  assert.equal(comparison.line,
    'threaded 1x2 at 0.72x prefork 2x1 (7,200 vs 10,000 req/s), slower beyond noise: its fastest round ' +
    '(7,400 req/s) was below the slowest of prefork (9,900); server CPU per request 61 vs 45 µs.');
});

test('overlapping rounds are "within noise", with both ranges, however far apart the medians', () => {
  // A run like the one that printed 0.85x with a ±42% spread: the ratio alone would read as a loss.
  const threaded = okTarget('threaded', 'engine', { rounds: [5000, 8500, 9300], workers: 1, threads: 2 });
  const prefork = okTarget('prefork', 'engine', { rounds: [9200, 10000, 10100] });
  const comparison = compare(threaded, prefork)!;
  assert.equal(comparison.outcome, 'within-noise');
  assert.equal(comparison.line,
    'threaded 1x2 at 0.85x prefork 2x1 (8,500 vs 10,000 req/s), within noise: the rounds overlap ' +
    '(5,000-9,300 vs 9,200-10,100 req/s); server CPU per request 25 vs 25 µs.');
});

test('with fewer than 3 rounds the verdict says it cannot judge noise and how to fix that', () => {
  const a = okTarget('single', 'engine', { rounds: [20000], workers: 1 });
  const b = okTarget('node-http', 'peer', { rounds: [10000], workers: 1 });
  assert.match(compare(a, b)!.line, /^single 1x1 at 2\.00x node-http 1x1 \(20,000 vs 10,000 req\/s\), noise not judged: 1 round\(s\), 3 or more needed \(--rounds\);/);
});

test('every measured target is compared with the baseline; the baseline and failed targets are not', () => {
  const report = reportOf([
    okTarget('prefork', 'engine', { rounds: [11000, 12000, 11500] }),
    failedTarget('threaded', 'failed to start: boom'),
    okTarget('node-http', 'peer', { rounds: [9000, 9500, 10000], workers: 1 }),
  ], 'node-http');
  assert.deepEqual(comparisons(report).map((c) => [c.target, c.baseline, c.outcome]), [['prefork', 'node-http', 'faster']]);
});

test('hybrid slower than prefork at equal cores: says so in words, weighed against the memory it saves', () => {
  const report = reportOf([
    okTarget('prefork', 'engine', { rounds: [10000, 10200, 9900], peakRssMiB: 150 }),
    okTarget('hybrid', 'engine', { rounds: [7000, 7100, 6900], workers: 1, threads: 2, peakRssMiB: 90 }),
  ], 'prefork');
  assert.deepEqual(tradeOffLines(report), [
    'hybrid 1x2 serves this app at 0.70x prefork 2x1: pick hybrid only when its smaller memory (90 MiB vs 150 MiB peak RSS) ' +
    'matters more than that throughput.',
  ]);
});

test('hybrid slower and no lighter: prefork is named the better pick; within noise: pick by memory', () => {
  const slowAndHeavy = reportOf([
    okTarget('prefork', 'engine', { rounds: [10000, 10200, 9900], peakRssMiB: 150 }),
    okTarget('hybrid', 'engine', { rounds: [7000, 7100, 6900], workers: 1, threads: 2, peakRssMiB: 160 }),
  ], 'prefork');
  assert.deepEqual(tradeOffLines(slowAndHeavy), [
    'hybrid 1x2 serves this app at 0.70x prefork 2x1 and uses no less memory (160 MiB vs 150 MiB peak RSS): prefork is the better pick for this app.',
  ]);
  const alike = reportOf([
    okTarget('prefork', 'engine', { rounds: [10000, 10200, 9900], peakRssMiB: 150 }),
    okTarget('threaded', 'engine', { rounds: [9500, 10100, 9800], workers: 1, threads: 2, peakRssMiB: 70 }),
  ], 'prefork');
  assert.deepEqual(tradeOffLines(alike), [
    'threaded 1x2 serves this app at 0.98x prefork 2x1, within noise: pick by memory (70 MiB vs 150 MiB peak RSS) and by what each engine offers (docs/engines.md).',
  ]);
});

test('no trade-off sentence when the engines run on different numbers of cores', () => {
  const report = reportOf([
    okTarget('prefork', 'engine', { rounds: [10000, 10200, 9900], workers: 4 }),
    okTarget('hybrid', 'engine', { rounds: [7000, 7100, 6900], workers: 1, threads: 2 }),
  ], 'prefork');
  assert.deepEqual(tradeOffLines(report), []);
});
