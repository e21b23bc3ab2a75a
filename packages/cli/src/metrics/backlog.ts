/*
 * Listen backlog, where the OS tells it: on Linux, /proc/net/tcp{,6} shows for each LISTEN
 * socket the connections waiting to be accepted (rx_queue) and the backlog limit (tx_queue).
 * Elsewhere the metric is simply absent (gunicorn's enable_backlog_metric works the same way).
 */
import fs from 'node:fs';

export interface BacklogReading {
  readonly port: number;
  readonly queued: number;
  readonly max: number;
}

const LISTEN = '0A';

export function readBacklog(ports: ReadonlySet<number>): BacklogReading[] {
  const out = new Map<number, BacklogReading>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || fields[3] !== LISTEN) continue;
      const port = parseInt(fields[1]!.split(':')[1]!, 16);
      if (!ports.has(port)) continue;
      const [tx, rx] = fields[4]!.split(':').map((hex) => parseInt(hex, 16));
      const previous = out.get(port);
      out.set(port, { port, queued: (previous?.queued ?? 0) + rx!, max: Math.max(previous?.max ?? 0, tx!) });
    }
  }
  return [...out.values()];
}
