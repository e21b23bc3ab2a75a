/*
 * A rolling reload (the default strategy) with WebSockets open, through the real `serve` bin,
 * under prefork (2 workers) and hybrid (2 processes x 2 threads). An old worker that holds
 * WebSockets keeps them until --graceful-timeout, so the roll must not wait for it to exit:
 * the whole new generation serves new connections (plain HTTP answered by new pids) well
 * before the graceful timeout, the old sockets still echo after the roll, they get close 1001
 * at the timeout, the old processes then exit, and TERM leaves no process behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import WebSocket from 'ws';
import { REPO, ServeProcess, eventually } from './kit/index.js';
import { openPidSocket, type PidSocket } from '@gatehouse/core/testkit';

/** Plain HTTP answers its process's pid; a WebSocket is greeted with it, then echoed. */
const APP = path.join(REPO, 'packages/core/test/fixtures/apps/websocket-pid.js');
const GRACEFUL_SECONDS = 20;
const SOCKETS = 20;


/** The pid of the process that answers a plain GET on a new connection. */
async function plainPid(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200);
  return Number(await response.text());
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function echoes(socket: PidSocket, text: string): Promise<string> {
  const reply = once(socket.ws, 'message');
  socket.ws.send(text);
  return String((await reply)[0]);
}

const CASES = [
  { engine: 'prefork', sizing: ['--workers', '2'] },
  { engine: 'hybrid', sizing: ['--workers', '2', '--threads', '2'] },
] as const;

for (const { engine, sizing } of CASES) {
  describe(`rolling reload under ${engine} with WebSockets open`, { timeout: 120_000 }, () => {
    it('the new generation serves new connections well before the graceful timeout; old sockets echo, get 1001 at the timeout, and their processes exit', async (t) => {
      const serve = new ServeProcess([APP, '--engine', engine, ...sizing, '--bind', '127.0.0.1:0',
        '--graceful-timeout', String(GRACEFUL_SECONDS), '--reload-strategy', 'rolling']);
      t.after(() => serve.dispose());
      const port = Number(new URL(await serve.url).port);

      // Every old worker must hold sockets (the one the roll stops first above all): open the
      // 20, then a bounded few more until both processes hold some.
      const old: PidSocket[] = [];
      for (let i = 0; i < SOCKETS; i += 5) old.push(...await Promise.all(Array.from({ length: 5 }, () => openPidSocket(port))));
      while (new Set(old.map((s) => s.pid)).size < 2 && old.length < 3 * SOCKETS) old.push(await openPidSocket(port));
      const oldPids = new Set(old.map((s) => s.pid));
      assert.equal(oldPids.size, 2, 'both old worker processes hold WebSockets');

      const hupAt = Date.now();
      const from = serve.records.length;
      serve.kill('SIGHUP');
      await serve.event('reloaded', from, GRACEFUL_SECONDS * 1000);
      // Both new processes answer new connections (bounded: at most 200 plain GETs, loopback).
      const newPids = new Set<number>();
      for (let i = 0; i < 200 && newPids.size < 2; i++) {
        const pid = await plainPid(port);
        assert.ok(!oldPids.has(pid), `a new connection after the reload reached old worker ${pid}`);
        newPids.add(pid);
      }
      const rolledIn = Date.now() - hupAt;
      assert.equal(newPids.size, 2, 'both new workers serve new connections');
      // The old arbiter started the second new worker only once the first old one exited, at
      // its graceful timeout: the roll then took longer than GRACEFUL_SECONDS.
      assert.ok(rolledIn < (GRACEFUL_SECONDS - 5) * 1000, `the roll finished ${rolledIn} ms after HUP (graceful timeout ${GRACEFUL_SECONDS} s)`);

      assert.ok(old.every((s) => s.ws.readyState === WebSocket.OPEN), 'old sockets stay open after the roll');
      const replies = await Promise.all(old.map((s, i) => echoes(s, `still ${i}`)));
      assert.deepEqual(replies, old.map((_, i) => `still ${i}`), 'old sockets still echo');
      assert.ok(Date.now() - hupAt < (GRACEFUL_SECONDS - 2) * 1000, 'the echo check ran before the graceful timeout');

      const closes = await Promise.all(old.map((s) => s.closed));
      assert.deepEqual([...new Set(closes.map((c) => c.code))], [1001], 'every old socket got 1001');
      const first = Math.min(...closes.map((c) => c.at)) - hupAt;
      const last = Math.max(...closes.map((c) => c.at)) - hupAt;
      // The drain starts when the roll stops the worker (after HUP) and says 1001 a second before its end.
      assert.ok(first >= (GRACEFUL_SECONDS - 2) * 1000, `old sockets closed at the graceful timeout, not before (first ${first} ms after HUP)`);
      assert.ok(last <= (GRACEFUL_SECONDS + 15) * 1000, `old sockets closed by the graceful timeout (last ${last} ms after HUP)`);
      await eventually('the old worker processes to exit', () => [...oldPids].every((pid) => !alive(pid)), 10_000);

      serve.kill('SIGTERM');
      assert.equal((await serve.exited).code, 0, serve.stderr);
      await eventually('no worker process left behind', () => [...newPids].every((pid) => !alive(pid)), 10_000);
    });
  });
}
