/*
 * HTTP/2 attacks under any engine: Rapid Reset, CONTINUATION flood, SETTINGS flood, PING
 * flood, an HPACK bomb, and a client that never opens its flow-control window while the app
 * sends. The attacker writes raw frames (h2-attacker.ts). For each attack:
 * - the attacking connection gets GOAWAY and is closed within a bound. Where nghttp2 itself
 *   ends the session (CONTINUATION flood, repeated HPACK bombs) it closes the socket right
 *   after its GOAWAY, and the kernel may answer the attacker's unread bytes with a TCP reset
 *   that overtakes the GOAWAY: there a reset connection counts too;
 * - the server's memory and CPU stay bounded (summed over the test process and its children,
 *   so a process-based engine's workers count; bounds are generous, the machine is noisy);
 * - a well-behaved h2 session alongside keeps being served during and after the attack.
 *
 *   runHttp2AttackSuite('prefork', engineStarter(PreforkEngine, { workers: 2 }));
 *
 * Every loop is bounded in frames and time. Linux only (reads /proc).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import type { Settings } from '../../src/settings/table.js';
import type { ParityServer, ParityStarter } from './parity.js';
import { ERROR_CODE, FLAG, FRAME, H2Attacker, SETTING, frame, hpack } from './h2-attacker.js';
import { h2Request } from './http2-suite.js';
import { until } from './wait.js';

const APP = `import fs from 'node:fs';
const STATE = new URL('./state/', import.meta.url);
export default async function app(request) {
  if (request.path === '/large') {
    // 256 MiB in fresh 64 KiB chunks: were it buffered for a client that does not read, RSS would show it.
    return { status: 200, headers: [['content-type', 'application/octet-stream']], body: (async function* () {
      for (let i = 0; i < 4096; i++) { fs.writeFileSync(new URL('yielded', STATE), String((i + 1) * 65536)); yield Buffer.alloc(65536, 120); }
    })() };
  }
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'hello' };
}
`;

const MIB = 1024 * 1024;
/** Bounds, generous on purpose: a failure means unbounded, not slow. */
const ATTACK_CLOSED_WITHIN_MS = 15_000;
const RSS_GROWTH_MAX = 150 * MIB;
const CPU_SECONDS_MAX = 20;
const HEALTHY_LATENCY_MAX_MS = 5_000;
const CLOCK_TICKS = 100;

interface Usage { readonly rss: number; readonly cpuSeconds: number }

/** RSS and CPU time of this process and every descendant (/proc). */
function serverUsage(): Usage {
  const stats = new Map<number, { ppid: number; rss: number; ticks: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state(0) ppid(1) ... utime(11) stime(12) ... rss pages(21)
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), rss: Number(fields[21]) * 4096 });
    } catch { /* the process ended */ }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, stat] of stats) if (!ours.has(pid) && ours.has(stat.ppid)) { ours.add(pid); grew = true; }
  }
  let rss = 0;
  let ticks = 0;
  for (const pid of ours) { const stat = stats.get(pid); if (stat) { rss += stat.rss; ticks += stat.ticks; } }
  return { rss, cpuSeconds: ticks / CLOCK_TICKS };
}

interface Healthy { stop(): Promise<{ served: number; failures: string[]; slowestMs: number; peakRss: number }> }

/** A well-behaved session asking for /hello one request after another until stopped (bounded). */
async function keepServing(port: number): Promise<Healthy> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject); });
  let running = true;
  let served = 0;
  let slowestMs = 0;
  let peakRss = 0;
  const failures: string[] = [];
  const loop = (async () => {
    const deadline = Date.now() + 60_000;
    for (let i = 0; running && i < 20_000 && Date.now() < deadline; i++) {
      const started = Date.now();
      try {
        const reply = await h2Request(session, { ':path': '/hello' });
        if (reply.status === 200 && reply.body.toString() === 'hello') served++;
        else failures.push(`status ${reply.status}`);
      } catch (error) { failures.push((error as Error).message); }
      slowestMs = Math.max(slowestMs, Date.now() - started);
      if (i % 20 === 0) peakRss = Math.max(peakRss, serverUsage().rss);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      session.close();
      return { served, failures, slowestMs, peakRss };
    },
  };
}

/**
 * Writes batches from `next` until the server closes the connection, `maxBatches`, or `maxMs`;
 * between batches the event loop turns (or `pauseMs` passes), so the attacker reads what the
 * server sends.
 */
async function flood(attacker: H2Attacker, next: (i: number) => Buffer, maxBatches: number, maxMs: number, pauseMs = 0): Promise<number> {
  const deadline = Date.now() + maxMs;
  let i = 0;
  for (; i < maxBatches && !attacker.closed && Date.now() < deadline; i++) {
    if (!(await attacker.write(next(i)))) break;
    await new Promise((resolve) => (pauseMs > 0 ? setTimeout(resolve, pauseMs) : setImmediate(resolve)));
  }
  return i;
}

export function runHttp2AttackSuite(name: string, startServer: ParityStarter, settings: Partial<Settings> = {}): void {
  describe(`HTTP/2 attacks: ${name}`, { timeout: 240_000 }, () => {
    let dir = '';
    let server: ParityServer | null = null;
    const attackers: H2Attacker[] = [];

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-h2-attack-${name.replace(/[^\w-]/g, '_')}-`));
      fs.mkdirSync(path.join(dir, 'state'));
      fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
      server = await startServer(path.join(dir, 'app.mjs'), { gracefulTimeout: 5, keepAlive: 2, timeout: 30, logLevel: 'fatal', http2SendTimeout: 1, ...settings });
    });

    after(async () => {
      for (const attacker of attackers) attacker.destroy();
      await server?.stop({ graceful: false }).catch(() => {});
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Runs `attack` beside a healthy session and checks the bounds every attack must keep. */
    async function underAttack(attack: (attacker: H2Attacker) => Promise<void>, settingsFrame: ReadonlyArray<readonly [number, number]> = []): Promise<H2Attacker> {
      const before = serverUsage();
      const healthy = await keepServing(server!.port);
      const attacker = await H2Attacker.connect(server!.port, settingsFrame);
      attackers.push(attacker);
      await attack(attacker);
      await attacker.closedWithin(ATTACK_CLOSED_WITHIN_MS);
      // Served after the attack too.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const report = await healthy.stop();
      const usage = serverUsage();
      assert.deepEqual(report.failures, [], 'the well-behaved session lost no request');
      assert.ok(report.served > 0, 'the well-behaved session was served');
      assert.ok(report.slowestMs < HEALTHY_LATENCY_MAX_MS, `the well-behaved session waited ${report.slowestMs} ms at worst`);
      const growth = Math.max(report.peakRss, usage.rss) - before.rss;
      assert.ok(growth < RSS_GROWTH_MAX, `server RSS grew ${(growth / MIB).toFixed(0)} MiB`);
      const cpu = usage.cpuSeconds - before.cpuSeconds;
      assert.ok(cpu < CPU_SECONDS_MAX, `server and test used ${cpu.toFixed(1)} CPU seconds`);
      return attacker;
    }

    it('Rapid Reset: streams opened and reset at once get GOAWAY ENHANCE_YOUR_CALM', async () => {
      let sent = 0;
      const attacker = await underAttack(async (a) => {
        const batches = await flood(a, (i) => {
          const frames: Buffer[] = [];
          for (let k = 0; k < 50; k++) {
            const id = 1 + 2 * (i * 50 + k);
            frames.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, hpack.get('/hello')), frame(FRAME.RST_STREAM, 0, id, u32(ERROR_CODE.CANCEL)));
          }
          return Buffer.concat(frames);
        }, 1000, 10_000);
        sent = batches * 50;
      });
      assert.equal(attacker.goaway?.code, ERROR_CODE.ENHANCE_YOUR_CALM, `GOAWAY ENHANCE_YOUR_CALM after ${sent} reset streams (got ${JSON.stringify(attacker.goaway)})`);
    });

    it('CONTINUATION flood: a header block that never ends gets GOAWAY and the connection closed', async () => {
      const attacker = await underAttack(async (a) => {
        await a.write(frame(FRAME.HEADERS, 0, 1, hpack.get('/hello')));
        const pad = hpack.literal('x-pad', 'a'.repeat(1000));
        await flood(a, () => frame(FRAME.CONTINUATION, 0, 1, pad), 100_000, 10_000);
      });
      assert.ok(attacker.reset || (attacker.goaway !== null && attacker.goaway.code !== ERROR_CODE.NO_ERROR), `GOAWAY with an error code or a reset (got ${JSON.stringify(attacker.goaway)})`);
    });

    // A sustained flood, paced (500 frames/s) so that it meets this server's per-session counter
    // (--http2-max-control-frames-per-second), not nghttp2's own guard against a burst.
    for (const [kind, make] of [
      ['SETTINGS', () => frame(FRAME.SETTINGS, 0, 0)],
      ['PING', () => frame(FRAME.PING, 0, 0, Buffer.alloc(8, 1))],
    ] as const) {
      it(`${kind} flood gets GOAWAY ENHANCE_YOUR_CALM`, async () => {
        const batch = Buffer.concat(Array.from({ length: 10 }, make));
        const attacker = await underAttack(async (a) => { await flood(a, () => batch, 500, 10_000, 20); });
        assert.equal(attacker.goaway?.code, ERROR_CODE.ENHANCE_YOUR_CALM, `got ${JSON.stringify(attacker.goaway)}`);
      });
    }

    it('a burst of SETTINGS and PINGs (thousands in one read) ends the session at once', async () => {
      // nghttp2 refuses to queue more than 1000 acknowledgements and ends the session itself;
      // closing at once, its GOAWAY may be overtaken by the TCP reset of the unread flood.
      const attacker = await underAttack(async (a) => {
        const burst = Buffer.concat(Array.from({ length: 4000 }, (_, k) => (k % 2 === 0 ? frame(FRAME.SETTINGS, 0, 0) : frame(FRAME.PING, 0, 0, Buffer.alloc(8, 2)))));
        await flood(a, () => burst, 50, 10_000);
      });
      assert.ok(attacker.reset || (attacker.goaway !== null && attacker.goaway.code !== ERROR_CODE.NO_ERROR), `GOAWAY with an error code or a reset (got ${JSON.stringify(attacker.goaway)})`);
    });

    it('HPACK bomb: header blocks that decode to ~48 MB each are refused, never buffered, and the session is ended', async () => {
      let streams = 0;
      const attacker = await underAttack(async (a) => {
        streams = await flood(a, (i) => {
          const block = Buffer.concat([hpack.get('/hello'), hpack.indexedLiteral('x-bomb', 'a'.repeat(4000)), Buffer.alloc(12_000, hpack.indexed(62))]);
          return frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1 + 2 * i, block);
        }, 2000, 10_000);
      });
      assert.ok(streams > 0);
      const refused = [...attacker.resets.values()].filter((code) => code === ERROR_CODE.ENHANCE_YOUR_CALM).length;
      assert.ok(attacker.responses.size === 0, `no bomb reached the app (${attacker.responses.size} answered)`);
      assert.ok(refused > 0 || attacker.reset || attacker.goaway?.code === ERROR_CODE.ENHANCE_YOUR_CALM, `streams reset with ENHANCE_YOUR_CALM, or the session ended (resets ${refused}, GOAWAY ${JSON.stringify(attacker.goaway)})`);
      assert.ok(attacker.goaway !== null || attacker.reset, 'the session ends');
    });

    it('a client that never opens its flow-control window: the app is held back, the stream reset, the idle session closed', async () => {
      const yielded = path.join(dir, 'state', 'yielded');
      const attacker = await underAttack(async (a) => {
        await a.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, hpack.get('/large')));
        await until(() => a.resets.has(1), 10_000, 'the stalled stream to be reset');
      }, [[SETTING.INITIAL_WINDOW_SIZE, 0]]);
      assert.equal(attacker.resets.get(1), ERROR_CODE.CANCEL);
      assert.equal(attacker.dataBytes, 0, 'nothing could be sent');
      const bytes = Number(fs.readFileSync(yielded, 'utf8'));
      assert.ok(bytes < 8 * MIB, `the app was held back (${bytes} of ${256 * MIB} bytes yielded)`);
      assert.ok(attacker.goaway !== null, 'the idle session was closed with GOAWAY');
    });
  });
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}
