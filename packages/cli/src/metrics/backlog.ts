/*
 * Listen backlog, where the OS tells it: on Linux, /proc/net/tcp{,6} shows for each LISTEN
 * socket the connections waiting to be accepted (its rx_queue field). Elsewhere the metric is
 * simply absent (gunicorn's enable_backlog_metric works the same way).
 *
 * The backlog limit is not exported: /proc shows 0 in a listener's tx_queue field (the kernel
 * prints the unsent bytes there, which a listener never has), and the only interface that
 * reports the limit is netlink sock_diag (what `ss -ltn` shows as Send-Q), which Node cannot
 * open without a native module. The limit in force is --backlog, capped by
 * net.core.somaxconn (docs/deployment.md).
 */
import fs from 'node:fs';

export interface BacklogReading {
  readonly port: number;
  readonly queued: number;
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
      const rx = parseInt(fields[4]!.split(':')[1]!, 16);
      out.set(port, { port, queued: (out.get(port)?.queued ?? 0) + rx });
    }
  }
  return [...out.values()];
}
