// The chart: plain SVG that a browser and GitHub render (no script, no external resource), with
// one bar and whisker per measured target, the latency percentiles, and failures shown as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg, niceTicks, logTicks } from '../src/report/svg.js';
import { assertWellFormed, count, sampleReport } from './kit/report.js';

test('the chart is one well-formed <svg> with a size, a viewBox, a title and a white background', () => {
  const svg = renderSvg(sampleReport());
  assertWellFormed(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
  assert.match(svg, /<title id="chart-title">Gatehouse bench: hello/);
  assert.match(svg, /<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"\/>/);
});

test('nothing in the chart needs a script, a stylesheet or another file', () => {
  const svg = renderSvg(sampleReport());
  assert.doesNotMatch(svg, /<script|<style|<image|href=|@import|url\(/i);
});

test('each measured target gets a bar whose length follows its req/s; a failed one gets a note, not a bar', () => {
  const svg = renderSvg(sampleReport());
  const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="20" rx="2" fill="(#[0-9a-f]{6})"/g)];
  assert.equal(bars.length, 2, 'prefork and node-http are measured, threaded failed');
  const [prefork, peer] = bars.map((b) => Number(b[2]));
  // 10000 vs 8000 req/s: the bars keep that proportion.
  assert.ok(Math.abs(prefork! / peer! - 10000 / 8000) < 0.01, `bar widths ${prefork} / ${peer}`);
  assert.match(svg, />failed: see report</);
  assert.match(svg, />10,000</);
  assert.match(svg, />1.25x</);
});

test('whiskers: a horizontal line from the slowest to the fastest round plus two end caps per target', () => {
  const svg = renderSvg(sampleReport());
  assert.equal(count(svg, /<line [^>]*stroke="#1f2328" stroke-width="1.5"\/>/), 2 * 3);
});

test('the latency panel has p50, p90, p99 and max markers for each measured target, plus a legend', () => {
  const svg = renderSvg(sampleReport());
  assert.equal(count(svg, /<circle [^>]*><title>/), 2 * 4);
  for (const label of ['p50', 'p90', 'p99', 'max']) assert.match(svg, new RegExp(`>${label}</text>`));
  assert.match(svg, /<title>prefork p99: 9.80 ms<\/title>/);
});

test('text from the report is escaped', () => {
  const svg = renderSvg(sampleReport());
  assert.match(svg, /examples\/&lt;odd&gt; &amp; &quot;quoted&quot;\/app\.js/);
});

test('axis ticks are round numbers that cover the data', () => {
  assert.deepEqual(niceTicks(54368, 6), [0, 10000, 20000, 30000, 40000, 50000, 60000]);
  assert.deepEqual(niceTicks(9, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(logTicks(0.4, 96), [0.1, 1, 10, 100]);
});
