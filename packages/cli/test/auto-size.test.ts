/*
 * `--workers auto` / `--threads auto` and WEB_CONCURRENCY through the real `serve` bin: what
 * --print-config says, and how many processes and threads the engine really runs (its
 * gatehouse_units_alive gauge), with the CPUs limited by an affinity mask (`taskset -c 0`) and
 * by a fake cgroup quota (GATEHOUSE_CGROUP_ROOT points the quota reader at a temp directory).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HELLO_APP, ServeProcess, runServe, tempDir } from './kit/index.js';
import { createServer } from '../src/index.js';

const TASKSET = ['taskset', '-c', '0'];
/** The CPUs this test process may use, before any limit a test adds. */
const AFFINITY = os.availableParallelism();

/** A fake cgroup mount whose root cgroup allows quota/period CPUs. The root's cpu.max is read whatever /proc/self/cgroup says (v2 reading walks up to the mount). */
function fakeQuota(quota: number, period = 100_000): Record<string, string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-cgroup-'));
  fs.writeFileSync(path.join(root, 'cpu.max'), `${quota} ${period}\n`);
  return { GATEHOUSE_CGROUP_ROOT: root };
}

function printed(stdout: string, name: string): [string, string] {
  const match = new RegExp(`^${name}\\s+= (.*?)  # (.*)$`, 'm').exec(stdout);
  assert.ok(match, `--print-config has no ${name} line:\n${stdout}`);
  return [match[1]!, match[2]!];
}

/**
 * Starts serve, reads the units-alive gauge once it is ready, stops it. A hybrid worker's
 * threads reach the master with the process's first stats report, after ready: for hybrid
 * the gauge is read once it shows threads (bounded).
 */
async function unitsAlive(args: string[], options: { env?: Record<string, string>; wrapper?: string[] }): Promise<{ process: number; thread: number; autoSizeLog: string[] }> {
  const dir = tempDir({ 'app.js': HELLO_APP });
  const serve = new ServeProcess(['app.js', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--timeout', '2', ...args], { cwd: dir, ...options });
  try {
    const ready = await serve.ready;
    assert.equal((await fetch(ready.addresses[0]!)).status, 200);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const text = await (await fetch(ready.metrics!)).text();
      const gauge = (kind: string) => Number(new RegExp(`^gatehouse_units_alive\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
      const units = { process: gauge('process'), thread: gauge('thread') };
      const autoSizeLog = serve.records.filter((r) => r.event === 'auto-size').map((r) => r.msg);
      if (!args.includes('hybrid') || units.thread > 0) return { ...units, autoSizeLog };
      assert.ok(Date.now() < deadline, `hybrid never reported its threads; last scrape:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    serve.kill('SIGTERM');
    await Promise.race([serve.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    await serve.dispose();
  }
}

describe('auto-sizing from the usable CPUs', { timeout: 120_000 }, () => {
  before(() => {
    const probe = spawnSync(TASKSET[0]!, ['-c', '0', 'true']);
    assert.equal(probe.error, undefined, `these tests need taskset (util-linux; apt-get install util-linux): ${probe.error?.message}`);
    assert.equal(probe.status, 0, `taskset -c 0 true failed: ${probe.stderr}`);
  });
  const dir = tempDir({ 'app.js': HELLO_APP });

  it('--print-config: an affinity mask of one CPU makes auto 1, and says why', async () => {
    const result = await runServe(['--print-config', 'app.js', '--workers', 'auto', '--threads', 'auto'], { cwd: dir, wrapper: TASKSET });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(printed(result.stdout, 'workers'), ['1', 'cli: --workers; auto (one process per CPU; 1 usable CPU: no cgroup CPU quota; affinity mask 1 CPU)']);
    assert.equal(printed(result.stdout, 'threads')[0], '1');
  });

  it('--print-config: a cgroup quota under the affinity mask wins, rounded up', async () => {
    const env = fakeQuota(50_000);
    const result = await runServe(['--print-config', 'app.js', '-w', 'auto'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const cpuMax = path.join(env.GATEHOUSE_CGROUP_ROOT!, 'cpu.max');
    assert.deepEqual(printed(result.stdout, 'workers'), ['1', `cli: --workers; auto (one process per CPU; 1 usable CPU: cgroup quota 50000/100000 in ${cpuMax}; affinity mask ${AFFINITY} CPU${AFFINITY === 1 ? '' : 's'})`]);
    const fractional = await runServe(['--print-config', 'app.js', '-w', 'auto'], { cwd: dir, env: fakeQuota(150_000), wrapper: [] });
    assert.equal(printed(fractional.stdout, 'workers')[0], String(Math.min(2, AFFINITY)));
  });

  it('prefork runs one worker process per usable CPU', async () => {
    const quota2 = fakeQuota(200_000);
    assert.equal((await unitsAlive(['--engine', 'prefork', '--workers', 'auto'], { env: quota2 })).process, Math.min(2, AFFINITY));
    assert.equal((await unitsAlive(['--engine', 'prefork', '--workers', 'auto'], { env: quota2, wrapper: TASKSET })).process, 1);
    const one = await unitsAlive(['--engine', 'prefork', '--workers', 'auto'], { env: fakeQuota(100_000) });
    assert.equal(one.process, 1);
    assert.match(one.autoSizeLog.join('\n'), /^workers = 1: auto \(one process per CPU; 1 usable CPU: cgroup quota 100000\/100000 in /);
  });

  it('threaded runs one app thread per usable CPU', async () => {
    assert.equal((await unitsAlive(['--engine', 'threaded', '--threads', 'auto'], { env: fakeQuota(200_000) })).thread, Math.min(2, AFFINITY));
    assert.equal((await unitsAlive(['--engine', 'threaded', '--threads', 'auto'], { wrapper: TASKSET })).thread, 1);
  });

  it('hybrid with both auto runs processes x threads = usable CPUs', async () => {
    const two = Math.min(2, AFFINITY);
    const quota2 = await unitsAlive(['--engine', 'hybrid', '--workers', 'auto', '--threads', 'auto'], { env: fakeQuota(200_000) });
    assert.deepEqual([quota2.process, quota2.thread], [1, two]);
    const pinned = await unitsAlive(['--engine', 'hybrid', '--workers', 'auto', '--threads', 'auto'], { wrapper: TASKSET });
    assert.deepEqual([pinned.process, pinned.thread], [1, 1]);
    const threads = await runServe(['--print-config', 'app.js', '--engine', 'hybrid', '--workers', '1', '--threads', 'auto'], { cwd: dir, env: fakeQuota(200_000) });
    assert.match(printed(threads.stdout, 'threads')[1], /^cli: --threads; auto \(hybrid: \d+ CPUs? \/ 1 processes; /);
    assert.equal(printed(threads.stdout, 'threads')[0], String(two));
  });

  it('createServer takes auto too, sized the same way', async () => {
    process.env.GATEHOUSE_CGROUP_ROOT = fakeQuota(100_000).GATEHOUSE_CGROUP_ROOT;
    try {
      const server = await createServer({ app: path.join(dir, 'app.js'), engine: 'threaded', threads: 'auto', bind: '127.0.0.1:0', logLevel: 'silent' });
      try {
        assert.equal(server.settings.threads, 1);
        assert.equal(server.stats().units.filter((unit) => unit.kind === 'thread').length, 1);
      } finally {
        await server.close({ graceful: false });
      }
    } finally {
      delete process.env.GATEHOUSE_CGROUP_ROOT;
    }
  });

  it('--workers max is auto (the word PM2 users type)', async () => {
    const result = await runServe(['--print-config', 'app.js', '--workers', 'max'], { cwd: dir, wrapper: TASKSET });
    assert.equal(printed(result.stdout, 'workers')[0], '1');
    assert.match(printed(result.stdout, 'workers')[1], /^cli: --workers; auto \(one process per CPU; 1 usable CPU/);
  });
});

describe('WEB_CONCURRENCY', { timeout: 60_000 }, () => {
  const dir = tempDir({ 'app.js': HELLO_APP });

  it('sets the worker count, and really starts that many processes', async () => {
    const result = await runServe(['--print-config', 'app.js'], { cwd: dir, env: { WEB_CONCURRENCY: '3' } });
    assert.deepEqual(printed(result.stdout, 'workers'), ['3', 'env: WEB_CONCURRENCY (the PaaS worker count, below the config file)']);
    assert.equal((await unitsAlive(['--engine', 'prefork'], { env: { WEB_CONCURRENCY: '2' } })).process, 2);
  });

  it('is the lowest layer: the config file, GATEHOUSE_WORKERS and the flag each win over it', async () => {
    const withFile = tempDir({ 'app.js': HELLO_APP, 'gatehouse.config.json': JSON.stringify({ workers: 4 }) });
    assert.equal(printed((await runServe(['--print-config', 'app.js'], { cwd: withFile, env: { WEB_CONCURRENCY: '3' } })).stdout, 'workers')[0], '4');
    assert.deepEqual(printed((await runServe(['--print-config', 'app.js'], { cwd: dir, env: { WEB_CONCURRENCY: '3', GATEHOUSE_WORKERS: '5' } })).stdout, 'workers'), ['5', 'env: GATEHOUSE_WORKERS']);
    assert.deepEqual(printed((await runServe(['--print-config', 'app.js', '-w', '6'], { cwd: dir, env: { WEB_CONCURRENCY: '3', GATEHOUSE_WORKERS: '5' } })).stdout, 'workers'), ['6', 'cli: --workers']);
  });

  it('accepts auto; an invalid value is one line naming the variable, exit 2', async () => {
    const auto = await runServe(['--print-config', 'app.js'], { cwd: dir, env: { WEB_CONCURRENCY: 'auto' }, wrapper: TASKSET });
    assert.equal(printed(auto.stdout, 'workers')[0], '1');
    for (const value of ['lots', '0', '2.5']) {
      const result = await runServe(['app.js'], { cwd: dir, env: { WEB_CONCURRENCY: value } });
      assert.equal(result.code, 2);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^serve: ERR_SETTING_INVALID: Invalid setting: workers = "${value.replace('.', '\\.')}" from env WEB_CONCURRENCY: expected a whole number >= 1, or auto`));
    }
  });
});
