/*
 * Bodies stream across the thread boundary with flow control, so 1 GiB in either direction
 * does not become 1 GiB of server memory. The server runs in a child process so the RSS
 * sampled is the server's own (main thread and app threads together).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fixture } from './kit/index.js';

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
/** Growth over the idle server's RSS that counts as bounded (a buffered GiB would be far past it). */
const RSS_GROWTH_BOUND = 300 * MIB;

interface Server { url: string; rss(): Promise<number>; child: ChildProcess }

async function startChild(t: TestContext): Promise<Server> {
  const child = fork(fixture('serve-child.mjs'), [JSON.stringify({ threads: 2 }), fixture('app.mjs')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const [ready] = await once(child, 'message') as [{ t: string; url: string }];
  assert.equal(ready.t, 'ready');
  const rss = () => new Promise<number>((resolve) => {
    const onMessage = (message: { t: string; rss: number }) => { if (message.t === 'rss') { child.off('message', onMessage); resolve(message.rss); } };
    child.on('message', onMessage);
    child.send({ t: 'rss' });
  });
  return { url: ready.url, rss, child };
}

/** Samples the server's RSS every 50 ms while `work` runs; returns the peak. */
async function peakRss(server: Server, work: Promise<unknown>): Promise<number> {
  let peak = 0;
  let done = false;
  void work.finally(() => { done = true; });
  while (!done) {
    peak = Math.max(peak, await server.rss());
    await Promise.race([work.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 50))]);
  }
  return Math.max(peak, await server.rss());
}

async function warmUp(server: Server): Promise<number> {
  // One small request each way first, so code paths are loaded before the baseline.
  for (let i = 0; i < 3; i++) {
    await (await fetch(`${server.url}/download?bytes=1048576`)).arrayBuffer();
    await (await fetch(`${server.url}/upload`, { method: 'POST', body: new Uint8Array(MIB) })).text();
  }
  return server.rss();
}

function upload(url: string, total: number): Promise<{ bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(256 * 1024, 97);
    const request = http.request(`${url}/upload`, { method: 'POST', headers: { 'content-length': String(total) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => { text += piece; });
      response.on('end', () => { try { resolve(JSON.parse(text) as { bytes: number }); } catch (error) { reject(error); } });
    });
    request.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < total) {
        const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
        sent += piece.length;
        if (!request.write(piece)) { request.once('drain', write); return; }
      }
      request.end();
    };
    write();
  });
}

function download(url: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`${url}/download?bytes=${total}`, (response) => {
      let bytes = 0;
      response.on('data', (piece: Buffer) => { bytes += piece.length; });
      response.on('end', () => resolve(bytes));
      response.on('error', reject);
    }).on('error', reject);
  });
}

test('a 1 GiB streamed upload to an app that discards it keeps the server RSS bounded', { timeout: 90_000 }, async (t) => {
  const server = await startChild(t);
  const baseline = await warmUp(server);
  const work = upload(server.url, GIB);
  const peak = await peakRss(server, work);
  const result = await work;
  assert.equal(result.bytes, GIB, 'the app received every byte');
  const growth = peak - baseline;
  t.diagnostic(`upload: baseline ${Math.round(baseline / MIB)} MiB, peak ${Math.round(peak / MIB)} MiB, growth ${Math.round(growth / MIB)} MiB`);
  assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew ${Math.round(growth / MIB)} MiB during a 1 GiB upload`);
});

test('a 1 GiB streamed download to a client that reads it keeps the server RSS bounded', { timeout: 90_000 }, async (t) => {
  const server = await startChild(t);
  const baseline = await warmUp(server);
  const work = download(server.url, GIB);
  const peak = await peakRss(server, work);
  assert.equal(await work, GIB, 'the client received every byte');
  const growth = peak - baseline;
  t.diagnostic(`download: baseline ${Math.round(baseline / MIB)} MiB, peak ${Math.round(peak / MIB)} MiB, growth ${Math.round(growth / MIB)} MiB`);
  assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew ${Math.round(growth / MIB)} MiB during a 1 GiB download`);
});

test('a client that stops reading a 1 GiB download does not make the server buffer it', { timeout: 60_000 }, async (t) => {
  const server = await startChild(t);
  const baseline = await warmUp(server);
  const received = await new Promise<number>((resolve, reject) => {
    http.get(`${server.url}/download?bytes=${GIB}`, async (response) => {
      response.pause();
      // While the client reads nothing, the app thread must stop producing after a window.
      let peak = 0;
      for (let i = 0; i < 20; i++) {
        peak = Math.max(peak, await server.rss());
        await new Promise((r) => setTimeout(r, 50));
      }
      const growth = peak - baseline;
      t.diagnostic(`paused download: growth ${Math.round(growth / MIB)} MiB`);
      try { assert.ok(growth < 100 * MIB, `RSS grew ${Math.round(growth / MIB)} MiB while the client read nothing`); } catch (error) { reject(error); return; }
      // Then read a little and hang up: the server lets the rest go.
      let bytes = 0;
      response.on('data', (piece: Buffer) => { bytes += piece.length; if (bytes > 8 * MIB) { response.destroy(); resolve(bytes); } });
      response.resume();
    }).on('error', () => {});
  });
  assert.ok(received > 8 * MIB);
});
