/*
 * The embedding API in-process: createServer validates with the same table, serves, reloads,
 * closes; a rebound Engine token is what starts; registered engines are constructed by DI; metrics over a real listener; the master's
 * aggregation of unit snapshots; and the action loop that serializes signals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inject, injectable } from 'inversify';
import { SingleEngine, TOKENS, type Engine, type EngineContext, type EngineStats, type UnitStats } from '@gatehouse/core';
import { ActionLoop, type EngineAction } from '@gatehouse/core/internal';
import { createServer, createContainerFor, engineNames, registerEngine, startServer } from '../src/index.js';
import { MetricsAggregator } from '../src/metrics/aggregate.js';
import { UnitMetrics, SNAPSHOT_KEY } from '../src/metrics/unit-metrics.js';
import { tempDir } from './kit/index.js';
import path from 'node:path';

const inlineApp = {
  interface: 'gateway' as const,
  app: (request: { path: string }) => ({ status: request.path === '/missing' ? 404 : 200, body: `inline ${request.path}` }),
};

describe('createServer', { timeout: 30_000 }, () => {
  it('serves an inline app with the single engine, reports stats, closes', async () => {
    const server = await createServer({ app: inlineApp, engine: 'single', bind: ['127.0.0.1:0'], logLevel: 'silent' });
    try {
      assert.equal(server.engine.name, 'single');
      const url = server.addresses[0]!.url;
      assert.equal(await (await fetch(`${url}/a`)).text(), 'inline /a');
      assert.equal(server.stats().units.length, 1);
      assert.equal(server.stats().units[0]!.requests, 1);
    } finally {
      await server.close({ graceful: true });
    }
    await server.closed;
  });

  it('reload() serves new code from a module app; a failing reload rejects and the old code serves on', async () => {
    const dir = tempDir({ 'app.js': 'export default () => ({ status: 200, body: "one" });\n' });
    const file = path.join(dir, 'app.js');
    const server = await createServer({ app: file, engine: 'single', bind: '127.0.0.1:0', log_level: 'silent' });
    try {
      const url = server.addresses[0]!.url;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, 'export default () => ({ status: 200, body: "two" });\n');
      await server.reload();
      assert.equal(await (await fetch(url)).text(), 'two');
      writeFileSync(file, 'export default () => ({ status: 200, body: );\n');
      await assert.rejects(server.reload());
      assert.equal(await (await fetch(url)).text(), 'two');
      assert.equal(server.stats().generation, 2);
    } finally {
      await server.close();
    }
  });

  it('options go through the settings table: a wrong value or an unknown key is the same one-line error', async () => {
    await assert.rejects(createServer({ app: inlineApp, engine: 'single', workers: 0 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_SETTING_INVALID');
      assert.match(error.message, /workers = 0 from createServer option workers: expected a whole number >= 1/);
      return true;
    });
    await assert.rejects(createServer({ app: inlineApp, engine: 'single', wrokers: 2 }), /"wrokers" in createServer options \(did you mean workers\?\)/);
  });

  it('a rebound Engine token is the engine that starts', async () => {
    class CustomEngine extends SingleEngine { override readonly name = 'custom' as 'single'; }
    const container = await createContainerFor({ app: inlineApp, engine: 'single', bind: '127.0.0.1:0', logLevel: 'silent' });
    container.rebindSync<Engine>(TOKENS.Engine).toDynamicValue((ctx) => new CustomEngine(ctx.get(TOKENS.EngineContext))).inSingletonScope();
    const server = await startServer(container);
    try {
      assert.equal(server.engine.name, 'custom');
      assert.equal(await (await fetch(`${server.addresses[0]!.url}/r`)).text(), 'inline /r');
    } finally {
      await server.close();
    }
  });

  it('an engine added with registerEngine is a name createServer accepts, and the container injects its constructor', async () => {
    const contexts: EngineContext[] = [];
    @injectable()
    class CountingEngine extends SingleEngine {
      override readonly name = 'counting' as 'single';
      constructor(@inject(TOKENS.EngineContext) context: EngineContext) {
        super(context);
        contexts.push(context);
      }
    }
    registerEngine('counting', CountingEngine);
    assert.ok(engineNames().includes('counting') && engineNames().includes('single'), engineNames().join(', '));
    const server = await createServer({ app: inlineApp, engine: 'counting', bind: '127.0.0.1:0', logLevel: 'silent', gracefulTimeout: 7 });
    try {
      assert.equal(server.engine.name, 'counting');
      assert.equal(contexts.length, 1);
      assert.equal(contexts[0]!.settings.gracefulTimeout, 7);
      assert.equal(await (await fetch(`${server.addresses[0]!.url}/c`)).text(), 'inline /c');
    } finally {
      await server.close();
    }
  });

  it('an engine class whose constructor takes the context without declaring the injection is refused with the fix', async () => {
    const dir = tempDir({ 'plain-engine.mjs': 'export default class PlainEngine { constructor(context) { this.context = context; } start() {} }\n' });
    const file = path.join(dir, 'plain-engine.mjs');
    await assert.rejects(createServer({ app: inlineApp, engine: file, bind: '127.0.0.1:0', logLevel: 'silent' }), (error: Error & { code?: string; hint?: string }) => {
      assert.equal(error.code, 'ERR_ENGINE_NOT_INJECTABLE');
      assert.match(error.message, /PlainEngine/);
      assert.match(error.hint!, /@inject\(TOKENS\.EngineContext\)/);
      return true;
    });
  });

  it('hooks given as options run: on_starting before start, when_ready with the server', async () => {
    const calls: string[] = [];
    const server = await createServer({
      app: inlineApp, engine: 'single', bind: '127.0.0.1:0', logLevel: 'silent',
      on_starting: () => { calls.push('starting'); },
      whenReady: (s: { addresses: Array<{ url: string }> }) => { calls.push(`ready ${s.addresses.length}`); },
    });
    await server.close();
    assert.deepEqual(calls, ['starting', 'ready 1']);
  });
});

describe('metrics', { timeout: 30_000 }, () => {
  it('--metrics-bind serves Prometheus text with status classes, the histogram and units', async () => {
    const server = await createServer({ app: inlineApp, engine: 'single', bind: '127.0.0.1:0', metricsBind: '127.0.0.1:0', logLevel: 'silent' });
    try {
      const url = server.addresses[0]!.url;
      for (const p of ['/a', '/b', '/missing']) await (await fetch(`${url}${p}`)).text();
      const response = await fetch(server.metricsAddress!.url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type')!, /^text\/plain/);
      const text = await response.text();
      assert.match(text, /^gatehouse_requests_total\{status_class="2xx"\} 2$/m);
      assert.match(text, /^gatehouse_requests_total\{status_class="4xx"\} 1$/m);
      assert.match(text, /^gatehouse_request_duration_seconds_count 3$/m);
      assert.match(text, /^gatehouse_request_duration_seconds_bucket\{le="\+Inf"\} 3$/m);
      assert.match(text, /^gatehouse_units_alive\{kind="process"\} 1$/m);
      assert.match(text, /^gatehouse_restarts_total\{cause="crash"\} 0$/m);
      if (process.platform === 'linux') {
        const port = new URL(url).port;
        assert.match(text, new RegExp(`^gatehouse_listen_backlog\\{port="${port}"\\} \\d+$`, 'm'));
        assert.doesNotMatch(text, /gatehouse_listen_backlog_max/);
      }
      assert.equal((await fetch(new URL('/nope', server.metricsAddress!.url))).status, 404);
    } finally {
      await server.close();
    }
  });

  it('the master adds unit snapshots and keeps the final counts of units that went away', () => {
    const unitCounters = (n: number) => { const m = new UnitMetrics(); for (let i = 0; i < n; i++) m.observe(200, 0.002); m.connections = 1; return { [SNAPSHOT_KEY]: m.snapshot() }; };
    const unit = (id: number, metrics: Record<string, unknown>): UnitStats => ({
      id, kind: 'process', pid: 1000 + id, state: 'ready', generation: 1, requests: 0, inFlight: 0, memory: 0, startedAt: 1, metrics,
    });
    const stats = (units: UnitStats[]): EngineStats => ({ engine: 'test', pid: 1, generation: 1, units, restarts: { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: 0 } });
    const local = new UnitMetrics();
    local.observe(503, 0.5);
    const aggregator = new MetricsAggregator();
    let totals = aggregator.totals(stats([unit(1, unitCounters(3)), unit(2, unitCounters(4))]), local.snapshot());
    assert.equal(totals.requests['2xx'], 7);
    assert.equal(totals.requests['5xx'], 1);
    assert.equal(totals.count, 8);
    assert.equal(totals.connections, 2);
    // unit 2 went down after serving 2 more than its last scrape showed; a unit 3 came and went between scrapes
    aggregator.retire({ kind: 'process', id: 2, pid: 1002, reason: 'reload', metrics: unitCounters(6) });
    aggregator.retire({ kind: 'process', id: 3, pid: 1003, reason: 'max-requests', metrics: unitCounters(5) });
    aggregator.retire({ kind: 'thread', id: 1, reason: 'scale' }); // no report: nothing to add
    totals = aggregator.totals(stats([unit(1, unitCounters(5))]), local.snapshot());
    assert.equal(totals.requests['2xx'], 5 + 6 + 5);
    assert.equal(totals.connections, 1, 'a gone unit has no open connections');
    assert.equal(totals.buckets.reduce((a, b) => a + b, 0), totals.count);
  });
});

describe('the action loop', { timeout: 10_000 }, () => {
  function fakeEngine(log: string[], reloadMs = 30): Engine {
    return {
      name: 'fake', addresses: [], closed: new Promise(() => {}),
      start: async () => {},
      stop: async (o) => { log.push(`stop ${o?.graceful}`); },
      reload: async () => { log.push('reload start'); await new Promise((r) => setTimeout(r, reloadMs)); log.push('reload end'); },
      scale: async (d) => { log.push(`scale ${d}`); },
      reopenLogs: () => { log.push('reopen'); },
      stats: () => ({ engine: 'fake', pid: 0, generation: 0, units: [], restarts: { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: 0 } }),
    };
  }

  it('runs one action at a time, coalesces a burst of reloads, keeps TTIN/TTOU order', async () => {
    const log: string[] = [];
    const loop = new ActionLoop(fakeEngine(log));
    for (let i = 0; i < 4; i++) loop.enqueue({ kind: 'reload' }, 'SIGHUP');
    loop.enqueue({ kind: 'scale', delta: 1 }, 'SIGTTIN');
    loop.enqueue({ kind: 'scale', delta: -1 }, 'SIGTTOU');
    await loop.perform({ kind: 'reopen-logs' });
    // the first HUP started at once; the other three became one pending reload
    assert.deepEqual(log, ['reload start', 'reload end', 'reload start', 'reload end', 'scale 1', 'scale -1', 'reopen']);
  });

  it('a stop does not wait behind a queue; a second TERM during it forces', async () => {
    const log: string[] = [];
    const forced: string[] = [];
    const loop = new ActionLoop(fakeEngine(log, 100), { force: (s) => forced.push(s) });
    loop.enqueue({ kind: 'reload' }, 'SIGHUP');
    loop.enqueue({ kind: 'scale', delta: 1 }, 'SIGTTIN');
    const stop: EngineAction = { kind: 'stop', graceful: true };
    loop.enqueue(stop, 'SIGTERM');
    loop.enqueue(stop, 'SIGTERM');
    await loop.stopping;
    assert.deepEqual(forced, ['SIGTERM']);
    assert.ok(log.includes('stop true'));
    assert.ok(!log.includes('scale 1'), 'queued actions are dropped by a stop');
  });

  it('held (the engine starting): actions wait for release(), in order; a stop held drops the rest and a second INT forces', async () => {
    const log: string[] = [];
    const loop = new ActionLoop(fakeEngine(log, 5));
    loop.hold();
    loop.enqueue({ kind: 'reload' }, 'SIGHUP');
    loop.enqueue({ kind: 'reopen-logs' }, 'SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(log, [], 'nothing runs while held');
    const done = loop.perform({ kind: 'scale', delta: 1 });
    loop.release();
    await done;
    assert.deepEqual(log, ['reload start', 'reload end', 'reopen', 'scale 1']);

    const stopLog: string[] = [];
    const forced: string[] = [];
    const stopping = new ActionLoop(fakeEngine(stopLog), { force: (s) => forced.push(s) });
    stopping.hold();
    stopping.enqueue({ kind: 'reload' }, 'SIGHUP');
    stopping.enqueue({ kind: 'stop', graceful: false }, 'SIGINT');
    assert.equal(stopping.stopping, null, 'the stop waits for the start');
    stopping.enqueue({ kind: 'stop', graceful: false }, 'SIGINT');
    assert.deepEqual(forced, ['SIGINT']);
    stopping.release();
    await stopping.stopping;
    assert.deepEqual(stopLog, ['stop false']);
  });

  it('a failed action is reported and the loop goes on', async () => {
    const failures: string[] = [];
    const engine = fakeEngine([]);
    engine.reload = async () => { throw new Error('syntax error in app.js'); };
    const loop = new ActionLoop(engine, { failed: (action, error) => failures.push(`${action.kind}: ${(error as Error).message}`) });
    loop.enqueue({ kind: 'reload' });
    await assert.rejects(loop.perform({ kind: 'reload' }), /syntax error/);
    assert.deepEqual(failures, ['reload: syntax error in app.js']);
  });

  it('observers see each action begin and settle, however it was asked for, failed or not', async () => {
    const log: string[] = [];
    const engine = fakeEngine(log, 10);
    const loop = new ActionLoop(engine);
    loop.observe({
      begin: (action) => log.push(`begin ${action.kind}`),
      settled: (action, error) => log.push(`settled ${action.kind}${error ? `: ${(error as Error).message}` : ''}`),
    });
    await loop.perform({ kind: 'reload' });
    engine.reload = async () => { throw new Error('syntax error in app.js'); };
    await assert.rejects(loop.perform({ kind: 'reload' }), /syntax error/);
    loop.enqueue({ kind: 'stop', graceful: true }, 'SIGTERM');
    await loop.stopping;
    assert.deepEqual(log, [
      'begin reload', 'reload start', 'reload end', 'settled reload',
      'begin reload', 'settled reload: syntax error in app.js',
      'begin stop', 'stop true', 'settled stop',
    ]);
  });
});
