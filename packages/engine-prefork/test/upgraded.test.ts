/*
 * Upgraded connections under prefork and the master's view of them. The balancer (handover.ts)
 * moves only idle keep-alive connections: a worker holding upgraded ones gives its idle plain
 * connections away and keeps every upgraded one, which goes on working in the same process.
 * stats() counts them per worker (UnitStats.upgraded, from the heartbeats) and back to zero
 * as they close.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EchoClient, RawClient } from '@gatehouse/core/testkit';
import { fixture, readyPids, startEngine, until } from './kit/index.js';
import type { PreforkEngine } from '../src/index.js';

const APP = fixture('upgraded.mjs');

/** GET / on this connection; the pid of the worker that answered (the n-th response on it). */
async function askWho(client: RawClient, n: number): Promise<number> {
  await client.write('GET / HTTP/1.1\r\nHost: upgraded.test\r\n\r\n');
  const responses = await client.readResponses(n, { timeoutMs: 5000 });
  assert.equal(responses[n - 1]!.status, 200);
  return (JSON.parse(responses[n - 1]!.body.toString('utf8')) as { pid: number }).pid;
}

const upgradedOf = (engine: PreforkEngine, pid: number): number | undefined => engine.stats().units.find((u) => u.pid === pid)?.upgraded;

describe('upgraded connections under prefork', () => {
  it('the balancer moves idle keep-alive connections off a busy worker and never an upgraded one; stats() counts them and sees zero once they close', { timeout: 40_000 }, async (t) => {
    // --timeout 2: heartbeats every 500 ms, so counts are fresh and balancing reacts quickly.
    const { engine, url } = await startEngine(t, { workers: 1, timeout: 2 }, APP);
    const port = Number(new URL(url).port);
    const [busy] = readyPids(engine);
    const echoes = await Promise.all(Array.from({ length: 6 }, () => EchoClient.open(port)));
    const plain = await Promise.all(Array.from({ length: 6 }, () => RawClient.connect(port)));
    t.after(() => { for (const client of [...echoes.map((e) => e.socket), ...plain]) client.destroy(); });
    assert.deepEqual([...new Set(echoes.map((e) => Number(e.greeting.unit)))], [busy], 'one worker holds every upgraded connection');
    let round = 1;
    assert.deepEqual([...new Set(await Promise.all(plain.map((c) => askWho(c, round))))], [busy]);
    await until(() => upgradedOf(engine, busy!) === 6, 10_000, 'stats() to count 6 upgraded connections');

    await engine.scale(1);
    const newcomer = readyPids(engine).find((pid) => pid !== busy)!;
    // The balancer runs: plain connections the busy worker accepted move to the newcomer.
    const deadline = Date.now() + 15_000;
    let answered: number[] = [];
    while (!answered.includes(newcomer)) {
      assert.ok(Date.now() < deadline, 'no plain connection moved to the new worker');
      await new Promise((resolve) => setTimeout(resolve, 100));
      round++;
      answered = await Promise.all(plain.map((c) => askWho(c, round)));
    }
    // Each heartbeat invites another shed while the counts differ; let a few more pass.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    for (const [i, echo] of echoes.entries()) {
      echo.socket.write(`after-balance-${i}\n`);
      await echo.waitFor(`after-balance-${i}\n`, `upgraded connection ${i} to echo after the balancer ran`);
      assert.equal(echo.closed, false);
    }
    assert.equal(upgradedOf(engine, busy!), 6, 'the busy worker still holds every upgraded connection');
    assert.equal(upgradedOf(engine, newcomer) ?? 0, 0, 'none moved to the new worker');
    assert.ok(plain.every((c) => !c.closed), 'no plain connection was closed to move it');

    for (const echo of echoes) echo.socket.end();
    await until(() => engine.stats().units.every((u) => (u.upgraded ?? 0) === 0), 10_000, 'stats() to count zero upgraded connections once they closed');
  });
});
