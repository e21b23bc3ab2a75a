// The chart: plain SVG that a browser and GitHub render (no script, no external resource), with
// four panels (req/s, latency, CPU per request, memory), every axis linear from 0, and failures
// shown as such. Bar lengths are checked against the sample report's figures, worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSvg, niceTicks } from '../src/report/svg.js';
import { assertWellFormed, count, sampleReport } from './kit/report.js';

/** The markup of one panel, `<g id="ID">...</g>` (panels do not nest). */
function panel(svg: string, id: string): string {
  const start = svg.indexOf(`<g id="${id}">`);
  assert.ok(start >= 0, `panel ${id} present`);
  return svg.slice(start, svg.indexOf('</g>', start) + 4);
}

interface Bar { x: number; width: number; fill: string }
function bars(markup: string): Bar[] {
  return [...markup.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="20"(?: rx="2")? fill="(#[0-9a-f]{6})"/g)]
    .map((m) => ({ x: Number(m[1]), width: Number(m[2]), fill: m[3]! }));
}

/** x of the axis (the dark vertical line at the left of the plot) and of the last grid line. */
function plotBounds(markup: string): { left: number; right: number } {
  const axis = /<line x1="([\d.]+)" y1="[\d.]+" x2="\1" y2="[\d.]+" stroke="#1f2328" stroke-width="1"\/>/.exec(markup);
  const grid = [...markup.matchAll(/<line x1="([\d.]+)" y1="[\d.]+" x2="\1" y2="[\d.]+" stroke="#d8dee4"/g)].map((m) => Number(m[1]));
  return { left: Number(axis![1]), right: Math.max(...grid) };
}

// Coordinates are written to 0.1 px, so a width may be off by 0.05 from the exact figure.
const near = (actual: number, expected: number, what: string, tolerance = 0.01) => assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} != ${expected}`);

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

test('four panels, each titled, with a labelled axis that starts at 0', () => {
  const svg = renderSvg(sampleReport());
  const panels = {
    'panel-rps': [/>Requests per second</, />requests per second \(linear, from 0\)</],
    'panel-latency': [/>Latency \(ms\)</, />milliseconds \(linear, from 0\)</],
    'panel-cpu': [/>Server CPU per request \(µs\)</, />µs per request \(linear, from 0\)</],
    'panel-memory': [/>Peak memory \(MiB RSS\)</, />MiB \(linear, from 0\)</],
  };
  for (const [id, patterns] of Object.entries(panels)) {
    const markup = panel(svg, id);
    for (const pattern of patterns) assert.match(markup, pattern, id);
    // The first tick label sits on the axis line and reads 0.
    const { left } = plotBounds(markup);
    assert.match(markup, new RegExp(`<text x="${left}" y="[\\d.]+" fill="#59636e" font-size="11" text-anchor="middle">0</text>`), `${id} axis starts at 0`);
  }
});

test('every bar starts on its axis and ends inside its plot', () => {
  const svg = renderSvg(sampleReport());
  for (const id of ['panel-rps', 'panel-latency', 'panel-cpu', 'panel-memory']) {
    const markup = panel(svg, id);
    const { left, right } = plotBounds(markup);
    assert.ok(bars(markup).length >= 2, id);
    for (const bar of bars(markup)) {
      assert.equal(bar.x, left, `${id} bar starts at the axis`);
      assert.ok(bar.x + bar.width <= right + 0.05, `${id} bar ends at ${bar.x + bar.width}, plot ends at ${right}`);
    }
  }
});

test('req/s bars keep the targets\' proportion; a failed target gets a note, not a bar', () => {
  const markup = panel(renderSvg(sampleReport()), 'panel-rps');
  const [prefork, peer] = bars(markup).map((b) => b.width);
  assert.equal(bars(markup).length, 2, 'prefork and node-http are measured, threaded failed');
  near(prefork! / peer!, 10000 / 8000, 'bar widths');
  assert.match(markup, />failed: see report</);
  assert.match(markup, />10,000</);
  assert.match(markup, />1.25x</);
  // Whiskers: a horizontal line from the slowest to the fastest round plus two end caps per target.
  assert.equal(count(markup, /<line [^>]*stroke="#1f2328" stroke-width="1.5"\/>/), 2 * 3);
});

test('latency: stacked bars from 0 to p50, p90 and p99 on a linear axis to the largest p99; max as text', () => {
  const markup = panel(renderSvg(sampleReport()), 'panel-latency');
  const { left, right } = plotBounds(markup);
  // Largest p99 is 9.8 ms: ticks 0, 2, 4, ..., 10, so 10 ms is the right edge.
  assert.match(markup, />10</);
  const scale = (ms: number) => ((right - left) * ms) / 10;
  const widths = bars(markup).map((b) => b.width);
  // prefork p99, p90, p50 (widest first), then node-http's.
  const expected = [9.8, 3.4, 1.2, 5, 4, 2.5].map(scale);
  assert.equal(widths.length, expected.length);
  widths.forEach((w, i) => near(w, expected[i]!, `latency bar ${i}`, 0.051));
  assert.match(markup, /<title>prefork p99: 9.80 ms<\/title>/);
  assert.match(markup, />p99 9.80 · max 41.0 ms</);
  for (const label of ['p50', 'p90', 'p99']) assert.match(markup, new RegExp(`>${label}</text>`));
});

test('CPU per request and memory: one bar per measured target, in proportion, with the value', () => {
  const svg = renderSvg(sampleReport());
  const cpu = panel(svg, 'panel-cpu');
  const [preforkCpu, peerCpu] = bars(cpu).map((b) => b.width);
  near(preforkCpu! / peerCpu!, 25 / 50, 'CPU bars');
  assert.match(cpu, />25 µs</);
  const memory = panel(svg, 'panel-memory');
  const [preforkRss, peerRss] = bars(memory).map((b) => b.width);
  near(preforkRss! / peerRss!, 120 / 60, 'RSS bars');
  assert.match(memory, />120 MiB</);
  assert.match(memory, />60 MiB</);
});

test('text from the report is escaped', () => {
  const svg = renderSvg(sampleReport());
  assert.match(svg, /examples\/&lt;odd&gt; &amp; &quot;quoted&quot;\/app\.js/);
});

test('axis ticks are round numbers from 0 that cover the data', () => {
  assert.deepEqual(niceTicks(54368, 6), [0, 10000, 20000, 30000, 40000, 50000, 60000]);
  assert.deepEqual(niceTicks(9, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(9.8, 6), [0, 2, 4, 6, 8, 10]);
});
