/*
 * The main thread's read-ahead (read-ahead.ts), driven in memory: a ThreadPoolDispatcher over a
 * stand-in pool that records what it is asked to run, and requests whose bodies the test feeds
 * by hand. What it checks: every framing is read before dispatch (Content-Length, chunked,
 * 100-continue), and --read-ahead-budget bounds the bytes held across requests: past it, a
 * request already reading is dispatched with what it has, and a new one is dispatched without
 * reading at all; the budget comes back as the bytes leave for a thread.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayRequest, manualSource } from '@gatehouse/core/testkit';
import type { GatewayRequest } from '@gatehouse/core';
import { ThreadPoolDispatcher } from '../src/dispatcher.js';
import type { Exchange } from '../src/exchange.js';
import { PULL, REQUEST, RequestField, TAG, ID, type RequestMessage, type ToThread } from '../src/messages.js';
import type { ThreadPool } from '../src/pool.js';

/** A pool with one thread and room for everything: it records each exchange it runs and the messages posted to it. */
function fakePool() {
  const started: Exchange[] = [];
  const posted: ToThread[] = [];
  const host = { post: (message: ToThread) => { posted.push(message); }, release: () => {}, openTunnel: () => { throw new Error('no upgrade here'); } };
  const pool = {
    onCapacity: () => {},
    pick: () => host,
    forEachExchange: () => {},
    run: (_thread: unknown, exchange: Exchange) => { started.push(exchange); exchange.start(host); },
  };
  /** The body the REQUEST message carried whole, or null when it streams. */
  const inlineOf = (request: GatewayRequest): string | null => {
    const message = posted.find((m) => m[TAG] === REQUEST && started.find((e) => e.id === m[ID])?.request === request) as RequestMessage | undefined;
    assert.ok(message, `${request.target} was sent to a thread`);
    const inline = message[RequestField.inline];
    return inline === null ? null : Buffer.from(inline).toString();
  };
  return { pool: pool as unknown as ThreadPool, started, posted, inlineOf };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function dispatcher(pool: ThreadPool, readAheadBudget: number): ThreadPoolDispatcher {
  return new ThreadPoolDispatcher(pool, { maxQueue: 100, requestTimeoutMs: 0, readAheadBudget });
}

describe('read-ahead before dispatch', () => {
  it('reads Content-Length, chunked and 100-continue bodies before the request goes to a thread', async () => {
    const { pool, started, inlineOf } = fakePool();
    const d = dispatcher(pool, 1024 * 1024);
    const cases = [
      { target: '/length', length: 5, headers: [['host', 'a']] as Array<[string, string]> },
      { target: '/chunked', length: null, headers: [['host', 'a'], ['transfer-encoding', 'chunked']] as Array<[string, string]> },
      { target: '/continue', length: 5, headers: [['host', 'a'], ['expect', '100-continue']] as Array<[string, string]> },
    ];
    for (const [index, { target, length, headers }] of cases.entries()) {
      const body = manualSource(length);
      const request = gatewayRequest({ method: 'POST', target, headers, body: body.source });
      void d.dispatch(request);
      await settle();
      assert.ok(body.log.pulls > 0, `${target}: the body is read on the main thread`);
      body.push('ab');
      await settle();
      assert.equal(started.length, index, `${target}: not on a thread while its body is incomplete`);
      body.push('cde');
      body.end();
      await settle();
      assert.equal(inlineOf(request), 'abcde', `${target}: the whole body crosses with the request`);
    }
    assert.equal(d.readAheadAvailable, 1024 * 1024, 'nothing held once the bodies left');
  });

  it('--read-ahead-budget bounds the bytes held across requests; past it bodies stream', async () => {
    const { pool, started, posted, inlineOf } = fakePool();
    const d = dispatcher(pool, 100);
    const make = (target: string) => {
      const body = manualSource(null);
      const request = gatewayRequest({ method: 'POST', target, headers: [['host', 'a'], ['transfer-encoding', 'chunked']], body: body.source });
      void d.dispatch(request);
      return { body, request };
    };

    const a = make('/a');
    await settle();
    a.body.push('x'.repeat(60));
    await settle();
    assert.equal(started.length, 0, 'a: reading ahead');
    assert.equal(d.readAheadAvailable, 40);

    const b = make('/b');
    await settle();
    b.body.push('y'.repeat(60));
    await settle();
    assert.deepEqual(started.map((e) => e.request.target), ['/b'], 'b: the budget is spent, so b goes to a thread with what it has');
    assert.equal(inlineOf(b.request), null, 'b streams');
    assert.equal(d.readAheadAvailable, -20, 'over by no more than the read b already held');

    const c = make('/c');
    await settle();
    assert.deepEqual(started.map((e) => e.request.target), ['/b', '/c'], 'c: dispatched at once');
    assert.equal(c.body.log.pulls, 0, 'c: nothing read while the budget is spent');

    a.body.end();
    await settle();
    assert.equal(inlineOf(a.request), 'x'.repeat(60));
    assert.equal(d.readAheadAvailable, 40, 'a\'s bytes came back when they left; b\'s first bytes are still held');

    // b's thread asks for its body: the bytes read ahead go first, and the budget is whole again.
    const bExchange = started.find((e) => e.request === b.request)!;
    bExchange.onMessage([PULL, bExchange.id, 1024]);
    await settle();
    assert.equal(d.readAheadAvailable, 100);
    assert.ok(posted.some((m) => m[TAG] !== REQUEST && m[ID] === bExchange.id), 'b\'s first bytes were sent to its thread');
  });

  it('--read-ahead-budget 0: nothing is read before dispatch', async () => {
    const { pool, started } = fakePool();
    const d = dispatcher(pool, 0);
    const body = manualSource(5);
    void d.dispatch(gatewayRequest({ method: 'POST', target: '/x', headers: [['host', 'a']], body: body.source }));
    await settle();
    assert.equal(started.length, 1);
    assert.equal(body.log.pulls, 0);
  });
});
