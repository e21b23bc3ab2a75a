/*
 * Human-readable error-log lines for a terminal: pino writes its JSON line here and we
 * reformat it (`12:00:01.234 INFO  listening on http://127.0.0.1:8000  pid=4242`). Small on
 * purpose: pino-pretty runs as a transport worker thread, and a synchronous write keeps log
 * lines in order with signal handling and process exit.
 */
import type { LogDestination } from './destination.js';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'], 20: ['DEBUG', '\x1b[36m'], 30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'], 50: ['ERROR', '\x1b[31m'], 60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
const OMIT = new Set(['level', 'time', 'msg', 'hostname', 'err', 'stack']);

export function prettyStream(destination: LogDestination, color: boolean): { write(line: string): void } {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try { record = JSON.parse(line) as Record<string, unknown>; } catch { destination.write(line); return; }
      const [name, tint] = LEVELS[record.level as number] ?? ['LOG  ', ''];
      const time = new Date(typeof record.time === 'number' || typeof record.time === 'string' ? record.time : Date.now()).toISOString().slice(11, 23);
      const extras: string[] = [];
      for (const [key, value] of Object.entries(record)) {
        if (OMIT.has(key) || value === undefined) continue;
        extras.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
      }
      const level = color ? `${tint}${name}${RESET}` : name;
      let out = `${time} ${level} ${String(record.msg ?? '')}${extras.length ? `  ${extras.join(' ')}` : ''}\n`;
      const err = record.err as { stack?: string; message?: string } | undefined;
      if (err) out += `${(err.stack ?? err.message ?? '').replace(/^/gm, '    ')}\n`;
      destination.write(out);
    },
  };
}
