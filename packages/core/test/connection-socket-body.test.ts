/*
 * SocketBody, the request body over a connection, without a socket: what it tells its host
 * (first pull, waiting, drained, cancelled) and how it buffers. These signals are what
 * 100-continue, the body-read timeout and request-side backpressure hang on.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SocketBody, type BodyHost } from '../src/http/socket-body.js';

function host() {
  const events: string[] = [];
  const h: BodyHost = {
    bodyFirstPull: () => events.push('first-pull'),
    bodyWaiting: (waiting) => events.push(waiting ? 'waiting' : 'not-waiting'),
    bodyDrained: () => events.push('drained'),
    bodyCancelled: () => events.push('cancelled'),
  };
  return { h, events };
}

describe('SocketBody', { timeout: 5_000 }, () => {
  it('reports the first pull once (the moment to send 100 Continue)', async () => {
    const { h, events } = host();
    const body = new SocketBody(h, 3, 1024);
    body.push(Buffer.from('abc'));
    body.end();
    assert.deepEqual(events, []);
    assert.equal(Buffer.from((await body.pull())!).toString(), 'abc');
    assert.equal(await body.pull(), null);
    assert.deepEqual(events, ['first-pull']);
  });

  it('copies pushed bytes (the parser may reuse its input)', async () => {
    const { h } = host();
    const body = new SocketBody(h, null, 1024);
    const input = Buffer.from('xyz');
    body.push(input);
    input.fill(0);
    assert.equal(Buffer.from((await body.pull())!).toString(), 'xyz');
  });

  it('push() returns false past the high-water mark, and a pull back under it reports drained', async () => {
    const { h, events } = host();
    const body = new SocketBody(h, null, 10);
    assert.equal(body.push(Buffer.alloc(6)), true);
    assert.equal(body.push(Buffer.alloc(6)), false, 'over the mark: stop reading');
    assert.equal(body.buffered, 12);
    await body.pull();
    assert.equal(body.buffered, 6);
    assert.ok(events.includes('drained'));
  });

  it('a pull with nothing buffered waits, and is resolved by the next push', async () => {
    const { h, events } = host();
    const body = new SocketBody(h, null, 1024);
    const pending = body.pull();
    assert.equal(body.waiting, true);
    body.push(Buffer.from('late'));
    assert.equal(Buffer.from((await pending)!).toString(), 'late');
    assert.deepEqual(events, ['first-pull', 'waiting', 'not-waiting']);
  });

  it('fail() rejects the waiting pull and every later one', async () => {
    const { h } = host();
    const body = new SocketBody(h, 10, 1024);
    const pending = body.pull();
    const error = new Error('client gone');
    body.fail(error);
    await assert.rejects(pending, error);
    await assert.rejects(body.pull(), error);
  });

  it('cancel() drops what is buffered, ends a waiting pull, and tells the host', async () => {
    const { h, events } = host();
    const body = new SocketBody(h, null, 1024);
    body.push(Buffer.from('unread'));
    body.cancel();
    assert.equal(body.buffered, 0);
    assert.equal(await body.pull(), null);
    assert.ok(events.includes('cancelled'));
    assert.equal(body.push(Buffer.from('more')), true, 'later bytes are not buffered and never pause reading');
    assert.equal(body.buffered, 0);
  });
});
