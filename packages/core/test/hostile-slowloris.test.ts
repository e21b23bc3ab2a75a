/*
 * Slowloris and slow bodies, under every engine (single, prefork, threaded, hybrid): hundreds of
 * connections that trickle header bytes, trickle or stall body bytes, or say nothing, must not
 * stop a normal client from being served, and each kind is cut by its timeout:
 *
 *   header tricklers  (a field line every 250 ms, never the end of the head)  -> 408, closed  (headersTimeout)
 *   body stallers     (a head, one body byte, then silence)                   -> 408, closed  (bodyTimeout)
 *   body tricklers    (a body byte every 250 ms, never the end)               -> 504, closed  (requestTimeout)
 *   idle              (connect, send nothing)                                 -> closed, no bytes (keepAlive)
 *
 * Head tricklers and slow bodies are separate tests, so a gap in one does not hide the other.
 *
 * "Promptly" is asserted without timing figures: the normal client's requests must all succeed
 * while (nearly) every hostile connection is still open, i.e. during the attack and not after
 * the timeouts cleared it. Short timeouts (seconds) keep each engine's run to a few seconds.
 * Fleet sizes are bounded (500 sockets per engine, far below `ulimit -n` here) and everything
 * targets loopback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allClosed, every, hostileServer, openMany, type EngineName, type HostileSocket } from './kit/hostile.js';

const HEADER_TRICKLERS = 200;
const BODY_STALLERS = 100;
const BODY_TRICKLERS = 100;
const IDLE = 100;
const NORMAL_ROUNDS = 10;

const SETTINGS = { headersTimeout: 4, keepAlive: 4, bodyTimeout: 1, requestTimeout: 4 };

/** The normal client: GETs and POSTs with a body, on fetch's keep-alive pool, every one checked. */
async function normalClient(port: number): Promise<void> {
  const body = 'n'.repeat(10_000);
  for (let i = 0; i < NORMAL_ROUNDS; i++) {
    const get = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'ok');
    const post = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), String(body.length));
  }
}

/**
 * Known gaps, run as TODO (reported, not failing the suite) until their engine changes. Remove
 * an entry when its test passes.
 */
// threaded and hybrid: closed by engine-threaded reading bodies (up to 1 MiB) on
// the main thread before a request takes a slot (engine-threaded/src/read-ahead.ts).
const KNOWN_GAPS: Partial<Record<EngineName, string>> = {};

const openShare = (sockets: readonly HostileSocket[]): number => sockets.filter((s) => !s.closed).length / sockets.length;

/** Opens `count` sockets and writes `first` on each; they join `fleet` (destroyed after the test). */
async function group(port: number, count: number, first: string, fleet: HostileSocket[]): Promise<HostileSocket[]> {
  const sockets = await openMany(port, count);
  fleet.push(...sockets);
  if (first !== '') for (const s of sockets) s.write(first);
  return sockets;
}

const statuses = (sockets: readonly HostileSocket[]): number[] => [...new Set(sockets.map((s) => s.status))].sort();

for (const name of ['single', 'prefork', 'threaded', 'hybrid'] as EngineName[]) {
  describe(`slowloris and slow bodies: ${name}`, { timeout: 60_000 }, () => {
    const { server: running, fleet } = hostileServer(name, SETTINGS);

    test(`slowloris: ${HEADER_TRICKLERS} connections trickling a head and ${IDLE} saying nothing; the normal client is served meanwhile; 408 / closed`, { timeout: 30_000 }, async (t) => {
      const server = running();
      assert.ok(server !== null, 'the engine started');
      const port = server.port;
      const tricklers = await group(port, HEADER_TRICKLERS, 'GET / HTTP/1.1\r\nHost: a\r\n', fleet);
      const idle = await group(port, IDLE, '', fleet);
      const trickle = every(250, () => { for (const s of tricklers) s.write('X-Slow: a\r\n'); });
      t.after(() => trickle.stop());

      await normalClient(port);
      const open = { tricklers: openShare(tricklers), idle: openShare(idle) };
      assert.ok(open.tricklers > 0.9 && open.idle > 0.9, `the normal client finished only after the attack was cut off (share still open: ${JSON.stringify(open)})`);

      await allClosed([...tricklers, ...idle], 15_000, 'hostile connections');
      assert.deepEqual(statuses(tricklers), [408], 'head tricklers: 408 (headers timeout)');
      assert.deepEqual(idle.filter((s) => s.received !== ''), [], 'idle connections: closed without a byte (keep-alive timeout)');
      await normalClient(port);
    });

    test(`slow bodies: ${BODY_TRICKLERS} connections trickling a body and ${BODY_STALLERS} stalling one; the normal client is served meanwhile; 504 / 408`, { timeout: 30_000, todo: KNOWN_GAPS[name] }, async (t) => {
      const server = running();
      assert.ok(server !== null, 'the engine started');
      const port = server.port;
      const stallers = await group(port, BODY_STALLERS, 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nx', fleet);
      const tricklers = await group(port, BODY_TRICKLERS, 'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n', fleet);
      const trickle = every(250, () => { for (const s of tricklers) s.write('y'); });
      t.after(() => trickle.stop());

      await normalClient(port);
      const open = { stallers: openShare(stallers), tricklers: openShare(tricklers) };
      assert.ok(open.tricklers > 0.9, `the normal client finished only after the attack was cut off (share still open: ${JSON.stringify(open)})`);

      await allClosed([...stallers, ...tricklers], 15_000, 'hostile connections');
      assert.deepEqual(statuses(stallers), [408], 'body stallers: 408 (body timeout)');
      assert.deepEqual(statuses(tricklers), [504], 'body tricklers: 504 (request timeout)');
      await normalClient(port);
    });
  });
}
