// The hybrid engine on real processes and threads: both levels of supervision hold (a stuck
// app thread is replaced inside its process, a killed process is replaced by the master),
// and, through the real `serve` bin, HUP under load rolls the processes onto new code with
// zero failed requests.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSettings, type Settings, type UnitStats } from '@gatehouse/core';
import { RawClient, until } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

const APP = fileURLToPath(new URL('../../test/fixtures/app.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

interface Who { pid: number; threadId: number; version: string }

async function start(t: TestContext, overrides: Partial<Settings>): Promise<{ engine: HybridEngine; url: string }> {
  const settings: Settings = { ...defaultSettings(), bind: ['127.0.0.1:0'], gracefulTimeout: 5, logLevel: 'fatal', ...overrides };
  const engine = new HybridEngine({ settings, app: { kind: 'module', spec: APP } });
  await engine.start();
  t.after(() => engine.stop({ graceful: false }));
  return { engine, url: engine.addresses[0]!.url };
}

/** One request on a fresh connection, so the kernel may hand it to any worker process. */
async function who(url: string): Promise<Who> {
  const response = await fetch(`${url}/who`, { headers: { connection: 'close' } });
  assert.equal(response.status, 200);
  return await response.json() as Who;
}

const ready = (units: readonly UnitStats[]) => units.filter((u) => u.state === 'ready');

describe('hybrid engine', { timeout: 60_000 }, () => {
  it('runs the app in T app threads inside each of P worker processes', async (t) => {
    const { engine, url } = await start(t, { workers: 2, threads: 2 });
    const stats = engine.stats();
    assert.equal(stats.engine, 'hybrid');
    assert.deepEqual(stats.units.map((u) => u.kind), ['process', 'process']);
    // Children arrive with the first heartbeat of each process.
    await until(() => engine.stats().units.every((u) => u.children?.length === 2), 10_000, 'each process to report its 2 threads');
    for (const unit of engine.stats().units) {
      assert.deepEqual(unit.children!.map((c) => c.kind), ['thread', 'thread']);
      assert.ok(unit.children!.every((c) => c.state === 'ready'));
    }
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const answer = await who(url);
      assert.ok(answer.threadId >= 1, 'the app never runs on a worker process\'s main thread');
      pids.add(answer.pid);
    }
    assert.deepEqual([...pids].sort(), engine.stats().units.map((u) => u.pid!).sort(), 'both worker processes answer');
    assert.ok(!pids.has(process.pid));
  });

  it('replaces a stuck app thread inside its process: 504 for its request, the other thread answers meanwhile, the process lives', async (t) => {
    // The request deadline (1 s) comes before the thread's liveness bound (2 s), so the stuck
    // request is answered 504 by its deadline, and the thread is replaced after.
    const { engine, url } = await start(t, { workers: 1, threads: 2, timeout: 2, requestTimeout: 1 });
    await until(() => engine.stats().units[0]?.children?.length === 2, 10_000, 'the process to report its threads');
    const pid = engine.stats().units[0]!.pid!;
    const before = new Set(engine.stats().units[0]!.children!.map((c) => c.threadId));
    const stuck = fetch(`${url}/spin`);
    // The other app thread keeps serving while one spins.
    const meanwhile = await who(url);
    assert.equal(meanwhile.pid, pid);
    assert.equal((await stuck).status, 504);
    await until(() => {
      const unit = engine.stats().units[0];
      return unit?.children?.length === 2 && unit.children.every((c) => c.state === 'ready') && unit.children.some((c) => !before.has(c.threadId));
    }, 10_000, 'a replacement thread in the same process');
    const after = engine.stats();
    assert.equal(after.units.length, 1);
    assert.equal(after.units[0]!.pid, pid, 'the master did not replace the process: its main thread kept beating');
    assert.equal(after.restarts.timeout, 0);
    assert.equal((await who(url)).pid, pid);
  });

  it('replaces a worker process killed with SIGKILL, and keeps serving', async (t) => {
    const { engine, url } = await start(t, { workers: 2, threads: 1 });
    const [victim, survivor] = engine.stats().units.map((u) => u.pid!);
    process.kill(victim!, 'SIGKILL');
    await until(() => {
      const pids = ready(engine.stats().units).map((u) => u.pid);
      return pids.length === 2 && !pids.includes(victim) && pids.includes(survivor);
    }, 10_000, 'a replacement process');
    assert.equal(engine.stats().restarts.crash, 1);
    const answers = await Promise.all(Array.from({ length: 6 }, () => who(url)));
    assert.ok(answers.every((a) => a.pid !== victim));
  });
});

describe('serve --engine hybrid (the real bin)', { timeout: 90_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-hybrid-hup-'));
  const app = path.join(dir, 'app.mjs');
  const failures: string[] = [];
  const oldPids = new Set<number>();
  const newPids = new Set<number>();
  let newAnswers = 0;
  let total = 0;
  let exitCode: number | null = null;
  let stderr = '';

  before(async () => {
    fs.copyFileSync(APP, app);
    const child = spawn(process.execPath, ['packages/cli/bin/serve.js', app, '--engine', 'hybrid', '--workers', '2', '--threads', '2', '--bind', '127.0.0.1:0', '--log-level', 'warn'],
      { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    after(() => child.kill('SIGKILL'));
    child.stderr!.on('data', (data) => { stderr += data; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const readyMessage = await Promise.race([
      new Promise<{ engine: string; addresses: string[] }>((resolve) => child.on('message', (m: { type?: string; engine: string; addresses: string[] }) => { if (m?.type === 'gatehouse:ready') resolve(m); })),
      exited.then((code) => { throw new Error(`serve exited ${code} before ready: ${stderr}`); }),
    ]);
    assert.equal(readyMessage.engine, 'hybrid');
    const url = readyMessage.addresses[0]!;

    // Bounded load on loopback: 4 clients, at most 20 s and 20,000 requests, until 200 answers
    // of the new code have come back after the HUP. A connection per request, so requests land
    // on every process, old and new.
    const deadline = Date.now() + 20_000;
    const client = async () => {
      while (newAnswers < 200 && Date.now() < deadline && total < 20_000) {
        total++;
        try {
          const response = await fetch(`${url}/who`, { headers: { connection: 'close' } });
          if (response.status !== 200) { failures.push(`status ${response.status}`); continue; }
          const answer = await response.json() as Who;
          // Both generations may answer for a moment (the old one drains its connections).
          if (answer.version === 'v2') { newAnswers++; newPids.add(answer.pid); } else oldPids.add(answer.pid);
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);
    await until(() => total >= 100, 10_000, 'some load before the HUP');
    fs.writeFileSync(app, fs.readFileSync(app, 'utf8').replace("const VERSION = 'v1';", "const VERSION = 'v2';"));
    child.kill('SIGHUP');
    await load;
    child.kill('SIGTERM');
    exitCode = await exited;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('HUP under load rolls the processes onto the new code; TERM then exits 0', () => {
    assert.ok(newAnswers >= 200, `the new code answered (${newAnswers} of ${total})`);
    assert.equal(newPids.size, 2, 'both new worker processes answer');
    assert.deepEqual([...newPids].filter((p) => oldPids.has(p)), [], 'the processes were rolled, not reused');
    assert.equal(exitCode, 0, stderr);
  });

  it('HUP under load fails no request', () => {
    assert.deepEqual(failures, [], `failed requests out of ${total}`);
  });
  it('moves idle keep-alive connections to a new process (the prefork master balances them)', async (t) => {
    const { engine, url } = await start(t, { workers: 1, threads: 1, timeout: 2 });
    const port = Number(new URL(url).port);
    const clients = await Promise.all(Array.from({ length: 6 }, () => RawClient.connect(port)));
    t.after(() => { for (const client of clients) client.destroy(); });
    let round = 0;
    const ask = async (client: RawClient): Promise<number> => {
      await client.write('GET /who HTTP/1.1\r\nHost: balance.test\r\n\r\n');
      const responses = await client.readResponses(round, { timeoutMs: 5000 });
      assert.equal(responses[round - 1]!.status, 200);
      return (JSON.parse(responses[round - 1]!.text()) as Who).pid;
    };
    round++;
    assert.equal(new Set(await Promise.all(clients.map(ask))).size, 1);
    await engine.scale(1);
    const deadline = Date.now() + 15_000;
    for (;;) {
      round++;
      const pids = await Promise.all(clients.map(ask));
      const counts = [...new Set(pids)].map((pid) => pids.filter((p) => p === pid).length);
      if (counts.length === 2 && Math.abs(counts[0]! - counts[1]!) <= 2) break;
      assert.ok(Date.now() < deadline, `connections still on ${counts.length} process(es) after ${round} rounds`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(clients.every((client) => !client.closed));
  });
});
