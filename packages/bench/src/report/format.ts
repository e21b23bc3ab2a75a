/*
 * Number formatting shared by the terminal table, report.md and the chart, so one figure reads
 * the same everywhere.
 */
export function fmtInt(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds with about three significant digits: 0.412, 3.25, 41.2, 230. */
export function fmtMs(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value < 1) return value.toFixed(3);
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

export function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

export function fmtPct(value: number): string {
  return Number.isFinite(value) ? `±${(value / 2).toFixed(1)}%` : '-';
}

export function fmtMiB(bytes: number): string {
  return Number.isFinite(bytes) && bytes > 0 ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : '-';
}

export function fmtSec(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '-';
}

export function fmtCompact(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e4 ? 0 : 1)}k`;
  return value.toFixed(0);
}

const NO_BREAK = '\u00a0';
/** A number and its unit ("90 MiB", "25 µs", "9,500 req/s") stay on one line. */
const NUMBER_UNIT = /(\d) (MiB|µs|ms|req\/s)/g;

/**
 * Breaks `text` at spaces into lines of at most `width` characters, continuation lines indented,
 * never between a number and its unit. A single word longer than the width (a long path) keeps
 * its own line whole, so it stays pasteable.
 */
export function wrap(text: string, width: number, indent = '  '): string[] {
  if (text.includes('\n')) return text.split('\n').flatMap((part) => wrap(part, width, indent));
  const lines: string[] = [];
  let line = '';
  for (const word of text.replace(NUMBER_UNIT, `$1${NO_BREAK}$2`).split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if ([...candidate].length <= width || line === '') {
      line = candidate;
    } else {
      lines.push(line);
      line = `${indent}${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => l.replaceAll(NO_BREAK, ' '));
}
