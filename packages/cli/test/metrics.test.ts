/*
 * Metrics from a real `serve` under every engine, scraped over HTTP from --metrics-bind:
 * requests_total counts every request exactly across a reload (HUP), max-requests recycling,
 * a unit scaled away (TTOU) and a worker process stopped by TERM; per-unit series exist only
 * for units alive now; the utilization gauge rises while requests keep the app's loops busy;
 * the task queue depth shows requests waiting for an app thread (threaded, hybrid).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import WebSocket from 'ws';
import { REPO, ServeProcess, tempDir } from './kit/index.js';

/** Greets a WebSocket with its process's pid, then echoes. */
const WEBSOCKET_APP = path.join(REPO, 'packages/core/test/fixtures/apps/websocket-pid.js');

const APP = `
export default async function app(request) {
  const busy = /^\\/busy\\/(\\d+)$/.exec(request.path);
  if (busy) { const until = Date.now() + Number(busy[1]); while (Date.now() < until); }
  const sleep = /^\\/sleep\\/(\\d+)$/.exec(request.path);
  if (sleep) await new Promise((resolve) => setTimeout(resolve, Number(sleep[1])));
  return { status: 200, body: 'ok ' + request.path };
}
`;

interface Sample { readonly name: string; readonly labels: Record<string, string>; readonly value: number }

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

class Scraper {
  constructor(readonly url: string) {}

  async samples(): Promise<Sample[]> {
    return parse(await (await fetch(this.url)).text());
  }

  async value(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    return (await this.samples()).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  }

  async unitLabels(): Promise<string[]> {
    return (await this.samples()).filter((s) => s.name === 'gatehouse_unit_requests_total').map((s) => s.labels.unit!);
  }

  /** Polls (bounded) until `check` holds for a scrape; returns that scrape. */
  async until(what: string, check: (samples: Sample[]) => boolean, timeoutMs = 20_000): Promise<Sample[]> {
    const deadline = Date.now() + timeoutMs;
    let last: Sample[] = [];
    for (;;) {
      last = await this.samples();
      if (check(last)) return last;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}; last scrape:\n${last.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function get(base: string, path: string): Promise<void> {
  const response = await fetch(`${base}${path}`, { headers: { connection: 'close' } });
  assert.equal(response.status, 200);
  await response.text();
}

async function batch(base: string, count: number, tag: string): Promise<number> {
  for (let i = 0; i < count; i++) await get(base, `/${tag}/${i}`);
  return count;
}

/** `args`: the run across churn; `busy`: one whose every app loop two clients can keep busy. */
const ENGINES: Record<string, { args: string[]; units: number; busy: string[]; processes: boolean; scales: boolean }> = {
  prefork: { args: ['--engine', 'prefork', '--workers', '3'], units: 3, busy: ['--engine', 'prefork', '--workers', '1'], processes: true, scales: true },
  threaded: { args: ['--engine', 'threaded', '--threads', '3'], units: 3, busy: ['--engine', 'threaded', '--threads', '2', '--thread-concurrency', '1'], processes: false, scales: true },
  hybrid: {
    args: ['--engine', 'hybrid', '--workers', '2', '--threads', '2'], units: 2, busy: ['--engine', 'hybrid', '--workers', '1', '--threads', '2', '--thread-concurrency', '1'],
    processes: true, scales: true,
  },
  single: { args: ['--engine', 'single'], units: 1, busy: ['--engine', 'single'], processes: false, scales: false },
};

for (const [engine, shape] of Object.entries(ENGINES)) {
  describe(`metrics under ${engine}`, { timeout: 120_000 }, () => {
    it('requests_total shows every request across a HUP, max-requests recycling, TTOU and a TERM-ed worker', async (t) => {
      const recycle = shape.scales ? ['--max-requests', '6'] : [];
      const serve = new ServeProcess(['app.js', ...shape.args, ...recycle, '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0'], { cwd: tempDir({ 'app.js': APP }) });
      t.after(() => serve.dispose());
      const ready = await serve.ready;
      const base = ready.addresses[0]!;
      const scraper = new Scraper(ready.metrics!);
      let sent = 0;

      sent += await batch(base, 12, 'before-hup');
      const before = await scraper.unitLabels();
      assert.ok(before.length > 0, 'per-unit series exist');
      serve.kill('SIGHUP');
      if (engine !== 'single') {
        // The old generation drains and goes: its series go with it.
        await scraper.until('the reloaded generation to replace every unit', (s) => {
          const labels = s.filter((x) => x.name === 'gatehouse_unit_requests_total').map((x) => x.labels.unit!);
          return labels.length > 0 && labels.every((label) => !before.includes(label)) && find(s, 'gatehouse_engine_generation')! >= 2;
        });
      }
      sent += await batch(base, 15, 'after-hup');

      if (shape.scales) {
        // (Counted against the configured size: while a recycle replaces a unit, one more is alive for a moment.)
        serve.kill('SIGTTOU');
        await scraper.until('one unit fewer after TTOU', (s) => find(s, 'gatehouse_units_alive', { kind: shape.processes ? 'process' : 'thread' }) === shape.units - 1);
        sent += await batch(base, 10, 'after-ttou');
      }
      if (shape.processes) {
        // TERM the busiest worker process itself: it drains and exits, and the master replaces it.
        const samples = await scraper.samples();
        const workers = samples.filter((s) => s.name === 'gatehouse_unit_requests_total' && !s.labels.unit!.includes(':'));
        const busiest = workers.sort((a, b) => b.value - a.value)[0]!.labels.unit!;
        process.kill(Number(busiest), 'SIGTERM');
        await scraper.until(`worker ${busiest} to go`, (s) => !s.some((x) => x.name === 'gatehouse_unit_requests_total' && x.labels.unit === busiest));
        sent += await batch(base, 10, 'after-term');
      }

      const settled = await scraper.until(`requests_total to reach ${sent}`, (s) => find(s, 'gatehouse_requests_total', { status_class: '2xx' })! >= sent);
      // Recycled: a prefork worker (the master's restarts count it) or an app thread (its pool logs it, also inside a hybrid worker).
      if (shape.scales) assert.ok(serve.records.some((r) => r.engineEvent === 'recycle' || r.engineEvent === 'thread-recycle'), 'a unit was recycled for max-requests');
      // Exactly: nothing lost, nothing counted twice, and it stays so once every unit has reported again.
      assert.equal(find(settled, 'gatehouse_requests_total', { status_class: '2xx' }), sent);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const later = await scraper.samples();
      assert.equal(find(later, 'gatehouse_requests_total', { status_class: '2xx' }), sent);
      assert.equal(find(later, 'gatehouse_request_duration_seconds_count'), sent);
      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0);
    });

    it('the utilization gauge rises while requests keep the app busy', async (t) => {
      const serve = new ServeProcess(['app.js', ...shape.busy, '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0'], { cwd: tempDir({ 'app.js': APP }) });
      t.after(() => serve.dispose());
      const ready = await serve.ready;
      const base = ready.addresses[0]!;
      const scraper = new Scraper(ready.metrics!);
      // Idle: once a heartbeat interval has passed with nothing to do, the gauge is low.
      const idle = await scraper.until('an idle utilization', (s) => find(s, 'gatehouse_utilization')! < 0.3, 10_000);
      assert.ok(idle.some((s) => s.name === 'gatehouse_unit_utilization'), 'per-unit utilization series exist');

      // Two clients keep every app loop busy with 200 ms CPU-bound requests, for at most 8 s.
      let stop = false;
      const deadline = Date.now() + 8_000;
      const client = async () => { while (!stop && Date.now() < deadline) await get(base, '/busy/200'); };
      const clients = [client(), client()];
      try {
        const busy = await scraper.until('utilization above 0.6 under load', (s) => find(s, 'gatehouse_utilization')! > 0.6, 8_000);
        const units = busy.filter((s) => s.name === 'gatehouse_unit_utilization');
        assert.ok(units.some((s) => s.value > 0.6), 'a unit shows its busy loop');
        assert.ok(units.every((s) => s.value >= 0 && s.value <= 1));
      } finally {
        stop = true;
        await Promise.all(clients);
      }
      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0);
    });

    if (shape.processes) {
      it('the upgraded-connections gauge counts open WebSockets per worker process, and goes back to zero as they close', async (t) => {
        const serve = new ServeProcess([WEBSOCKET_APP, ...shape.args, '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0']);
        t.after(() => serve.dispose());
        const ready = await serve.ready;
        const scraper = new Scraper(ready.metrics!);
        const port = Number(new URL(ready.addresses[0]!).port);
        const sockets = await Promise.all(Array.from({ length: 12 }, async () => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
          ws.on('error', () => {});
          const [greeting] = await once(ws, 'message') as [Buffer];
          return { ws, pid: String(greeting) };
        }));
        t.after(() => { for (const { ws } of sockets) ws.terminate(); });
        const perPid = new Map<string, number>();
        for (const { pid } of sockets) perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
        const gauge = (s: Sample[]) => s.filter((x) => x.name === 'gatehouse_unit_upgraded_connections');
        const open = await scraper.until('the gauge to count 12 open WebSockets', (s) => gauge(s).reduce((sum, x) => sum + x.value, 0) === 12);
        // Each process's series says how many of them it holds (its unit label is its pid).
        for (const [pid, count] of perPid) assert.equal(find(open, 'gatehouse_unit_upgraded_connections', { unit: pid }), count, `worker ${pid}`);
        await Promise.all(sockets.map(({ ws }) => { const closed = once(ws, 'close'); ws.close(1000); return closed; }));
        const closed = await scraper.until('the gauge back to zero', (s) => gauge(s).length > 0 && gauge(s).every((x) => x.value === 0));
        assert.equal(gauge(closed).reduce((sum, x) => sum + x.value, 0), 0);
        serve.kill('SIGTERM');
        assert.equal((await serve.exited).code, 0);
      });
    }

    if (engine === 'threaded' || engine === 'hybrid') {
      it('the task queue depth shows requests waiting for a free app thread', async (t) => {
        // Two app threads taking one request each: of five sleeping requests, three wait.
        const serve = new ServeProcess(['app.js', ...shape.busy, '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0'], { cwd: tempDir({ 'app.js': APP }) });
        t.after(() => serve.dispose());
        const ready = await serve.ready;
        const scraper = new Scraper(ready.metrics!);
        assert.equal(await scraper.value('gatehouse_task_queue_depth'), 0);
        const requests = Array.from({ length: 5 }, (_, i) => get(ready.addresses[0]!, `/sleep/1500?${i}`));
        try {
          await scraper.until('requests queued for a thread', (s) => find(s, 'gatehouse_task_queue_depth')! >= 1, 6_000);
        } finally {
          await Promise.all(requests);
        }
        await scraper.until('an empty queue once they are served', (s) => find(s, 'gatehouse_task_queue_depth') === 0, 5_000);
        serve.kill('SIGTERM');
        assert.equal((await serve.exited).code, 0);
      });
    }
  });
}
