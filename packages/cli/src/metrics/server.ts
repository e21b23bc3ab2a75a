/*
 * `--metrics-bind HOST:PORT`: Prometheus text on a separate listener in the master (never on
 * the app's port, never in a worker). Every value is computed at scrape time from
 * engine.stats() and the aggregated per-unit counters; the only thing kept between scrapes is
 * the final counts of units that went down (aggregate.ts), so no count depends on when anyone
 * scrapes. Totals have no unit label and only go up; per-unit series (`unit`: pid, or
 * pid:threadId) exist while their unit does.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { channels, type Engine, type EngineStats, type ListenAddress, type UnitMessage } from '@gatehouse/core';
import { bindListener, heartbeatInterval, parseBind } from '@gatehouse/core/internal';
import { MetricsAggregator, everyUnit, inFlight, meanUtilization, queueDepth, unitsAlive } from './aggregate.js';
import { readBacklog } from './backlog.js';
import { DURATION_BUCKETS, STATUS_CLASSES, type UnitMetrics, type UnitMetricsSnapshot } from './unit-metrics.js';

export interface MetricsServer {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/**
 * The registry for one engine; exported for tests and embedders that serve it themselves.
 * `local` counts what ends in this process. From here until the engine closes, it keeps the
 * final counts of units that go down (channels.unitDown), so it must exist before the first
 * unit can go.
 */
export function createMetricsRegistry(engine: Engine, local: UnitMetrics): client.Registry {
  const registry = new client.Registry();
  const aggregator = new MetricsAggregator();
  const onDown = (message: unknown) => aggregator.retire(message as UnitMessage);
  channels.unitDown.subscribe(onDown);
  const masterLoop = new LoopSampler(heartbeatInterval(0));
  void engine.closed.then(() => { channels.unitDown.unsubscribe(onDown); masterLoop.stop(); });

  // Each metric's collect() runs per scrape; read the engine and the totals once per scrape.
  let scrape: { at: number; stats: EngineStats; totals: UnitMetricsSnapshot } | null = null;
  const current = () => {
    const now = Date.now();
    if (!scrape || now - scrape.at > 50) {
      const stats = engine.stats();
      scrape = { at: now, stats, totals: aggregator.totals(stats, local.snapshot()) };
    }
    return scrape;
  };
  const totals = () => current().totals;
  // A unit's utilization as its engine measured it; the single engine's one unit is this process's own loop.
  const units = () => everyUnit(current().stats).map(({ label, unit }) => ({
    label, unit, utilization: unit.utilization ?? (unit.kind === 'process' && unit.pid === process.pid ? masterLoop.utilization : undefined),
  }));

  new client.Counter({
    name: 'gatehouse_requests_total', help: 'Requests answered, by status class (units that are gone included).', labelNames: ['status_class'], registers: [registry],
    collect() {
      this.reset();
      const t = totals();
      for (const cls of STATUS_CLASSES) this.inc({ status_class: cls }, t.requests[cls] ?? 0);
    },
  });
  registry.registerMetric(durationHistogram(totals) as unknown as client.Metric);
  new client.Gauge({ name: 'gatehouse_requests_in_flight', help: 'Requests being handled now.', registers: [registry], collect() { this.set(inFlight(current().stats)); } });
  registry.registerMetric(optionalGauge('gatehouse_utilization',
    'Mean event-loop busy fraction (0..1) of the ready units that run the app, over their last heartbeat interval (absent while none is ready).',
    () => meanUtilization(units())) as unknown as client.Metric);
  new client.Gauge({ name: 'gatehouse_open_connections', help: 'Client connections open now.', registers: [registry], collect() { this.set(totals().connections); } });
  new client.Gauge({
    name: 'gatehouse_task_queue_depth', help: 'Requests waiting for a free app thread (threaded and hybrid engines).', registers: [registry],
    collect() { this.set(queueDepth(current().stats)); },
  });
  new client.Gauge({
    name: 'gatehouse_units_alive', help: 'Worker processes and app threads not stopped.', labelNames: ['kind'], registers: [registry],
    collect() { const alive = unitsAlive(current().stats); this.set({ kind: 'process' }, alive.process); this.set({ kind: 'thread' }, alive.thread); },
  });
  // Per-unit series: one per unit alive now (a gone unit's series disappear; its counts stay in the totals above).
  new client.Counter({
    name: 'gatehouse_unit_requests_total', help: 'Requests a unit has taken since it started, by unit (pid, or pid:threadId).', labelNames: ['unit'], registers: [registry],
    collect() { this.reset(); for (const { label, unit } of units()) this.inc({ unit: label }, unit.requests); },
  });
  new client.Gauge({
    name: 'gatehouse_unit_requests_in_flight', help: 'Requests a unit is handling now.', labelNames: ['unit'], registers: [registry],
    collect() { this.reset(); for (const { label, unit } of units()) this.set({ unit: label }, unit.inFlight); },
  });
  new client.Gauge({
    name: 'gatehouse_unit_upgraded_connections', help: 'Connections a unit\'s app took by accepting an upgrade (open WebSockets and tunnels), where its engine counts them.', labelNames: ['unit'], registers: [registry],
    collect() {
      this.reset();
      for (const { label, unit } of units()) if (unit.upgraded !== undefined) this.set({ unit: label }, unit.upgraded);
    },
  });
  new client.Gauge({
    name: 'gatehouse_unit_utilization', help: 'A unit\'s event-loop busy fraction (0..1) over its last heartbeat interval.', labelNames: ['unit'], registers: [registry],
    collect() {
      this.reset();
      for (const { label, utilization } of units()) if (utilization !== undefined) this.set({ unit: label }, utilization);
    },
  });
  new client.Counter({
    name: 'gatehouse_restarts_total', help: 'Workers or threads replaced, by cause.', labelNames: ['cause'], registers: [registry],
    collect() {
      this.reset();
      for (const [cause, n] of Object.entries(current().stats.restarts)) this.inc({ cause }, n);
    },
  });
  new client.Gauge({ name: 'gatehouse_engine_generation', help: 'App generation (incremented by each reload).', registers: [registry], collect() { this.set(current().stats.generation); } });
  new client.Gauge({
    name: 'gatehouse_listen_backlog', help: 'Connections waiting to be accepted, per listening port (Linux only).', labelNames: ['port'], registers: [registry],
    collect() {
      this.reset();
      for (const reading of readBacklog(tcpPorts(engine.addresses))) this.set({ port: String(reading.port) }, reading.queued);
    },
  });
  client.collectDefaultMetrics({ register: registry, prefix: 'gatehouse_master_' });
  return registry;
}

/** This process's event-loop utilization over the last interval, for an engine whose unit is this process. */
class LoopSampler {
  utilization = 0;
  #at = performance.eventLoopUtilization();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.#timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.utilization = performance.eventLoopUtilization(now, this.#at).utilization;
      this.#at = now;
    }, intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function tcpPorts(addresses: readonly ListenAddress[]): Set<number> {
  return new Set(addresses.filter((a) => a.port !== undefined).map((a) => a.port!));
}

/** An unlabelled gauge with no sample while `read` has no value (prom-client's own would show 0). */
function optionalGauge(name: string, help: string, read: () => number | undefined) {
  return {
    name, help, type: 'gauge', aggregator: 'average',
    reset() { /* read at scrape time */ },
    async get() {
      const value = read();
      return { name, help, type: 'gauge', aggregator: 'average', values: value === undefined ? [] : [{ labels: {}, value }] };
    },
  };
}

/** A histogram whose buckets come from the aggregated snapshots (prom-client's own Histogram can only observe). */
function durationHistogram(totals: () => UnitMetricsSnapshot) {
  const name = 'gatehouse_request_duration_seconds';
  return {
    name,
    help: 'Time from request head received to response end.',
    type: 'histogram',
    aggregator: 'sum',
    reset() { /* derived from totals at scrape time */ },
    async get() {
      const t = totals();
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      let cumulative = 0;
      DURATION_BUCKETS.forEach((bound, i) => {
        cumulative += t.buckets[i] ?? 0;
        values.push({ metricName: `${name}_bucket`, labels: { le: bound }, value: cumulative });
      });
      cumulative += t.buckets[DURATION_BUCKETS.length] ?? 0;
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${name}_sum`, labels: {}, value: t.sum });
      values.push({ metricName: `${name}_count`, labels: {}, value: t.count });
      return { name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

export async function startMetricsServer(bind: string, registry: client.Registry): Promise<MetricsServer> {
  const target = parseBind(bind);
  const listener = await bindListener(target, { backlog: 64 });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    if (req.url !== '/metrics' && req.url !== '/') { res.writeHead(404).end('not found: try /metrics\n'); return; }
    registry.metrics().then(
      (text) => { res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text); },
      (error: Error) => { res.writeHead(500).end(`${error.message}\n`); },
    );
  });
  listener.on('connection', (socket) => server.emit('connection', socket));
  const address = listener.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = target.kind === 'tcp' ? target.host : '';
  return {
    address: { kind: 'tcp', host, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics` },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); listener.close(() => resolve()); }),
  };
}
