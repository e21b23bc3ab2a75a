/*
 * Whole bodies crossing the thread boundary byte for byte: a read-ahead request body and an
 * in-memory response body cross as latin1 strings up to SMALL_BYTES and as bytes past it
 * (messages.ts). Every byte value must come back as sent, on both sides of the limit, from
 * Content-Length and from chunked bodies in several chunks; a string body stays the app's
 * UTF-8 text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SMALL_BYTES } from '../src/messages.js';
import { startEngine } from './kit/index.js';

/** `length` bytes cycling through all 256 values (0x80-0xFF are what a text encoding would change). */
const everyByte = (length: number, start = 0): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i + start) % 256));

test('bodies of every size around the string limit echo back byte for byte (Content-Length, Uint8Array response)', { timeout: 20_000 }, async (t) => {
  const { url } = await startEngine(t, { threads: 2 });
  for (const length of [1, 255, 256, SMALL_BYTES - 1, SMALL_BYTES, SMALL_BYTES + 1, 100_000]) {
    const payload = everyByte(length, length);
    const response = await fetch(`${url}/echo-bytes`, { method: 'POST', body: payload });
    assert.equal(response.status, 200, `${length} bytes`);
    assert.equal(response.headers.get('content-length'), String(length), `${length} bytes: a whole response, its length known`);
    const echoed = Buffer.from(await response.arrayBuffer());
    assert.ok(echoed.equals(payload), `${length} bytes echoed intact`);
  }
});

test('a chunked request body in several chunks is read ahead, joined and echoed intact', { timeout: 10_000 }, async (t) => {
  const { url } = await startEngine(t, { threads: 1 });
  const { port } = new URL(url);
  const parts = [everyByte(100, 0), everyByte(1, 200), everyByte(300, 128)];
  const chunked = Buffer.concat([...parts.flatMap((part) => [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (data) => received.push(data));
    socket.on('end', () => resolve(Buffer.concat(received)));
    socket.on('error', reject);
    socket.write(Buffer.concat([Buffer.from('POST /echo-bytes HTTP/1.1\r\nhost: a\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n'), chunked]));
  });
  const split = raw.indexOf('\r\n\r\n');
  assert.match(raw.subarray(0, split).toString('latin1'), /^HTTP\/1\.1 200 /);
  assert.ok(raw.subarray(split + 4).equals(Buffer.concat(parts)), 'the three chunks, joined, byte for byte');
});

test('a string response body is still the app\'s UTF-8 text', { timeout: 10_000 }, async (t) => {
  const { url } = await startEngine(t, { threads: 1 });
  const response = await fetch(`${url}/echo-text`, { method: 'POST', body: 'é € 漢字 🙂' });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'é € 漢字 🙂');
});
