/*
 * chart.svg: requests/s per target (bar = median over rounds, whisker = slowest to fastest
 * round) above a latency panel (p50, p90, p99 and max per target on a log axis). Plain SVG 1.1:
 * no script, no CSS classes, no external font (a system sans-serif stack), a white background so
 * it reads on GitHub's dark theme too, and text widths estimated rather than measured, since
 * nothing can measure text when the file is generated.
 */
import { fmtCompact, fmtInt, fmtMs, fmtRatio } from './format.js';
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

const PERCENTILES = [
  { key: 'p50', label: 'p50', fill: '#0b3d6e', r: 5 },
  { key: 'p90', label: 'p90', fill: '#2f6fb0', r: 4.5 },
  { key: 'p99', label: 'p99', fill: '#7fb2e5', r: 4.5 },
  { key: 'max', label: 'max', fill: '#ffffff', r: 4.5 },
] as const;

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

/** Powers of ten covering [min, max] for the log latency axis. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-3)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10, 1e-2)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
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
    `${load.connections} connections, ${load.rounds} rounds of ${load.durationSec} s, ${report.date.slice(0, 10)}`;
  out.push(text(MARGIN, y + 16, title, { 'font-size': 17, 'font-weight': 'bold' }));
  out.push(text(MARGIN, y + 36, subtitle, { fill: MUTED }));
  y += 64;

  // Panel 1: requests/s.
  out.push(text(MARGIN, y + 12, 'Requests per second', { 'font-size': 14, 'font-weight': 'bold' }));
  out.push(text(MARGIN, y + 29, `higher is better · bar: median of ${load.rounds} rounds · whisker: slowest to fastest round · ratio vs ${report.baseline}`, { fill: MUTED, 'font-size': 11 }));
  y += 40;
  const rpsMax = Math.max(1, ...ok.map((t) => t.summary!.rps.max));
  const rpsTicks = niceTicks(rpsMax, 6);
  const rpsTop = rpsTicks[rpsTicks.length - 1]!;
  const xRps = (v: number) => plotX + (v / rpsTop) * plotW;
  const panel1Top = y;
  const panel1H = targets.length * ROW_H;
  for (const tick of rpsTicks) {
    out.push(`<line x1="${n(xRps(tick))}" y1="${n(panel1Top)}" x2="${n(xRps(tick))}" y2="${n(panel1Top + panel1H)}" stroke="${GRID}" stroke-width="1"/>`);
    out.push(text(xRps(tick), panel1Top + panel1H + 15, fmtCompact(tick), { 'text-anchor': 'middle', fill: MUTED, 'font-size': 11 }));
  }
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
  y = panel1Top + panel1H + 40;

  // Panel 2: latency percentiles on a log axis.
  out.push(text(MARGIN, y + 12, 'Latency (ms, log scale)', { 'font-size': 14, 'font-weight': 'bold' }));
  out.push(text(MARGIN, y + 29, 'lower is better · each percentile is the median over rounds · max is the worst of any round', { fill: MUTED, 'font-size': 11 }));
  // Legend, right-aligned on the title line.
  let legendX = WIDTH - MARGIN - PERCENTILES.length * 52;
  for (const p of PERCENTILES) {
    out.push(`<circle cx="${n(legendX + 5)}" cy="${n(y + 8)}" r="${p.r}" fill="${p.fill}" stroke="${INK}" stroke-width="${p.key === 'max' ? 1.5 : 0.5}"/>`);
    out.push(text(legendX + 14, y + 12, p.label, { 'font-size': 11 }));
    legendX += 52;
  }
  y += 40;
  const values = ok.flatMap((t) => PERCENTILES.map((p) => t.summary!.latencyMs[p.key])).filter((v) => Number.isFinite(v) && v > 0);
  const ticks = logTicks(values.length ? Math.min(...values) : 0.1, values.length ? Math.max(...values) : 10);
  const logMin = Math.log10(ticks[0]!);
  const logMax = Math.log10(ticks[ticks.length - 1]!);
  const xLat = (v: number) => plotX + ((Math.log10(Math.max(v, ticks[0]!)) - logMin) / (logMax - logMin || 1)) * plotW;
  const panel2Top = y;
  const panel2H = targets.length * ROW_H;
  for (const tick of ticks) {
    out.push(`<line x1="${n(xLat(tick))}" y1="${n(panel2Top)}" x2="${n(xLat(tick))}" y2="${n(panel2Top + panel2H)}" stroke="${GRID}" stroke-width="1"/>`);
    out.push(text(xLat(tick), panel2Top + panel2H + 15, tick >= 1000 ? `${tick / 1000} s` : tick >= 1 ? String(tick) : String(Number(tick.toPrecision(1))), { 'text-anchor': 'middle', fill: MUTED, 'font-size': 11 }));
  }
  targets.forEach((t, i) => {
    const rowY = panel2Top + i * ROW_H;
    const mid = rowY + ROW_H / 2;
    const { name } = label(t);
    out.push(text(plotX - 10, mid + 4, name, { 'text-anchor': 'end', 'font-weight': t.name === report.baseline ? 'bold' : 'normal' }));
    const s = t.summary;
    if (!s || t.status !== 'ok') return;
    const lat = s.latencyMs;
    const colour = colourOf(t, i);
    out.push(`<line x1="${n(xLat(lat.p50))}" y1="${n(mid)}" x2="${n(xLat(lat.max))}" y2="${n(mid)}" stroke="${colour}" stroke-width="4" stroke-linecap="round" stroke-opacity="0.45"/>`);
    for (const p of PERCENTILES) {
      const v = lat[p.key];
      if (!Number.isFinite(v)) continue;
      out.push(`<circle cx="${n(xLat(v))}" cy="${n(mid)}" r="${p.r}" fill="${p.fill}" stroke="${INK}" stroke-width="${p.key === 'max' ? 1.5 : 0.5}"><title>${escapeXml(`${t.name} ${p.label}: ${fmtMs(v)} ms`)}</title></circle>`);
    }
    out.push(text(WIDTH - MARGIN - VALUE_W + 12, mid + 4, `p50 ${fmtMs(lat.p50)} · p99 ${fmtMs(lat.p99)} ms`, { fill: MUTED, 'font-size': 11 }));
  });
  out.push(`<line x1="${n(plotX)}" y1="${n(panel2Top)}" x2="${n(plotX)}" y2="${n(panel2Top + panel2H)}" stroke="${INK}" stroke-width="1"/>`);
  y = panel2Top + panel2H + 28;

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
  const summary = ok.map((t) => `${t.name} ${fmtInt(t.summary!.rps.median)} req/s`).join(', ');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escapeXml(FONT)}" role="img" aria-labelledby="chart-title chart-desc">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<desc id="chart-desc">${escapeXml(`Requests per second and latency percentiles per target. ${summary}.`)}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
