// HTTP/2 details the engine suite does not cover: --http2 modes, deadlines, diagnostics,
// stats and limits, failures after the head, and curl as an independent client.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import { channels, type RequestEndMessage } from '../src/diagnostics.js';
import { collect, exchange, startServer, until, h2Request, type TestServer } from './kit/index.js';
import type { Application } from '../src/gateway/types.js';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

const app: Application = async (request) => {
  switch (request.path) {
    case '/slow': await new Promise((resolve) => setTimeout(resolve, 3000)); return { status: 200, body: 'late' };
    case '/broken': return { status: 200, body: (async function* () { yield Buffer.from('first'); throw new Error('mid-body'); })() };
    case '/hold': await new Promise((resolve) => setTimeout(resolve, 300)); return { status: 200, body: 'held' };
    default: return { status: 200, headers: { 'content-type': 'text/plain' }, body: `hello ${request.httpVersion}` };
  }
};

function connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

describe('HTTP/2 (single process)', () => {
  const servers: TestServer[] = [];
  const sessions: http2.ClientHttp2Session[] = [];
  const start = async (settings = {}) => { const server = await startServer({ app, settings }); servers.push(server); return server; };
  const open = async (server: TestServer) => { const session = await connect(server.port); sessions.push(session); return session; };
  after(async () => {
    for (const session of sessions) session.destroy();
    for (const server of servers) await server.close();
  });

  it('--http2 off and tls: the preface on a plain listener gets 505, as any unknown version', async () => {
    for (const mode of ['off', 'tls'] as const) {
      const server = await start({ http2: mode });
      const { responses, client } = await exchange(server.port, PREFACE);
      client.destroy();
      assert.equal(responses[0]?.status, 505, `--http2 ${mode}`);
    }
  });

  it('--http2 on: the preface is answered with HTTP/2 SETTINGS, not an HTTP/1.1 status', async () => {
    const server = await start();
    const session = await open(server);
    const reply = await h2Request(session, { ':path': '/' });
    assert.equal(reply.body.toString(), 'hello 2.0');
  });

  it('counts a session as one connection and its streams as requests; requestEnd says HTTP/2.0', async () => {
    const server = await start();
    const ends = collect<RequestEndMessage>(channels.requestEnd);
    try {
      const session = await open(server);
      const replies = Promise.all([h2Request(session, { ':path': '/hold' }), h2Request(session, { ':path': '/hold' })]);
      await until(() => server.stats()!.inFlight === 2, 5000, 'two streams in flight');
      assert.equal(server.stats()!.connections, 1);
      await replies;
      const end = await ends.next();
      assert.equal(end.request.httpVersion, '2.0');
      assert.equal(end.status, 200);
      assert.equal(end.bytes, 4);
      await until(() => server.stats()!.inFlight === 0, 5000, 'no stream in flight');
      assert.equal(server.stats()!.requests, 2);
    } finally {
      ends.stop();
    }
  });

  it('--request-timeout: 504 on the stream, the session serves on', async () => {
    const server = await start({ requestTimeout: 0.3 });
    const session = await open(server);
    const reply = await h2Request(session, { ':path': '/slow' });
    assert.equal(reply.status, 504);
    assert.equal((await h2Request(session, { ':path': '/' })).status, 200);
  });

  it('a body that fails after the head resets that stream with INTERNAL_ERROR', async () => {
    const server = await start();
    const session = await open(server);
    await assert.rejects(h2Request(session, { ':path': '/broken' }), (error: NodeJS.ErrnoException) => /NGHTTP2_INTERNAL_ERROR/.test(error.message));
    assert.equal((await h2Request(session, { ':path': '/' })).status, 200);
  });

  it('--limit-concurrency counts an HTTP/2 connection as one connection', async () => {
    const server = await start({ limitConcurrency: 1 });
    const session = await open(server);
    assert.equal((await h2Request(session, { ':path': '/' })).status, 200);
    const { responses, client } = await exchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    client.destroy();
    assert.equal(responses[0]?.status, 503);
  });

  it('answers --health-path on h2 itself, as on HTTP/1.1', async () => {
    let calls = 0;
    const server = await startServer({ app: () => { calls++; return { status: 200, body: 'app' }; }, settings: { healthPath: '/healthz' } });
    servers.push(server);
    const session = await open(server);
    const reply = await h2Request(session, { ':path': '/healthz' });
    assert.equal(reply.status, 200);
    assert.equal(calls, 0, 'the app never saw the health request');
  });

  it('curl --http2-prior-knowledge gets an HTTP/2 answer', async (t) => {
    try { execFileSync('curl', ['--version'], { stdio: 'ignore' }); } catch { t.skip('curl is not installed'); return; }
    const features = execFileSync('curl', ['--version'], { encoding: 'utf8' });
    if (!/HTTP2/.test(features)) { t.skip('this curl has no HTTP/2 support'); return; }
    const server = await start();
    const output = await new Promise<string>((resolve, reject) => {
      execFile('curl', ['-s', '-i', '--http2-prior-knowledge', '--max-time', '10', `http://127.0.0.1:${server.port}/`], (error, stdout) => error ? reject(error) : resolve(stdout));
    });
    assert.match(output, /^HTTP\/2 200/);
    assert.match(output, /hello 2\.0$/);
  });
});
