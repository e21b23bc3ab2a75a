/*
 * `serve status` as a table for a terminal, at most 100 columns: one header line for the
 * server, one row per unit (a hybrid process's app threads indented under it), and a footer
 * with restarts by reason. Memory is a process's RSS or a thread's heap in use, so the column
 * says which.
 */
import type { StatusDocument, StatusUnit } from './protocol.js';

const COLUMNS: ReadonlyArray<readonly [string, number, 'left' | 'right']> = [
  ['UNIT', 6, 'left'], ['KIND', 8, 'left'], ['PID/THREAD', 13, 'left'], ['GEN', 4, 'right'], ['STATE', 10, 'left'],
  ['UPTIME', 9, 'right'], ['REQUESTS', 10, 'right'], ['IN-FLIGHT', 10, 'right'], ['MEMORY', 14, 'right'], ['CONNS', 7, 'right'],
];

export function statusTable(doc: StatusDocument): string {
  const lines = [
    `gatehouse ${doc.engine}, pid ${doc.pid}, generation ${doc.generation}, up ${duration(doc.now - doc.startedAt)}, ${doc.addresses.join(' ') || 'no listeners'}`,
    row(COLUMNS.map(([title]) => title)),
  ];
  for (const unit of doc.units) {
    lines.push(unitRow(unit, doc.now, ''));
    for (const child of unit.children ?? []) lines.push(unitRow(child, doc.now, '  '));
  }
  const restarts = Object.entries(doc.restarts).map(([reason, n]) => `${reason} ${n}`).join(', ');
  lines.push(`restarts: ${restarts}${doc.queueDepth !== undefined ? `; queue depth ${doc.queueDepth}` : ''}`);
  return `${lines.join('\n')}\n`;
}

function unitRow(unit: StatusUnit, now: number, indent: string): string {
  const where = unit.kind === 'thread' ? `${unit.pid ?? '-'}/${unit.threadId ?? '-'}` : String(unit.pid ?? '-');
  return row([
    `${indent}${unit.id}`, unit.kind, where, String(unit.generation), unit.state, duration(now - unit.startedAt),
    String(unit.requests), String(unit.inFlight), `${mebibytes(unit.memory)} ${unit.kind === 'thread' ? 'heap' : 'rss'}`,
    unit.connections === undefined ? '-' : String(unit.connections),
  ]);
}

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => {
    const [, width, align] = COLUMNS[i]!;
    const text = cell.length >= width ? `${cell.slice(0, width - 1)} ` : cell;
    return align === 'left' ? text.padEnd(width) : `${text.padStart(width - 1)} `;
  }).join('').trimEnd();
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)}M`;
}

/** 59s, 12m03s, 5h07m, 3d04h: two units at most. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}
