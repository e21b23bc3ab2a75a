/*
 * Connection balance (arbiter.ts, "Balance"): workers that share a socket split keep-alive
 * connections unevenly, so the master moves idle ones from the most loaded worker to the
 * least. Shown the deterministic way: every connection is on the one worker there is, then a
 * second worker starts; the same connections (never reopened) must end up split between the
 * two, and no request on them may fail, also under continuous load.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '@gatehouse/core/testkit';
import { startEngine, startLoad, readyPids, until } from './kit/index.js';

/** GET / on this connection; the pid of the worker that answered (the n-th response on it). */
async function askWho(client: RawClient, n: number): Promise<number> {
  await client.write('GET / HTTP/1.1\r\nHost: balance.test\r\n\r\n');
  const responses = await client.readResponses(n, { timeoutMs: 5000 });
  const last = responses[n - 1]!;
  assert.equal(last.status, 200);
  return (JSON.parse(last.body.toString('utf8')) as { pid: number }).pid;
}

const tally = (pids: number[]): Map<number, number> => {
  const counts = new Map<number, number>();
  for (const pid of pids) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  return counts;
};

describe('connection balance', () => {
  it('moves idle keep-alive connections from a crowded worker to a new one; the connections stay open', { timeout: 30_000 }, async (t) => {
    // --timeout 2: heartbeats every 500 ms, so balancing reacts within a second or two.
    const { engine, url } = await startEngine(t, { workers: 1, timeout: 2 });
    const port = Number(new URL(url).port);
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(port)));
    t.after(() => { for (const client of clients) client.destroy(); });

    let round = 1;
    const first = await Promise.all(clients.map((client) => askWho(client, round)));
    assert.equal(tally(first).size, 1, 'one worker holds every connection');
    await engine.scale(1);
    const [, newcomer] = readyPids(engine);

    const deadline = Date.now() + 15_000;
    let counts = tally(first);
    while (!(counts.size === 2 && Math.max(...counts.values()) - Math.min(...counts.values()) <= 2)) {
      assert.ok(Date.now() < deadline, `connections still split ${JSON.stringify([...counts])} after ${round} rounds`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      round++;
      counts = tally(await Promise.all(clients.map((client) => askWho(client, round))));
    }
    assert.ok(counts.has(newcomer!), 'the new worker answers on connections the first one accepted');
    assert.ok(clients.every((client) => !client.closed), 'no connection was closed to move it');
  });

  it('moves connections under continuous keep-alive load without failing a request', { timeout: 30_000 }, async (t) => {
    const { engine, url } = await startEngine(t, { workers: 1, timeout: 2 });
    const load = startLoad(`${url}/`, { concurrency: 8, maxMs: 15_000 });
    // The one worker reports (in its heartbeat) all eight load connections as its own.
    await until(() => engine.stats().units[0]?.connections === 8, 10_000, 'the first worker to hold every load connection');
    await engine.scale(1);
    const [, newcomer] = readyPids(engine);
    // Heartbeats, a shed, then requests on the moved connections; the load goes on meanwhile.
    await until(() => load.result.answers.some((answer) => answer.pid === newcomer), 10_000, 'the new worker to answer on a moved connection');
    const split = () => engine.stats().units.map((u) => u.connections ?? 0);
    await until(() => { const [a = 0, b = 0] = split(); return a + b === 8 && Math.abs(a - b) <= 2; }, 10_000, 'the workers to report a balanced split');
    const result = await load.stop();
    assert.deepEqual(result.failures, []);
    assert.equal(result.retried, 0, 'no request met a connection closed under it');
    assert.ok(result.answers.some((answer) => answer.pid === newcomer), 'the new worker served requests on moved connections');
  });
});

describe('connection balance under CPU-bound load', () => {
  it('moves connections off a worker whose event loop is saturated; every request is answered', { timeout: 40_000 }, async (t) => {
    const { engine, url } = await startEngine(t, { workers: 1, timeout: 2 });
    // Each request keeps the loop busy for 4 ms: eight clients keep one worker saturated, so its
    // connections are idle only in the moments between a response and the next request.
    const load = startLoad(`${url}/spin?ms=4`, { concurrency: 8, maxMs: 20_000 });
    await until(() => engine.stats().units[0]?.connections === 8, 10_000, 'the first worker to hold every load connection');
    await engine.scale(1);
    const [, newcomer] = readyPids(engine);
    await until(() => load.result.answers.some((answer) => answer.pid === newcomer), 15_000, 'the new worker to answer on a moved connection');
    const split = () => engine.stats().units.map((u) => u.connections ?? 0);
    await until(() => { const [a = 0, b = 0] = split(); return a + b === 8 && Math.abs(a - b) <= 2; }, 15_000, 'the workers to report a balanced split');
    const result = await load.stop();
    assert.deepEqual(result.failures, [], 'every request was answered');
    assert.equal(result.retried, 0, 'no request met a connection closed under it');
    const served = tally(result.answers.map((answer) => answer.pid));
    assert.ok((served.get(newcomer!) ?? 0) > 8, `the new worker served requests on moved connections: ${JSON.stringify([...served])}`);
  });
});
