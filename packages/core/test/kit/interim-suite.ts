/*
 * Gateway 1.1 interim responses and trailers on HTTP/1.1, under any engine, seen from a raw
 * socket: 103 Early Hints before the final response, trailers in the chunked trailer section
 * for a client that sent `TE: trailers` and never for one that did not, the checks that keep
 * an app from splitting a response, and the node:http adapter's writeEarlyHints/addTrailers.
 *
 *   import { runInterimSuite } from '@gatehouse/core/testkit';
 *   runInterimSuite('threaded', ThreadedEngine);
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EngineClass } from '../../src/engine/engine.js';
import { RawClient, type RawResponse } from './raw-client.js';
import { startEngine, type EngineName, type RunningEngine } from './hostile.js';

/** The core entry the app imports adaptNodeListener from (dist/test/kit -> dist/src). */
const CORE_ENTRY = new URL('../../src/index.js', import.meta.url).href;

const LINKS = ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script'];

const APP = `import { adaptNodeListener } from ${JSON.stringify(CORE_ENTRY)};
const text = (status, body) => ({ status, headers: [['content-type', 'text/plain']], body });
const encode = (s) => new TextEncoder().encode(s);
const tick = () => new Promise((resolve) => setTimeout(resolve, 2));
const attempt = (call) => { try { call(); return 'sent'; } catch (error) { return error.code ?? String(error); } };

const node = adaptNodeListener((req, res) => {
  res.writeEarlyHints({ link: ${JSON.stringify(LINKS[0])}, 'x-hint': 'early' });
  res.setHeader('content-type', 'text/plain');
  if (req.url === '/node/whole') {
    res.addTrailers({ 'x-node-whole': 'w' });
    res.end('whole from node');
    return;
  }
  res.write('streamed ');
  setTimeout(() => { res.addTrailers([['x-node-sum', '42']]); res.end('from node'); }, 2);
});

export default async function app(request) {
  const query = new URLSearchParams(request.query);
  switch (request.path) {
    case '/hints':
      request.sendInterim(103, { link: ${JSON.stringify(LINKS)} });
      await tick();
      return text(200, 'final');
    case '/interim-status':
      return text(200, attempt(() => request.sendInterim(Number(query.get('status')), [])));
    case '/interim-split':
      return text(200, attempt(() => request.sendInterim(103, [['link', '</a>\\r\\nx-injected: 1']])) + ' ' + attempt(() => request.sendInterim(103, [['bad name', 'v']])));
    case '/hints-late': {
      async function* body() { yield encode('one '); await tick(); request.sendInterim(103, { link: '</late>' }); yield encode('two'); }
      return { status: 200, body: body() };
    }
    case '/trailers-whole':
      return { status: 200, headers: [['content-type', 'text/plain']], body: 'whole body',
        trailers: [['x-checksum', 'abc'], ['X-Second', '2'], ['content-type', 'not/allowed'], ['content-length', '99']] };
    case '/trailers-stream-fn': {
      let sent = 0;
      async function* body() { for (const part of ['a', 'bb', 'ccc']) { await tick(); sent += part.length; yield encode(part); } }
      return { status: 200, body: body(), trailers: async () => { await tick(); return { 'x-bytes-sent': String(sent) }; } };
    }
    case '/trailers-whole-fn':
      return { status: 200, body: 'whole then function', trailers: () => [['x-late', 'yes']] };
    case '/trailers-bad':
      return { status: 200, body: 'never sent', trailers: [['x-bad', 'v\\r\\nx-injected: 1']] };
    case '/trailers-bad-fn': {
      async function* body() { yield encode('partial'); }
      return { status: 200, body: body(), trailers: () => [['x-bad', 'v\\r\\n\\r\\nHTTP/1.1 200 OK']] };
    }
    case '/node/stream': case '/node/whole':
      return node(request);
    default:
      return text(404, 'not found');
  }
}
`;

export function runInterimSuite(name: EngineName, engineClass: EngineClass): void {
  describe(`interim responses and trailers under ${name}`, { timeout: 60_000 }, () => {
    let dir = '';
    let server: RunningEngine;
    const clients: RawClient[] = [];
    const connect = async () => {
      const client = await RawClient.connect(server.port);
      clients.push(client);
      return client;
    };
    /** Sends one request (HTTP/1.1 unless `version`), returns every response up to the final one. */
    const ask = async (target: string, extra = '', version = '1.1'): Promise<RawResponse[]> => {
      const client = await connect();
      await client.write(`GET ${target} HTTP/${version}\r\nHost: x\r\n${extra}\r\n`);
      return client.readResponses(1);
    };
    const final = (responses: RawResponse[]) => responses.find((r) => !r.interim)!;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-interim-'));
      fs.writeFileSync(path.join(dir, 'app.mjs'), APP);
      server = await startEngine(engineClass, name, path.join(dir, 'app.mjs'), {});
    });

    after(async () => {
      for (const client of clients) client.socket.destroy();
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('sends 103 Early Hints with its Link fields before the final response, and the connection goes on', async () => {
      const client = await connect();
      await client.write('GET /hints HTTP/1.1\r\nHost: x\r\n\r\nGET /hints HTTP/1.1\r\nHost: x\r\n\r\n');
      const responses = await client.readResponses(2);
      assert.deepEqual(responses.map((r) => r.status), [103, 200, 103, 200]);
      const hints = responses[0]!;
      assert.equal(hints.raw.toString('latin1').split('\r\n')[0], 'HTTP/1.1 103 Early Hints');
      assert.deepEqual(hints.headerAll('link'), LINKS);
      assert.equal(hints.header('content-length'), null, 'a 1xx carries no framing');
      assert.equal(responses[1]!.text(), 'final');
    });

    it('sends no 103 to an HTTP/1.0 client', async () => {
      const client = await connect();
      await client.write('GET /hints HTTP/1.0\r\nHost: x\r\n\r\n');
      const responses = await client.readUntilClose();
      assert.deepEqual(responses.map((r) => r.status), [200]);
      assert.equal(responses[0]!.text(), 'final');
      assert.ok(!client.received.toString('latin1').includes('103'), 'no interim bytes at all');
    });

    it('drops an interim response once the final head is out', async () => {
      const responses = await ask('/hints-late');
      assert.deepEqual(responses.map((r) => r.status), [200]);
      assert.equal(responses[0]!.text(), 'one two');
    });

    it('refuses 100, 101, a final status and a non-1xx with ERR_APP_BAD_INTERIM, and a splitting field with ERR_APP_BAD_HEADER', async () => {
      for (const status of [100, 101, 200, 99, 103.5]) {
        const responses = await ask(`/interim-status?status=${status}`);
        assert.deepEqual(responses.map((r) => r.status), [200], `status ${status}`);
        assert.equal(responses[0]!.text(), 'ERR_APP_BAD_INTERIM', `status ${status}`);
      }
      const client = await connect();
      await client.write('GET /interim-split HTTP/1.1\r\nHost: x\r\n\r\n');
      const responses = await client.readResponses(1);
      assert.deepEqual(responses.map((r) => r.status), [200]);
      assert.equal(responses[0]!.text(), 'ERR_APP_BAD_HEADER ERR_APP_BAD_HEADER');
      assert.ok(!client.received.toString('latin1').toLowerCase().includes('x-injected'));
    });

    it('sends trailers of a whole body chunked to a TE: trailers client, leaving out forbidden fields', async () => {
      const [response] = await ask('/trailers-whole', 'TE: trailers\r\n');
      assert.equal(response!.framing, 'chunked');
      assert.equal(response!.text(), 'whole body');
      assert.deepEqual(response!.trailers, [['x-checksum', 'abc'], ['x-second', '2']]);
      assert.equal(response!.header('content-type'), 'text/plain');
    });

    it('sends no trailers without TE: trailers (nor to TE: gzip, nor on HTTP/1.0)', async () => {
      const [plain] = await ask('/trailers-whole');
      assert.equal(plain!.framing, 'length');
      assert.equal(plain!.text(), 'whole body');
      assert.deepEqual(plain!.trailers, []);
      const [other] = await ask('/trailers-stream-fn', 'TE: gzip\r\n');
      assert.equal(other!.framing, 'chunked');
      assert.equal(other!.text(), 'abbccc');
      assert.deepEqual(other!.trailers, []);
      const client = await connect();
      await client.write('GET /trailers-stream-fn HTTP/1.0\r\nHost: x\r\nTE: trailers\r\n\r\n');
      const [old] = await client.readUntilClose();
      assert.equal(old!.framing, 'close');
      assert.equal(old!.text(), 'abbccc');
    });

    it('calls a function form once the streamed body has ended, and sends what it returns', async () => {
      const [response] = await ask('/trailers-stream-fn', 'TE: deflate, trailers\r\n');
      assert.equal(response!.text(), 'abbccc');
      assert.deepEqual(response!.trailers, [['x-bytes-sent', '6']]);
      const [whole] = await ask('/trailers-whole-fn', 'TE: trailers\r\n');
      assert.equal(whole!.text(), 'whole then function');
      assert.deepEqual(whole!.trailers, [['x-late', 'yes']]);
    });

    it('answers 500 for trailer fields that would split the response, and cuts a stream whose trailer function returns one', async () => {
      const client = await connect();
      await client.write('GET /trailers-bad HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\nGET /hints HTTP/1.1\r\nHost: x\r\n\r\n');
      const responses = await client.readResponses(2);
      assert.deepEqual(responses.filter((r) => !r.interim).map((r) => r.status), [500, 200], 'a clean 500, and the connection goes on');
      assert.ok(!client.received.toString('latin1').toLowerCase().includes('x-injected'));

      const cut = await connect();
      await cut.write('GET /trailers-bad-fn HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n');
      await cut.waitForClose();
      const bytes = cut.received.toString('latin1');
      // Where the app runs off the socket's thread, the failure can overtake the body's last bytes: either way the response is cut.
      assert.ok(bytes.startsWith('HTTP/1.1 200 OK\r\n'), 'the head went out');
      assert.ok(!bytes.includes('\r\n0\r\n'), 'no last chunk: the client cannot take the body as complete');
      assert.equal(bytes.indexOf('HTTP/1.1 200 OK'), bytes.lastIndexOf('HTTP/1.1 200 OK'), 'no second response');
    });

    it('node adapter: writeEarlyHints is a 103, addTrailers reaches a TE: trailers client (streamed and whole)', async () => {
      const streamed = await ask('/node/stream', 'TE: trailers\r\n');
      assert.deepEqual(streamed.map((r) => r.status), [103, 200]);
      assert.deepEqual(streamed[0]!.headerAll('link'), [LINKS[0]]);
      assert.equal(streamed[0]!.header('x-hint'), 'early');
      assert.equal(final(streamed).text(), 'streamed from node');
      assert.deepEqual(final(streamed).trailers, [['x-node-sum', '42']]);

      const whole = await ask('/node/whole', 'TE: trailers\r\n');
      assert.deepEqual(whole.map((r) => r.status), [103, 200]);
      assert.equal(final(whole).text(), 'whole from node');
      assert.deepEqual(final(whole).trailers, [['x-node-whole', 'w']]);

      const without = await ask('/node/whole');
      assert.deepEqual(without.map((r) => r.status), [103, 200]);
      assert.equal(final(without).framing, 'length');
      assert.deepEqual(final(without).trailers, []);
    });
  });
}
