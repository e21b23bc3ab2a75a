/*
 * HTTP/2 under any engine, with Node's http2 client: h2c with prior knowledge on the plain
 * port, h2 by ALPN on a TLS port (and HTTP/1.1 by ALPN on that same port), GOAWAY on a drain,
 * and no lost stream across a reload. One plain server and one TLS server per engine:
 *
 *   import { runHttp2Suite, engineStarter } from '@gatehouse/core/testkit';
 *   runHttp2Suite('prefork', engineStarter(PreforkEngine, { workers: 2 }));
 *
 * The app records what it did in state files (the app may run in another process or thread).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Settings } from '../../src/settings/table.js';
import type { ParityServer, ParityStarter } from './parity.js';
import { makeCertificate, writeCertificate } from './certs.js';
import { until } from './wait.js';

const APP = `import fs from 'node:fs';
const STATE = new URL('./state/', import.meta.url);
const exists = (name) => fs.existsSync(new URL(name, STATE));
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const text = (status, body, extra = []) => ({ status, headers: [['content-type', 'text/plain'], ...extra], body });

export default async function app(request) {
  const id = new URLSearchParams(request.query).get('id') ?? '';
  switch (request.path) {
    case '/echo': {
      const body = Buffer.from(await request.body.bytes());
      return { status: 200, headers: [['content-type', 'application/json'], ['connection', 'keep-alive'], ['transfer-encoding', 'chunked'], ['x-multi', 'a'], ['x-multi', 'b']], body: JSON.stringify({
        method: request.method, target: request.target, path: request.path, query: request.query, httpVersion: request.httpVersion,
        scheme: request.scheme, headers: [...request.headers], upgrade: request.upgrade ?? null, remote: request.remote.address,
        bodyLength: body.length, bodySum: body.reduce((a, b) => (a + b) % 65521, 0),
      }) };
    }
    case '/stream': return { status: 200, headers: [['content-type', 'text/plain']], body: (async function* () {
      for (let i = 0; i < 5; i++) { yield Buffer.from('part' + i + ';'); await tick(); }
    })() };
    case '/large': {
      // 32 MiB in 64 KiB chunks; how much was handed to the server goes to a state file.
      const chunk = Buffer.alloc(65536, 120);
      return { status: 200, headers: [['content-length', String(512 * 65536)]], body: (async function* () {
        for (let i = 0; i < 512; i++) { fs.writeFileSync(new URL('yielded-' + id, STATE), String((i + 1) * 65536)); yield chunk; }
      })() };
    }
    case '/status': return { status: Number(new URLSearchParams(request.query).get('code')), headers: [['etag', '"x"']], body: 'should not be sent' };
    case '/trailers': return { status: 200, headers: [['content-type', 'text/plain']], body: 'with trailers', trailers: async () => [['x-checksum', 'abc123'], ['set-cookie', 'late=1']] };
    case '/hints':
      request.sendInterim?.(103, [['link', '</style.css>; rel=preload; as=style']]);
      return text(200, 'hinted');
    case '/throw': throw new Error('app failure');
    case '/hold':
      fs.writeFileSync(new URL('holding-' + id, STATE), '');
      while (!exists('release-' + id) && !request.signal.aborted) await tick();
      return text(200, 'held ' + id);
    case '/hold-body': {
      // Reads nothing until released, then the whole body.
      fs.writeFileSync(new URL('holding-' + id, STATE), '');
      while (!exists('release-' + id) && !request.signal.aborted) await tick();
      return text(200, String((await request.body.bytes()).length));
    }
    case '/hello': return text(200, 'hello');
    default: return text(404, 'not found');
  }
}
`;

export interface Http2SuiteOptions {
  readonly settings?: Partial<Settings>;
  readonly timeoutMs?: number;
}

interface Reply {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: http2.IncomingHttpHeaders | null;
  readonly interim: http2.IncomingHttpHeaders[];
}

/** One request on a session; resolves with the whole reply. */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    const interim: http2.IncomingHttpHeaders[] = [];
    let response: http2.IncomingHttpHeaders | null = null;
    let trailers: http2.IncomingHttpHeaders | null = null;
    stream.on('headers', (h) => interim.push(h));
    stream.on('response', (h) => { response = h; });
    stream.on('trailers', (h) => { trailers = h; });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(response?.[':status'] ?? 0), headers: response ?? {}, body: Buffer.concat(chunks), trailers, interim }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

function connect(url: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, options);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export function runHttp2Suite(name: string, startServer: ParityStarter, options: Http2SuiteOptions = {}): void {
  const base: Partial<Settings> = { gracefulTimeout: 10, keepAlive: 10, timeout: 30, logLevel: 'fatal', ...options.settings };

  describe(`HTTP/2: ${name}`, { timeout: options.timeoutMs ?? 120_000 }, () => {
    let dir = '';
    let state = '';
    let plain: ParityServer | null = null;
    let secure: ParityServer | null = null;
    const sessions: http2.ClientHttp2Session[] = [];
    const h2c = async () => { const s = await connect(`http://127.0.0.1:${plain!.port}`); sessions.push(s); return s; };
    const h2 = async () => {
      const s = await connect(`https://127.0.0.1:${secure!.port}`, { rejectUnauthorized: false, ALPNProtocols: ['h2'] });
      sessions.push(s);
      return s;
    };

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-h2-${name.replace(/[^\w-]/g, '_')}-`));
      state = path.join(dir, 'state');
      fs.mkdirSync(state);
      fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
      const files = writeCertificate(makeCertificate({ altNames: ['localhost', '127.0.0.1'] }), dir);
      plain = await startServer(path.join(dir, 'app.mjs'), base);
      secure = await startServer(path.join(dir, 'app.mjs'), { ...base, certfile: files.certfile, keyfile: files.keyfile });
    });

    after(async () => {
      for (const session of sessions) session.destroy();
      await Promise.all([plain?.stop({ graceful: false }).catch(() => {}), secure?.stop({ graceful: false }).catch(() => {})]);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('h2c with prior knowledge: pseudo-headers map to the request, httpVersion is 2.0, cookie crumbs join, host comes from :authority', async () => {
      const session = await h2c();
      const reply = await h2Request(session, { ':method': 'POST', ':path': '/echo?x=1', ':authority': 'h2.test:8080', cookie: ['a=1', 'b=2'], 'x-one': 'first' }, Buffer.from('hello body'));
      assert.equal(reply.status, 200);
      const echo = JSON.parse(reply.body.toString());
      assert.equal(echo.httpVersion, '2.0');
      assert.equal(echo.method, 'POST');
      assert.equal(echo.target, '/echo?x=1');
      assert.equal(echo.path, '/echo');
      assert.equal(echo.query, 'x=1');
      assert.equal(echo.scheme, 'http');
      assert.equal(echo.upgrade, null);
      assert.equal(echo.bodyLength, 10);
      const headers = new Map<string, string>(echo.headers);
      assert.equal(headers.get('host'), 'h2.test:8080');
      assert.equal(echo.headers[0][0], 'host', 'host comes first');
      assert.equal(headers.get('cookie'), 'a=1; b=2');
      assert.equal(headers.get('x-one'), 'first');
      assert.ok(!echo.headers.some(([n]: [string]) => n.startsWith(':')), 'no pseudo-headers among the fields');
      // Connection-specific fields the app set are dropped; repeated ones kept.
      assert.equal(reply.headers.connection, undefined);
      assert.equal(reply.headers['transfer-encoding'], undefined);
      assert.deepEqual(reply.headers['x-multi'], 'a, b');
      assert.ok(reply.headers.date, 'date is added');
      assert.equal(reply.headers.server, 'gatehouse');
    });

    it('a large request body arrives whole (flow control across many windows)', async () => {
      const session = await h2c();
      const body = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < body.length; i++) body[i] = i % 251;
      const reply = await h2Request(session, { ':method': 'PUT', ':path': '/echo' }, body);
      const echo = JSON.parse(reply.body.toString());
      assert.equal(echo.bodyLength, body.length);
      assert.equal(echo.bodySum, body.reduce((a, b) => (a + b) % 65521, 0));
    });

    it('streams a response body, answers HEAD with the length and no body, 204 and 304 with no body', async () => {
      const session = await h2c();
      const streamed = await h2Request(session, { ':path': '/stream' });
      assert.equal(streamed.body.toString(), 'part0;part1;part2;part3;part4;');
      const head = await h2Request(session, { ':method': 'HEAD', ':path': '/hello' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '5');
      assert.equal(head.body.length, 0);
      for (const code of [204, 304]) {
        const reply = await h2Request(session, { ':path': `/status?code=${code}` });
        assert.equal(reply.status, code);
        assert.equal(reply.body.length, 0);
        if (code === 204) assert.equal(reply.headers['content-length'], undefined);
      }
    });

    it('serves 25 concurrent streams on one connection', async () => {
      const session = await h2c();
      const replies = await Promise.all(Array.from({ length: 25 }, (_, i) => h2Request(session, { ':method': 'POST', ':path': `/echo?i=${i}` }, `body ${i}`)));
      replies.forEach((reply, i) => {
        assert.equal(reply.status, 200);
        assert.equal(JSON.parse(reply.body.toString()).query, `i=${i}`);
      });
    });

    it('a slow reader of one stream neither stalls another stream nor makes the server buffer its body', async () => {
      const session = await h2c();
      const slow = session.request({ ':path': '/large?id=slow' });
      slow.pause();
      slow.on('error', () => {});
      await until(() => fs.existsSync(path.join(state, 'yielded-slow')), 10_000, 'the app to start the large body');
      const started = Date.now();
      const quick = await h2Request(session, { ':path': '/hello' });
      assert.equal(quick.body.toString(), 'hello');
      assert.ok(Date.now() - started < 5000, 'the other stream was served while the slow one waits');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const yielded = Number(fs.readFileSync(path.join(state, 'yielded-slow'), 'utf8'));
      assert.ok(yielded < 8 * 1024 * 1024, `the app was held back by the unread stream (${yielded} of ${32 * 1024 * 1024} bytes yielded)`);
      slow.close(http2.constants.NGHTTP2_CANCEL);
    });

    it('an app that does not read the body holds the client back (flow control), then gets it whole', async () => {
      const session = await h2c();
      const size = 8 * 1024 * 1024;
      const stream = session.request({ ':method': 'POST', ':path': '/hold-body?id=upload' });
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise((resolve, reject) => { stream.on('end', resolve); stream.on('error', reject); });
      stream.end(Buffer.alloc(size, 7));
      await until(() => fs.existsSync(path.join(state, 'holding-upload')), 10_000, 'the app to hold the upload');
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.ok(stream.bufferSize > size / 2, `the server took only what its windows allow (${size - stream.bufferSize} of ${size} bytes left the client)`);
      fs.writeFileSync(path.join(state, 'release-upload'), '');
      await ended;
      assert.equal(Buffer.concat(chunks).toString(), String(size));
    });

    it('an app error before the head is a 500 on that stream; the connection serves on', async () => {
      const session = await h2c();
      const failed = await h2Request(session, { ':path': '/throw' });
      assert.equal(failed.status, 500);
      const next = await h2Request(session, { ':path': '/hello' });
      assert.equal(next.status, 200);
    });

    it('sends trailers after the body and 103 Early Hints before the head', async () => {
      const session = await h2c();
      const withTrailers = await h2Request(session, { ':path': '/trailers' });
      assert.equal(withTrailers.body.toString(), 'with trailers');
      assert.equal(withTrailers.trailers?.['x-checksum'], 'abc123');
      assert.equal(withTrailers.trailers?.['set-cookie'], undefined, 'a field RFC 9110 §6.5.1 keeps out of trailers is dropped, on this loop or from an app thread');
      const hinted = await h2Request(session, { ':path': '/hints' });
      assert.equal(hinted.status, 200);
      assert.equal(hinted.interim.length, 1);
      assert.equal(hinted.interim[0]![':status'], 103);
      assert.equal(hinted.interim[0]!.link, '</style.css>; rel=preload; as=style');
    });

    it('HTTP/1.1 keeps working on the plain port', async () => {
      const response = await fetch(`http://127.0.0.1:${plain!.port}/hello`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'hello');
    });

    it('h2 over TLS by ALPN, with scheme https; HTTP/1.1 by ALPN on the same port', async () => {
      const session = await h2();
      assert.equal((session.socket as unknown as { alpnProtocol: string }).alpnProtocol, 'h2');
      const reply = await h2Request(session, { ':method': 'POST', ':path': '/echo' }, 'tls');
      const echo = JSON.parse(reply.body.toString());
      assert.equal(echo.httpVersion, '2.0');
      assert.equal(echo.scheme, 'https');
      const http1 = await new Promise<{ status: number; body: string; alpn: string }>((resolve, reject) => {
        const request = https.get({ host: '127.0.0.1', port: secure!.port, path: '/echo', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], agent: false } as https.RequestOptions, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (d: string) => { body += d; });
          response.on('end', () => resolve({ status: response.statusCode!, body, alpn: (response.socket as unknown as { alpnProtocol: string }).alpnProtocol }));
        });
        request.on('error', reject);
      });
      assert.equal(http1.status, 200);
      assert.equal(http1.alpn, 'http/1.1');
      assert.equal(JSON.parse(http1.body).httpVersion, '1.1');
    });

    it('no stream is lost across a reload under a bounded load loop (4 sessions, 5 streams at a time each; GOAWAY, then new connections)', async () => {
      const url = `http://127.0.0.1:${plain!.port}`;
      const failures: string[] = [];
      let served = 0;
      let retried = 0;
      let reloading = true;
      const deadline = Date.now() + 30_000;
      const STREAMS_AT_ONCE = 5;
      // Each loop keeps its own session and opens a fresh one when that one was sent away.
      const loop = async (): Promise<void> => {
        let session: http2.ClientHttp2Session | null = null;
        const current = async (): Promise<http2.ClientHttp2Session> => {
          if (session === null || session.closed || session.destroyed || (session as unknown as { goawayReceived?: boolean }).goawayReceived) {
            const fresh = await connect(url);
            fresh.on('goaway', () => { (fresh as unknown as { goawayReceived: boolean }).goawayReceived = true; });
            fresh.on('error', () => {});
            sessions.push(fresh);
            session = fresh;
          }
          return session;
        };
        const one = async (): Promise<void> => {
          for (let attempt = 0; ; attempt++) {
            try {
              const reply = await h2Request(await current(), { ':path': '/hello' });
              if (reply.status === 200 && reply.body.toString() === 'hello') served++;
              else failures.push(`status ${reply.status}`);
              return;
            } catch (error) {
              const code = (error as { code?: string }).code ?? '';
              // RFC 9113 §8.7: a stream refused, or never opened because of a GOAWAY, was not
              // processed and is safe to retry; anything else is a lost stream.
              const retriable = code === 'ERR_HTTP2_GOAWAY_SESSION' || /REFUSED_STREAM/.test((error as Error).message);
              if (!retriable || attempt > 5) { failures.push(`${code}: ${(error as Error).message}`); return; }
              retried++;
              session = null;
            }
          }
        };
        for (let round = 0; (reloading || round < 10) && round < 200 && Date.now() < deadline; round++) {
          await Promise.all(Array.from({ length: STREAMS_AT_ONCE }, one));
        }
      };
      const loops = Array.from({ length: 4 }, loop);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await plain!.reload();
      reloading = false;
      await Promise.all(loops);
      assert.deepEqual(failures, [], `failed streams (served ${served}, retried ${retried})`);
      assert.ok(served >= 200, `the loop ran (${served} served)`);
    });

    it('a graceful stop sends GOAWAY; a stream in flight still completes', async () => {
      const session = await h2c();
      let goaway = false;
      session.on('goaway', () => { goaway = true; });
      session.on('error', () => {});
      const held = h2Request(session, { ':path': '/hold?id=stop' });
      await until(() => fs.existsSync(path.join(state, 'holding-stop')), 10_000, 'the held request');
      const stopping = plain!.stop({ graceful: true });
      await until(() => goaway, 10_000, 'GOAWAY');
      fs.writeFileSync(path.join(state, 'release-stop'), '');
      const reply = await held;
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'held stop');
      await stopping;
      plain = null;
    });
  });
}
