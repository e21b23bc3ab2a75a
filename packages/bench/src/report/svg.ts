/*
 * chart.svg, four panels with one row per target: requests/s (bar = median over rounds, whisker =
 * slowest to fastest round), latency (stacked bars to p50, p90 and p99, max in text), server CPU
 * per request, and peak memory. Every axis is linear and starts at 0, so bar lengths compare
 * honestly; the latency axis ends at the largest p99, not the max, so one stray slow request
 * does not squash every bar (max is printed beside each row). Plain SVG 1.1:
 * no script, no CSS classes, no external font (a system sans-serif stack), a white background so
 * it reads on GitHub's dark theme too, and text widths estimated rather than measured, since
 * nothing can measure text when the file is generated.
 */
import { fmtCompact, fmtInt, fmtMiB, fmtMs, fmtRatio } from './format.js';
import type { BenchReport, TargetReport } from './types.js';

const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";
const WIDTH = 880;
const MARGIN = 24;
const LABEL_W = 170;
const VALUE_W = 170;
const ROW_H = 34;
const BAR_H = 20;
const INK = '#1f2328';
const MUTED = '#59636e';
const GRID = '#d8dee4';

/** Stable colours: engines in saturated hues, peers in greys (they are the yardstick). */
const COLOURS: Record<string, string> = {
  prefork: '#2f6fb0', threaded: '#e07b1a', hybrid: '#2e9a57', single: '#8e5bb5',
  'node-http': '#8c959f', 'node-cluster': '#57606a',
};
const SPARE = ['#c2410c', '#0e7490', '#a21caf', '#4d7c0f'];

/** Latency bars are stacked from 0: to p50 (darkest), on to p90, on to p99 (lightest). */
const PERCENTILES = [
  { key: 'p50', label: 'p50', fill: '#0b3d6e' },
  { key: 'p90', label: 'p90', fill: '#4f8fd0' },
  { key: 'p99', label: 'p99', fill: '#a9cbee' },
] as const;

type Summary = NonNullable<TargetReport['summary']>;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const n = (value: number) => (Math.round(value * 10) / 10).toString();

function text(x: number, y: number, content: string, attrs: Record<string, string | number> = {}): string {
  const extra = Object.entries({ fill: INK, 'font-size': 12, ...attrs }).map(([k, v]) => `${k}="${typeof v === 'number' ? n(v) : escapeXml(v)}"`).join(' ');
  return `<text x="${n(x)}" y="${n(y)}" ${extra}>${escapeXml(content)}</text>`;
}

/** A round axis maximum and its ticks: 1, 2, 2.5 or 5 times a power of ten. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function colourOf(target: TargetReport, index: number): string {
  return COLOURS[target.name] ?? SPARE[index % SPARE.length]!;
}

function label(target: TargetReport): { name: string; shape: string } {
  return {
    name: target.kind === 'peer' ? `${target.name} (peer)` : target.name,
    shape: target.status === 'skipped' ? '' : `${target.workers} proc x ${target.threads} thr`,
  };
}

export function renderSvg(report: BenchReport): string {
  const targets = report.targets;
  const ok = targets.filter((t) => t.status === 'ok' && t.summary);
  const plotX = MARGIN + LABEL_W;
  const plotW = WIDTH - plotX - VALUE_W - MARGIN;
  const out: string[] = [];
  let y = MARGIN;

  // Header.
  const load = report.load;
  const title = `Gatehouse bench: ${report.scenario.name} (${report.app})`;
  const subtitle = `${report.machine.cpus} cores, Node ${report.machine.node}, ${load.generator} ${load.version}, ` +
    `${load.connections} connections${load.protocol === 'h2c' ? ` (h2c x ${load.streams ?? 1} streams)` : ''}, ${load.rounds} rounds of ${load.durationSec} s, ${report.date.slice(0, 10)}`;
  out.push(text(MARGIN, y + 16, title, { 'font-size': 17, 'font-weight': 'bold' }));
  out.push(text(MARGIN, y + 36, subtitle, { fill: MUTED }));
  y += 64;

  // Panel 1: requests/s.
  out.push('<g id="panel-rps">');
  out.push(text(MARGIN, y + 12, 'Requests per second', { 'font-size': 14, 'font-weight': 'bold' }));
  out.push(text(MARGIN, y + 29, `higher is better · bar: median of ${load.rounds} rounds · whisker: slowest to fastest round · ratio vs ${report.baseline}`, { fill: MUTED, 'font-size': 11 }));
  y += 40;
  const panel1Top = y;
  const panel1H = targets.length * ROW_H;
  const xRps = linearAxis(out, plotX, plotW, panel1Top, panel1H, niceTicks(Math.max(1, ...ok.map((t) => t.summary!.rps.max)), 6), fmtCompact);
  targets.forEach((t, i) => {
    const rowY = panel1Top + i * ROW_H;
    const mid = rowY + ROW_H / 2;
    const { name, shape } = label(t);
    out.push(text(plotX - 10, mid - 2, name, { 'text-anchor': 'end', 'font-weight': t.name === report.baseline ? 'bold' : 'normal' }));
    out.push(text(plotX - 10, mid + 11, shape, { 'text-anchor': 'end', fill: MUTED, 'font-size': 10 }));
    const s = t.summary;
    if (!s || t.status !== 'ok') {
      out.push(text(plotX + 6, mid + 4, t.status === 'skipped' ? 'skipped' : 'failed: see report', { fill: '#b42318', 'font-style': 'italic' }));
      return;
    }
    const colour = colourOf(t, i);
    const barEnd = xRps(s.rps.median);
    out.push(`<rect x="${n(plotX)}" y="${n(mid - BAR_H / 2)}" width="${n(Math.max(1, barEnd - plotX))}" height="${BAR_H}" rx="2" fill="${colour}"${t.kind === 'peer' ? ' fill-opacity="0.85"' : ''}/>`);
    // Whisker: slowest to fastest round.
    const x1 = xRps(s.rps.min);
    const x2 = xRps(s.rps.max);
    out.push(`<line x1="${n(x1)}" y1="${n(mid)}" x2="${n(x2)}" y2="${n(mid)}" stroke="${INK}" stroke-width="1.5"/>`);
    for (const x of [x1, x2]) out.push(`<line x1="${n(x)}" y1="${n(mid - 6)}" x2="${n(x)}" y2="${n(mid + 6)}" stroke="${INK}" stroke-width="1.5"/>`);
    const valueX = Math.max(barEnd, x2) + 8;
    out.push(text(valueX, mid + 4, fmtInt(s.rps.median), { 'font-weight': 'bold' }));
    out.push(text(valueX + fmtInt(s.rps.median).length * 7.4 + 6, mid + 4, fmtRatio(s.ratio), { fill: MUTED }));
  });
  out.push(`<line x1="${n(plotX)}" y1="${n(panel1Top)}" x2="${n(plotX)}" y2="${n(panel1Top + panel1H)}" stroke="${INK}" stroke-width="1"/>`);
  out.push(axisLabel(plotX, plotW, panel1Top + panel1H, 'requests per second (linear, from 0)'));
  out.push('</g>');
  y = panel1Top + panel1H + 52;

  y = latencyPanel(out, report, y, plotX, plotW);
  y = barPanel(out, report, y, plotX, plotW, {
    id: 'panel-cpu',
    title: 'Server CPU per request (µs)',
    note: 'lower is better · user+sys of the whole process tree (all workers and threads) / requests served',
    axis: 'µs per request',
    value: (s) => s.cpuUsPerRequest,
    format: (v) => `${fmtInt(v)} µs`,
  });
  y = barPanel(out, report, y, plotX, plotW, {
    id: 'panel-memory',
    title: 'Peak memory (MiB RSS)',
    note: 'lower is better · resident memory summed over the whole process tree, peak of 100 ms samples',
    axis: 'MiB',
    value: (s) => s.peakRssBytes / 1024 / 1024,
    format: (v) => `${v.toFixed(0)} MiB`,
  });

  // The command, wrapped at spaces to the chart's width (about 6 px per character at 10 px).
  const perLine = Math.floor((WIDTH - 2 * MARGIN) / 6);
  let line = 'Command:';
  const lines: string[] = [];
  for (const word of report.command.split(' ')) {
    if (line.length + word.length + 1 > perLine) { lines.push(line); line = ' '; }
    line += ` ${word}`;
  }
  lines.push(line);
  for (const l of lines) {
    out.push(text(MARGIN, y + 8, l, { fill: MUTED, 'font-size': 10 }));
    y += 14;
  }
  y += 8;

  const height = Math.ceil(y);
  const summary = ok.map((t) => `${t.name} ${fmtInt(t.summary!.rps.median)} req/s, p99 ${fmtMs(t.summary!.latencyMs.p99)} ms, ` +
    `${fmtInt(t.summary!.cpuUsPerRequest)} µs CPU per request, ${fmtMiB(t.summary!.peakRssBytes)}`).join('; ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}" role="img" aria-labelledby="chart-title chart-desc">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(`Requests per second, latency percentiles, CPU per request and peak memory per target. ${summary}.`)}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

function axisLabel(plotX: number, plotW: number, bottom: number, label: string): string {
  return text(plotX + plotW / 2, bottom + 30, label, { 'text-anchor': 'middle', fill: MUTED, 'font-size': 11 });
}

/** Grid lines and tick labels from 0 to the last tick; returns the value -> x mapping. */
function linearAxis(out: string[], plotX: number, plotW: number, top: number, height: number, ticks: readonly number[], fmt: (v: number) => string): (v: number) => number {
  const last = ticks[ticks.length - 1]!;
  const x = (v: number) => plotX + (Math.min(Math.max(v, 0), last) / last) * plotW;
  for (const tick of ticks) {
    out.push(`<line x1="${n(x(tick))}" y1="${n(top)}" x2="${n(x(tick))}" y2="${n(top + height)}" stroke="${GRID}" stroke-width="1"/>`);
    out.push(text(x(tick), top + height + 15, fmt(tick), { 'text-anchor': 'middle', fill: MUTED, 'font-size': 11 }));
  }
  return x;
}

function rowLabel(out: string[], report: BenchReport, t: TargetReport, plotX: number, mid: number): void {
  out.push(text(plotX - 10, mid + 4, label(t).name, { 'text-anchor': 'end', 'font-weight': t.name === report.baseline ? 'bold' : 'normal' }));
}

function notMeasured(out: string[], t: TargetReport, plotX: number, mid: number): void {
  out.push(text(plotX + 6, mid + 4, t.status === 'ok' ? 'not measured' : t.status, { fill: MUTED, 'font-style': 'italic', 'font-size': 11 }));
}

function panelHead(out: string[], y: number, title: string, note: string): void {
  out.push(text(MARGIN, y + 12, title, { 'font-size': 14, 'font-weight': 'bold' }));
  out.push(text(MARGIN, y + 29, note, { fill: MUTED, 'font-size': 11 }));
}

function latencyPanel(out: string[], report: BenchReport, y: number, plotX: number, plotW: number): number {
  const ok = report.targets.filter((t) => t.status === 'ok' && t.summary);
  out.push('<g id="panel-latency">');
  panelHead(out, y, 'Latency (ms)', 'lower is better · bars from 0 to p50, p90, p99 (each the median over rounds) · max: worst of any round');
  let legendX = WIDTH - MARGIN - PERCENTILES.length * 52;
  for (const p of PERCENTILES) {
    out.push(`<rect x="${n(legendX)}" y="${n(y + 3)}" width="10" height="10" fill="${p.fill}"/>`);
    out.push(text(legendX + 14, y + 12, p.label, { 'font-size': 11 }));
    legendX += 52;
  }
  y += 40;
  const top = y;
  const height = report.targets.length * ROW_H;
  const p99s = ok.map((t) => t.summary!.latencyMs.p99).filter((v) => Number.isFinite(v) && v > 0);
  const ticks = niceTicks(p99s.length ? Math.max(...p99s) : 1, 6);
  const x = linearAxis(out, plotX, plotW, top, height, ticks, (v) => String(v));
  report.targets.forEach((t, i) => {
    const mid = top + i * ROW_H + ROW_H / 2;
    rowLabel(out, report, t, plotX, mid);
    const s = t.summary;
    if (!s || t.status !== 'ok') { notMeasured(out, t, plotX, mid); return; }
    // Widest first, so each shorter, darker bar is drawn over the one before.
    for (const p of [...PERCENTILES].reverse()) {
      const v = s.latencyMs[p.key];
      if (!Number.isFinite(v)) continue;
      out.push(`<rect x="${n(plotX)}" y="${n(mid - BAR_H / 2)}" width="${n(Math.max(1, x(v) - plotX))}" height="${BAR_H}" fill="${p.fill}"><title>${escapeXml(`${t.name} ${p.label}: ${fmtMs(v)} ms`)}</title></rect>`);
    }
    out.push(text(WIDTH - MARGIN - VALUE_W + 12, mid + 4, `p99 ${fmtMs(s.latencyMs.p99)} · max ${fmtMs(s.latencyMs.max)} ms`, { fill: MUTED, 'font-size': 11 }));
  });
  out.push(`<line x1="${n(plotX)}" y1="${n(top)}" x2="${n(plotX)}" y2="${n(top + height)}" stroke="${INK}" stroke-width="1"/>`);
  out.push(axisLabel(plotX, plotW, top + height, 'milliseconds (linear, from 0)'));
  out.push('</g>');
  return top + height + 52;
}

interface BarPanel {
  readonly id: string;
  readonly title: string;
  readonly note: string;
  readonly axis: string;
  readonly value: (s: Summary) => number;
  readonly format: (v: number) => string;
}

/** One bar per measured target, from 0, with its value printed after it. */
function barPanel(out: string[], report: BenchReport, y: number, plotX: number, plotW: number, panel: BarPanel): number {
  const ok = report.targets.filter((t) => t.status === 'ok' && t.summary);
  out.push(`<g id="${panel.id}">`);
  panelHead(out, y, panel.title, panel.note);
  y += 40;
  const top = y;
  const height = report.targets.length * ROW_H;
  const values = ok.map((t) => panel.value(t.summary!)).filter((v) => Number.isFinite(v) && v > 0);
  const ticks = niceTicks(values.length ? Math.max(...values) : 1, 6);
  const x = linearAxis(out, plotX, plotW, top, height, ticks, fmtCompact);
  report.targets.forEach((t, i) => {
    const mid = top + i * ROW_H + ROW_H / 2;
    rowLabel(out, report, t, plotX, mid);
    const v = t.summary && t.status === 'ok' ? panel.value(t.summary) : Number.NaN;
    if (!Number.isFinite(v)) { notMeasured(out, t, plotX, mid); return; }
    const end = x(v);
    out.push(`<rect x="${n(plotX)}" y="${n(mid - BAR_H / 2)}" width="${n(Math.max(1, end - plotX))}" height="${BAR_H}" rx="2" fill="${colourOf(t, i)}"${t.kind === 'peer' ? ' fill-opacity="0.85"' : ''}><title>${escapeXml(`${t.name}: ${panel.format(v)}`)}</title></rect>`);
    out.push(text(end + 8, mid + 4, panel.format(v), { 'font-weight': 'bold' }));
  });
  out.push(`<line x1="${n(plotX)}" y1="${n(top)}" x2="${n(plotX)}" y2="${n(top + height)}" stroke="${INK}" stroke-width="1"/>`);
  out.push(axisLabel(plotX, plotW, top + height, `${panel.axis} (linear, from 0)`));
  out.push('</g>');
  return top + height + 52;
}
