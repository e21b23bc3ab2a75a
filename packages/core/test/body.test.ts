/*
 * RequestBody: read once (bytes, text, json or iteration), pulled lazily from a BodySource,
 * and the source is told when the reader stops early.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBody, bufferedBodySource, GatehouseError, type BodySource } from '../src/index.js';

/** A source that hands out the given chunks and records what the reader did. */
function recordingSource(chunks: Array<Uint8Array | string | Error>, length: number | null = null) {
  const log = { pulls: 0, cancelled: false };
  const queue = chunks.map((c) => (typeof c === 'string' ? new TextEncoder().encode(c) : c));
  const source: BodySource = {
    length,
    async pull() {
      log.pulls++;
      const next = queue.shift();
      if (next === undefined) return null;
      if (next instanceof Error) throw next;
      return next;
    },
    cancel() { log.cancelled = true; },
  };
  return { source, log };
}

const READS = {
  bytes: (body: RequestBody) => body.bytes(),
  text: (body: RequestBody) => body.text(),
  json: (body: RequestBody) => body.json(),
  iteration: async (body: RequestBody) => { for await (const _ of body) { /* read */ } },
} as const;

describe('RequestBody', { timeout: 5_000 }, () => {
  it('reads all chunks as one Uint8Array', async () => {
    const { source } = recordingSource(['hel', 'lo', ' world']);
    assert.equal(Buffer.from(await new RequestBody(source).bytes()).toString(), 'hello world');
  });

  it('decodes text as UTF-8, even when a character is split across chunks', async () => {
    const euro = new TextEncoder().encode('€');
    const { source } = recordingSource([euro.subarray(0, 1), euro.subarray(1)]);
    assert.equal(await new RequestBody(source).text(), '€');
  });

  it('replaces invalid UTF-8 with U+FFFD in text()', async () => {
    const { source } = recordingSource([new Uint8Array([0x61, 0xff, 0x62])]);
    assert.equal(await new RequestBody(source).text(), 'a\ufffdb');
  });

  it('parses JSON', async () => {
    const { source } = recordingSource(['{"a":[1,', '2]}']);
    assert.deepEqual(await new RequestBody(source).json(), { a: [1, 2] });
  });

  it('answers invalid JSON with ERR_HTTP_INVALID_JSON (400)', async () => {
    const { source } = recordingSource(['{"a":']);
    await assert.rejects(new RequestBody(source).json(), (error: unknown) => {
      assert.ok(error instanceof GatehouseError);
      assert.equal(error.code, 'ERR_HTTP_INVALID_JSON');
      assert.equal(error.status, 400);
      return true;
    });
  });

  it('iterates chunk by chunk, skipping empty chunks', async () => {
    const { source } = recordingSource(['a', new Uint8Array(0), 'b']);
    const seen: string[] = [];
    for await (const chunk of new RequestBody(source)) seen.push(Buffer.from(chunk).toString());
    assert.deepEqual(seen, ['a', 'b']);
  });

  for (const [first, firstRead] of Object.entries(READS)) {
    for (const [second, secondRead] of Object.entries(READS)) {
      it(`a second read (${first} then ${second}) rejects with ERR_HTTP_BODY_CONSUMED`, async () => {
        const body = new RequestBody(recordingSource(['{"x":1}']).source);
        await firstRead(body);
        assert.equal(body.used, true);
        await assert.rejects(secondRead(body) as Promise<unknown>, { code: 'ERR_HTTP_BODY_CONSUMED' });
      });
    }
  }

  it('does not pull before the app reads (no read, no 100 Continue, no buffering)', async () => {
    const { source, log } = recordingSource(['abc']);
    const body = new RequestBody(source);
    assert.equal(body.used, false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(log.pulls, 0);
  });

  it('pulls one chunk per step of iteration (the app sets the pace)', async () => {
    const { source, log } = recordingSource(['a', 'b', 'c']);
    const iterator = new RequestBody(source)[Symbol.asyncIterator]();
    await iterator.next();
    assert.equal(log.pulls, 1);
    await iterator.next();
    assert.equal(log.pulls, 2);
  });

  it('cancels the source when the reader breaks out early', async () => {
    const { source, log } = recordingSource(['a', 'b', 'c']);
    for await (const _chunk of new RequestBody(source)) break;
    assert.equal(log.cancelled, true);
  });

  it('does not cancel the source after reading to the end', async () => {
    const { source, log } = recordingSource(['a']);
    for await (const _chunk of new RequestBody(source)) { /* all */ }
    assert.equal(log.cancelled, false);
  });

  it('passes a source error (client gone, too large) to the reader', async () => {
    const gone = new GatehouseError('ERR_HTTP_CLIENT_GONE');
    await assert.rejects(new RequestBody(recordingSource(['a', gone]).source).bytes(), (error) => error === gone);
    await assert.rejects(READS.iteration(new RequestBody(recordingSource(['a', gone]).source)), (error) => error === gone);
  });

  it('reports length: Content-Length, null when chunked, 0 with no body', () => {
    assert.equal(new RequestBody(recordingSource([], 42).source).length, 42);
    assert.equal(new RequestBody(recordingSource([], null).source).length, null);
    assert.equal(new RequestBody(null).length, 0);
  });

  it('reads an absent body as empty, and still only once', async () => {
    const body = new RequestBody(null);
    assert.equal((await body.bytes()).byteLength, 0);
    await assert.rejects(body.text(), { code: 'ERR_HTTP_BODY_CONSUMED' });
    assert.equal(await new RequestBody(null).text(), '');
  });

  it('discard() drains what the app left unread, and is a no-op after a read', async () => {
    const { source, log } = recordingSource(['a', 'b']);
    const body = new RequestBody(source);
    await body.discard();
    assert.equal(log.pulls, 3);
    await body.discard();
    assert.equal(log.pulls, 3);
  });

  it('bufferedBodySource serves bytes or a string once, with its length', async () => {
    const source = bufferedBodySource('héllo');
    assert.equal(source.length, 6);
    assert.equal(await new RequestBody(source).text(), 'héllo');
    assert.equal(await source.pull(), null);
  });
});
