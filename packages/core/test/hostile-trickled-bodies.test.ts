/*
 * Trickled bodies of every framing, under every engine (single, prefork, threaded, hybrid):
 * chunked bodies and `Expect: 100-continue` bodies sent a few bytes at a time by more clients
 * than the thread engines have slots (2 threads x 16). A plain GET sent meanwhile must be
 * answered at once, as prefork with one worker answers it: no slow client holds an app thread.
 * Then every trickler finishes its body, and the app must have received each one complete.
 *
 * Timeouts are long (10 s), so the GET cannot be answered by the tricklers being cut off: it is
 * answered within GET_BOUND_MS or not at all while they trickle. Under threaded and hybrid the
 * --read-ahead-budget 0 case checks the other side of the trade-off: without read-ahead a
 * client that waits for the echo of its first chunk gets it while its body is still open.
 * Fleets are bounded (80 sockets) and everything targets loopback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { every, hostileServer, openMany, type EngineName, type HostileSocket } from './kit/hostile.js';
import { until } from './kit/wait.js';

const CHUNKED = 40;
const CONTINUE = 40;
const CONTINUE_LENGTH = 100;
const TICK_MS = 200;
/** Trickle ticks before the GET: every trickler has been dispatched (or queued) by then. */
const TICKS_BEFORE_GET = 3;
const GET_BOUND_MS = 1000;

const SETTINGS = { headersTimeout: 10, keepAlive: 10, bodyTimeout: 10, requestTimeout: 0 };

/** The final (non-1xx) response's status and body; the app answers with a Content-Length body. */
function finalResponse(socket: HostileSocket): { status: number; body: string } | null {
  const heads = [...socket.received.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n/g)];
  const last = heads.at(-1);
  if (last === undefined || last[1]!.startsWith('1')) return null;
  const rest = socket.received.slice(last.index!);
  const headEnd = rest.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const length = /\r\ncontent-length: (\d+)/i.exec(rest.slice(0, headEnd));
  const body = rest.slice(headEnd + 4);
  if (length === null || body.length < Number(length[1])) return null;
  return { status: Number(last[1]), body };
}

for (const name of ['single', 'prefork', 'threaded', 'hybrid'] as EngineName[]) {
  describe(`trickled chunked and 100-continue bodies: ${name}`, { timeout: 60_000 }, () => {
    const { server: running, fleet } = hostileServer(name, SETTINGS);

    test(`${CHUNKED} chunked and ${CONTINUE} 100-continue tricklers: a GET meanwhile is answered within ${GET_BOUND_MS} ms; every body arrives complete`, { timeout: 40_000 }, async (t) => {
      const server = running();
      assert.ok(server !== null, 'the engine started');
      const port = server.port;
      const chunked = await openMany(port, CHUNKED);
      const continuing = await openMany(port, CONTINUE);
      fleet.push(...chunked, ...continuing);
      const chunkedSent = new Map<HostileSocket, number>();
      const continueSent = new Map<HostileSocket, number>();
      for (const s of chunked) {
        s.write('POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        chunkedSent.set(s, 5);
      }
      for (const s of continuing) {
        s.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${CONTINUE_LENGTH}\r\nExpect: 100-continue\r\n\r\n`);
        continueSent.set(s, 0);
      }
      let ticks = 0;
      const trickle = every(TICK_MS, () => {
        ticks++;
        for (const s of chunked) { s.write('5\r\nhello\r\n'); chunkedSent.set(s, chunkedSent.get(s)! + 5); }
        // A well-behaved 100-continue client sends its body once it has the 100.
        for (const s of continuing) {
          const sent = continueSent.get(s)!;
          if (s.statuses[0] === 100 && sent < CONTINUE_LENGTH - 1) { s.write('c'); continueSent.set(s, sent + 1); }
        }
      });
      t.after(() => trickle.stop());
      await until(() => ticks >= TICKS_BEFORE_GET, 10_000, 'the tricklers to have sent a few rounds');

      const started = Date.now();
      const get = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3 * GET_BOUND_MS) }).then(
        async (response) => ({ status: response.status, text: await response.text() }),
        (error: Error) => ({ status: 0, text: error.name }),
      );
      const elapsed = Date.now() - started;
      t.diagnostic(`GET answered in ${elapsed} ms while ${CHUNKED + CONTINUE} clients trickled`);
      assert.deepEqual(get, { status: 200, text: 'ok' }, `the GET sent while ${CHUNKED + CONTINUE} clients trickle bodies is answered`);
      assert.ok(elapsed < GET_BOUND_MS, `the GET took ${elapsed} ms (bound ${GET_BOUND_MS} ms)`);
      assert.ok(chunked.every((s) => !s.closed) && continuing.every((s) => !s.closed), 'the tricklers are still open');

      trickle.stop();
      for (const s of chunked) s.write('0\r\n\r\n');
      for (const s of continuing) s.write('c'.repeat(CONTINUE_LENGTH - continueSent.get(s)!));
      const all = [...chunked, ...continuing];
      await until(() => all.every((s) => finalResponse(s) !== null || s.closed), 15_000, 'every trickler\'s response');
      for (const s of chunked) assert.deepEqual(finalResponse(s), { status: 200, body: String(chunkedSent.get(s)) }, 'a chunked body arrives complete');
      for (const s of continuing) {
        assert.equal(s.statuses[0], 100, 'a 100-continue client gets its 100 Continue');
        assert.deepEqual(finalResponse(s), { status: 200, body: String(CONTINUE_LENGTH) }, 'a 100-continue body arrives complete');
      }
    });
  });
}

for (const name of ['threaded', 'hybrid'] as EngineName[]) {
  describe(`--read-ahead-budget 0: ${name}`, { timeout: 60_000 }, () => {
    const { server: running, fleet } = hostileServer(name, { ...SETTINGS, readAheadBudget: 0 });

    test('a chunked body streams to the app as it arrives: its first chunk is echoed before the body ends', { timeout: 20_000 }, async () => {
      const server = running();
      assert.ok(server !== null, 'the engine started');
      const [client] = await openMany(server.port, 1);
      fleet.push(client!);
      client!.write('POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nalpha\r\n');
      await until(() => client!.received.includes('alpha'), 10_000, 'the echo of the first chunk');
      client!.write('4\r\nbeta\r\n0\r\n\r\n');
      await until(() => client!.received.endsWith('0\r\n\r\n'), 10_000, 'the end of the echo');
      assert.equal(client!.status, 200);
    });
  });
}
