/*
 * A master frozen together with its workers (the whole process group SIGSTOPped, as a VM
 * pause or a debugger does) must not blame the workers for the time it lost: after SIGCONT no
 * worker is replaced and the server serves on. The master is test/fixtures/master.mjs in a
 * process group of its own, so the group can be stopped without stopping the test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { EngineStats } from '@gatehouse/core';
import { fixture, get, isAlive } from './kit/index.js';

describe('prefork: a frozen process group', () => {
  it('SIGSTOP of the group for 5 s, then SIGCONT: no worker replaced, still serving', { timeout: 40_000 }, async (t) => {
    const child = fork(fixture('master.mjs'), [fixture('app.mjs'), JSON.stringify({ workers: 2, timeout: 2, gracefulTimeout: 5 })],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [], detached: true });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.after(async () => {
      try { process.kill(-child.pid!, 'SIGCONT'); } catch { /* gone */ }
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
        await exit;
        clearTimeout(timer);
      }
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: { type?: string; url?: string }) => { if (m.type === 'ready') resolve(m.url!); });
      void exit.then(() => reject(new Error(`master exited: ${stderr}`)));
    });
    const stats = (): Promise<EngineStats> => new Promise((resolve) => {
      const onMessage = (m: { type?: string; stats?: EngineStats }) => {
        if (m.type !== 'stats') return;
        child.off('message', onMessage);
        resolve(m.stats!);
      };
      child.on('message', onMessage);
      child.send({ type: 'stats' });
    });
    const pids = (await stats()).units.map((u) => u.pid!).sort();
    assert.equal(pids.length, 2);
    assert.equal((await get(`${url}/`)).status, 200);

    process.kill(-child.pid!, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    process.kill(-child.pid!, 'SIGCONT');
    // Longer than --timeout: a wrongly blamed worker would have been killed by now.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const after = await stats();
    assert.deepEqual(after.units.map((u) => u.pid!).sort(), pids, `workers replaced after the freeze: ${stderr}`);
    assert.ok(after.units.every((u) => u.state === 'ready'));
    assert.equal(after.restarts.timeout, 0);
    assert.ok(pids.every(isAlive));
    const seen = new Set<number>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const answer = await get(`${url}/`);
      assert.equal(answer.status, 200);
      seen.add(answer.pid);
    }
    assert.equal(seen.size, 2, 'both workers answer');
  });
});
