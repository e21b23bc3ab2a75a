/*
 * Upgraded connections across a whole server's lifecycle, through the real `serve` bin: 100
 * WebSockets under prefork (2 workers) across a HUP and a TERM, and under single across a
 * TERM. New connections must reach the new generation at once; old sockets must get close 1001
 * within --graceful-timeout; no process may be left behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { once } from 'node:events';
import WebSocket from 'ws';
import { openPidSocket, until, type PidSocket } from './kit/index.js';
import { PREFORK_ENGINE, REPO, spawnServe } from './kit/serve-bin.js';

const APP = path.join(REPO, 'packages/core/test/fixtures/apps/websocket-pid.js');
const GRACEFUL_SECONDS = 4;
const SOCKETS = 100;


function logRecords(stderr: string): Array<{ event?: string }> {
  return stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { event?: string });
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function openMany(port: number, count: number): Promise<PidSocket[]> {
  const opened: PidSocket[] = [];
  // In batches of 20: bounded, and loopback only.
  for (let i = 0; i < count; i += 20) opened.push(...await Promise.all(Array.from({ length: Math.min(20, count - i) }, () => openPidSocket(port))));
  return opened;
}

describe('WebSockets across reload and stop', { timeout: 90_000 }, () => {
  it('prefork: HUP sends new connections to the new generation at once and closes old sockets with 1001 in time; TERM closes the rest and leaves no process', async (t) => {
    const serve = spawnServe([APP, '--engine', PREFORK_ENGINE, '--workers', '2', '--bind', '127.0.0.1:0', '--graceful-timeout', String(GRACEFUL_SECONDS), '--reload-strategy', 'generation']);
    t.after(() => serve.dispose());
    const port = Number(new URL((await serve.ready).addresses[0]!).port);
    const old = await openMany(port, SOCKETS);
    const oldPids = new Set(old.map((socket) => socket.pid));
    assert.equal(old.length, SOCKETS);

    const hupAt = Date.now();
    serve.child.kill('SIGHUP');
    // The reload is done (the log's typed 'reloaded' record): from then on every new
    // connection lands on the new generation, while the old one still holds its sockets.
    await until(() => logRecords(serve.stderr()).some((record) => record.event === 'reloaded'), 30_000, 'the reloaded record');
    assert.ok(old.every((socket) => socket.ws.readyState === WebSocket.OPEN), 'old sockets stay open while the old generation drains');
    const fresh = await openPidSocket(port);
    const after = await openMany(port, 20);
    assert.ok(!oldPids.has(fresh.pid));
    assert.deepEqual(after.filter((socket) => oldPids.has(socket.pid)).map((socket) => socket.pid), [], 'no new connection reaches an old worker');

    const closes = await Promise.all(old.map((socket) => socket.closed));
    assert.deepEqual([...new Set(closes.map((close) => close.code))], [1001], 'every old socket got 1001');
    const latest = Math.max(...closes.map((close) => close.at)) - hupAt;
    // Booting the new generation comes first; the drain's timeout counts from its start.
    assert.ok(latest < 30_000 + GRACEFUL_SECONDS * 1000, `old sockets closed ${latest} ms after HUP`);
    await until(() => [...oldPids].every((pid) => !alive(pid)), 20_000, 'old workers exited');
    for (const socket of after) {
      socket.ws.send('still here');
      assert.equal(String((await once(socket.ws, 'message'))[0]), 'still here');
    }

    const newPids = new Set([fresh, ...after].map((socket) => socket.pid));
    const termAt = Date.now();
    serve.child.kill('SIGTERM');
    const finalCloses = await Promise.all([fresh, ...after].map((socket) => socket.closed));
    assert.deepEqual([...new Set(finalCloses.map((close) => close.code))], [1001]);
    assert.ok(Math.max(...finalCloses.map((close) => close.at)) - termAt <= GRACEFUL_SECONDS * 1000 + 1000, 'closed by the graceful timeout');
    const exit = await serve.exited;
    assert.equal(exit.code, 0, serve.stderr());
    await until(() => [...newPids].every((pid) => !alive(pid)), 10_000, 'no worker left behind');
  });

  it('single: TERM closes 100 open sockets with 1001 within --graceful-timeout and exits', async (t) => {
    const serve = spawnServe([APP, '--engine', 'single', '--bind', '127.0.0.1:0', '--graceful-timeout', String(GRACEFUL_SECONDS)]);
    t.after(() => serve.dispose());
    const port = Number(new URL((await serve.ready).addresses[0]!).port);
    const open = await openMany(port, SOCKETS);
    const termAt = Date.now();
    serve.child.kill('SIGTERM');
    const closes = await Promise.all(open.map((socket) => socket.closed));
    assert.deepEqual([...new Set(closes.map((close) => close.code))], [1001]);
    assert.ok(Math.max(...closes.map((close) => close.at)) - termAt <= GRACEFUL_SECONDS * 1000 + 1000);
    assert.equal((await serve.exited).code, 0, serve.stderr());
  });
});
