/*
 * Request-smuggling regressions: one test per published class that hit Gunicorn, Waitress,
 * Node/llhttp (and a few found here by differential fuzzing against llhttp), each named after
 * the class or CVE it covers. Each sends the attack over a raw socket to a real server, with a
 * second request (`GET /smuggled`) hidden where a parser that read the framing differently would
 * find it, and asserts: the status we answer, that the connection then closes, and that the
 * app never saw /smuggled as a request. Classes where the RFC reading is unambiguous and we
 * accept the message (leading zeros, OWS around chunked, a GET with a body) assert instead that
 * the body is exactly what the framing says and the next real request is served next.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startServer, type RawResponse, type TestServer } from './kit/index.js';
import type { GatewayRequest } from '../src/gateway/types.js';
import { adaptFetchHandler } from '../src/gateway/adapters/fetch.js';
import { adaptNodeListener } from '../src/gateway/adapters/node.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
const AFTER = 'GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
const hex = (n: number): string => n.toString(16);
/** A chunked body that carries `text` as one chunk. */
const chunk = (text: string): string => `${hex(text.length)}\r\n${text}\r\n`;

let server: TestServer;
/** What the app saw: "METHOD path body". */
const seen: string[] = [];

before(async () => {
  server = await startServer({
    app: async (request: GatewayRequest) => {
      if (request.path === '/no-read') {
        seen.push(`${request.method} ${request.path}`);
        return { status: 200, headers: [['content-type', 'text/plain']], body: 'not read' };
      }
      const body = await request.body.text();
      seen.push(`${request.method} ${request.path} ${JSON.stringify(body)}`);
      return { status: 200, headers: [['content-type', 'text/plain']], body: `ok ${request.path}` };
    },
    settings: { keepAlive: 5, headersTimeout: 5, bodyTimeout: 5, logLevel: 'fatal' },
  });
});
after(() => server.close());

async function send(payload: string, methods?: string[]): Promise<{ responses: RawResponse[]; seen: string[]; client: RawClient }> {
  seen.length = 0;
  const client = await RawClient.connect(server.port);
  try {
    await client.write(payload).catch(() => {}); // the server may close before it has read everything
    const responses = await client.readUntilClose({ timeoutMs: 5000, methods });
    return { responses, seen: [...seen], client };
  } finally {
    client.destroy();
  }
}

/** The attack is refused with `status`, the connection closes, and no request reached the app. */
async function refused(payload: string, status: number): Promise<void> {
  const { responses, seen: requests, client } = await send(payload);
  assert.equal(responses.length, 1, `one response, got ${responses.map((r) => r.status).join(', ')}`);
  assert.equal(responses[0]!.status, status, responses[0]!.text());
  assert.equal(responses[0]!.header('connection'), 'close');
  assert.ok(client.ended, 'the server closed the connection');
  assert.deepEqual(requests, [], 'no request reached the app (least of all /smuggled)');
}

const T = { timeout: 10_000 };

const REFUSED: ReadonlyArray<readonly [name: string, payload: string, status: number]> = [
  // ---- Content-Length vs Transfer-Encoding ------------------------------------------------
  ['CL.TE: Content-Length then Transfer-Encoding: chunked',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.CL: Transfer-Encoding: chunked then Content-Length',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`, 400],
  ['CL.TE with Content-Length: 0',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`, 400],
  ['TE fallback to CL: unknown coding with Content-Length (Gunicorn CVE-2024-6827)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`, 400],
  // ---- TE.TE obfuscation ---------------------------------------------------------------------
  ['TE.TE: Transfer-Encoding: xchunked (an unknown coding is 501, never guessed as chunked)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 501],
  ['TE.TE: chunked and xchunked in two fields (Gunicorn CVE-2024-1135)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 501],
  ['TE.TE: Transfer-Encoding: chunked twice (Node CVE-2020-8287, duplicate fields)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: Transfer-Encoding: chunked, identity (chunked not final)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: Transfer-Encoding: identity alone',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: "chunked" quoted',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: vertical tab before chunked (Waitress CVE-2019-16789, special whitespace)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: form feed after chunked (Waitress CVE-2019-16789)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0c\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: chunked with a parameter',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['TE.TE: obs-fold continues Transfer-Encoding onto a second line (Node CVE-2022-32215, multi-line TE)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n chunked\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`, 400],
  ['TE.TE: space between Transfer-Encoding and the colon (llhttp CVE-2021-22959)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['Transfer-Encoding in an HTTP/1.0 request',
    `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['Transfer-Encoding in an HTTP/1.0 request, without Content-Length',
    `POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  // ---- Content-Length obfuscation ---------------------------------------------------------------
  ['Content-Length with a plus sign (Waitress CVE-2022-24761)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length in hex with 0x (Waitress CVE-2022-24761, protocol-http1 CVE-2023-38697)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length with a space inside the number (Node CVE-2018-7159)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length as a list "5, 5"',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length twice, different values',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 41\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length twice, equal values (Node CVE-2020-8287, duplicate fields)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length negative',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n${SMUGGLED}`, 400],
  ['Content-Length larger than a safe integer (overflow)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\nhello${SMUGGLED}`, 400],
  ['space before the Content-Length line (Node CVE-2024-27982)',
    `POST / HTTP/1.1\r\nHost: a\r\n Content-Length: 5\r\n\r\nhello${SMUGGLED}`, 400],
  ['space between Content-Length and the colon (llhttp CVE-2021-22959)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello${SMUGGLED}`, 400],
  ['Content-Length in trailers',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 36\r\n\r\n${SMUGGLED}`, 400],
  // ---- line endings and bytes --------------------------------------------------------------------
  ['bare LF ends a field line (Node CVE-2022-32214, Waitress CVE-2019-16785)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nX: x\nContent-Length: 0\r\n\r\n${SMUGGLED}`, 400],
  ['bare LF ends the head (Node CVE-2022-35256)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\n${SMUGGLED}`, 400],
  ['bare CR ends a field line (Node CVE-2023-30589)',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nX: x\rContent-Length: 0\r\n\r\n${SMUGGLED}`, 400],
  ['bare CR in the request-line',
    `GET /a\r HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`, 400],
  ['NUL byte in a field value',
    `POST / HTTP/1.1\r\nHost: a\r\nX: a\x00Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`, 400],
  ['NUL byte in a field name',
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length\x00: 0\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`, 400],
  // ---- chunk lines ------------------------------------------------------------------------------
  ['chunk-size with 0x (Waitress CVE-2022-24761)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk-size with a plus sign (Waitress CVE-2022-24761)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk-size with leading whitespace',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk-size with whitespace before the extension (llhttp refuses; found by differential fuzzing)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk-size that overflows 64 bits (17 hex digits)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk-size larger than a safe integer',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk extension with a bare LF (protocol-http1 CVE-2023-38697, llhttp chunk-extension fixes)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk extension with a bare CR',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk extension with whitespace (llhttp refuses; found by differential fuzzing)',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5; a=b\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk data longer than its chunk-size',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['last chunk followed by garbage instead of CRLF',
    `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${SMUGGLED}`, 400],
  // ---- routing --------------------------------------------------------------------------------------
  ['two Host fields',
    `GET / HTTP/1.1\r\nHost: a\r\nHost: internal\r\n\r\n${SMUGGLED}`, 400],
  ['HTTP/1.1 without Host',
    `GET / HTTP/1.1\r\n\r\n${SMUGGLED}`, 400],
  // RFC 9112 3.2: a Host that is not uri-host [ ":" port ] is 400. A server or proxy that
  // routes on a lax reading of these could pick another virtual host than the app believes.
  ...['a b', 'a, b', 'u@h', 'evil.com/../x?', '[::1', 'h:99999x', ':80', 'a%zz'].map((host) =>
    [`Host that is not a valid uri-host [":" port]: ${JSON.stringify(host)}`, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n${SMUGGLED}`, 400] as const),
  ['absolute-form target with userinfo (RFC 9110 4.2.4: it disguises the host)',
    `GET http://public.example@internal.example/admin HTTP/1.1\r\nHost: public.example\r\n\r\n${SMUGGLED}`, 400],
  ['CONNECT with a body (llhttp reads none; found by differential fuzzing)',
    `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, 400],
];

describe('request smuggling: refused, connection closed, nothing after it read as a request', T, () => {
  for (const [name, payload, status] of REFUSED) {
    test(name, T, () => refused(payload, status));
  }

  test('unbounded chunk extension (Node CVE-2024-22019): 400 once the line passes its bound, before it ends', T, async () => {
    seen.length = 0;
    const client = await RawClient.connect(server.port);
    try {
      // 4096 (DEFAULT_MAX_CHUNK_LINE) + 1 KiB of extension, with no line end: a server that waits
      // for the end of the line would never answer.
      await client.write(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=${'b'.repeat(5120)}`);
      const responses = await client.readUntilClose({ timeoutMs: 5000 });
      assert.deepEqual(responses.map((r) => r.status), [400]);
      assert.deepEqual(seen.filter((s) => s.includes('/smuggled')), []);
    } finally {
      client.destroy();
    }
  });
});

describe('request smuggling: accepted as the RFC frames it, and the next request is the real one', T, () => {
  test('Content-Length with leading zeros is the same number (1*DIGIT)', T, async () => {
    const { responses, seen: requests } = await send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\nhello${AFTER}`);
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.deepEqual(requests, ['POST / "hello"', 'GET /after ""']);
  });

  test('OWS around chunked (SP or HTAB, before or after) is stripped: RFC 9110 5.6.3, OWS = *( SP / HTAB )', T, async () => {
    for (const value of ['\tchunked ', '\tchunked\t', ' chunked\t']) {
      const { responses, seen: requests } = await send(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:${value}\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n${AFTER}`);
      assert.deepEqual(responses.map((r) => r.status), [200, 200], JSON.stringify(value));
      assert.deepEqual(requests, [`POST / ${JSON.stringify(SMUGGLED)}`, 'GET /after ""'], 'the smuggled bytes are body, not a request');
    }
  });

  test('HTAB around a Content-Length value is OWS: the body is exactly that long', T, async () => {
    const { responses, seen: requests } = await send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\t${SMUGGLED.length}\t\r\n\r\n${SMUGGLED}${AFTER}`);
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.deepEqual(requests, [`POST / ${JSON.stringify(SMUGGLED)}`, 'GET /after ""'], 'the smuggled bytes are body, not a request');
  });

  test('HTAB around Connection and Expect values is OWS: close and 100-continue are read', T, async () => {
    seen.length = 0;
    const client = await RawClient.connect(server.port);
    try {
      await client.write('POST / HTTP/1.1\r\nHost: a\r\nExpect:\t100-continue\t\r\nConnection:\tclose\t\r\nContent-Length: 2\r\n\r\n');
      const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
      await client.waitForBytes(CONTINUE.length);
      assert.equal(client.receivedText, CONTINUE, 'the app pulled the body: 100 Continue was sent');
      await client.write(`hi${SMUGGLED}`).catch(() => {});
      const responses = await client.readUntilClose({ timeoutMs: 5000 });
      assert.deepEqual(responses.map((r) => [r.status, r.header('connection')]), [[100, null], [200, 'close']]);
      assert.deepEqual(seen, ['POST / "hi"'], 'nothing after a close is served');
    } finally {
      client.destroy();
    }
  });

  test('GET with a body: Content-Length is honoured on every method', T, async () => {
    const { responses, seen: requests } = await send(`GET / HTTP/1.1\r\nHost: a\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}${AFTER}`);
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.deepEqual(requests, [`GET / ${JSON.stringify(SMUGGLED)}`, 'GET /after ""']);
  });

  test('Expect: 100-continue with the body pipelined and an app that never reads it: the body is dropped as body', T, async () => {
    const { responses, seen: requests } = await send(
      `POST /no-read HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}${AFTER}`);
    assert.deepEqual(responses.filter((r) => !r.interim).map((r) => r.status), [200, 200]);
    assert.deepEqual(requests, ['POST /no-read', 'GET /after ""'], 'the body was never parsed as a request');
  });

  test('Expect: 100-continue answered before the body: Connection: close, and a body sent anyway is never a request', T, async () => {
    seen.length = 0;
    const client = await RawClient.connect(server.port);
    try {
      await client.write(`POST /no-read HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n`);
      const [response] = await client.readResponses(1);
      assert.equal(response!.status, 200);
      assert.equal(response!.header('connection'), 'close', 'no next request can be framed: the client may or may not send the body');
      await client.write(SMUGGLED).catch(() => {});
      await client.waitForClose(5000);
      assert.deepEqual(seen, ['POST /no-read']);
    } finally {
      client.destroy();
    }
  });

  test('bytes after Connection: close are never served (llhttp: HPE_CLOSED_CONNECTION)', T, async () => {
    const { responses, seen: requests } = await send(`GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n${SMUGGLED}`);
    assert.deepEqual(responses.map((r) => r.status), [200]);
    assert.deepEqual(requests, ['GET / ""']);
  });

  test('HTTP/1.0 without keep-alive: the pipelined request after it is never served', T, async () => {
    const { responses, seen: requests } = await send(`GET / HTTP/1.0\r\n\r\n${SMUGGLED}`);
    assert.deepEqual(responses.map((r) => r.status), [200]);
    assert.deepEqual(requests, ['GET / ""']);
  });

  test('an absolute-form target with the same Host (any case) is served', T, async () => {
    const { responses, seen: requests } = await send(`GET http://A.example:80/x HTTP/1.1\r\nHost: a.EXAMPLE:80\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(responses.map((r) => r.status), [200]);
    assert.deepEqual(requests, ['GET /x ""']);
  });
});

describe('the host an app sees comes from the target when the target names one (RFC 9112 3.2.2, 3.3)', T, () => {
  let hosts: TestServer;
  // One server, three views of the same request: the Gateway request, a fetch handler's
  // Request, a node listener's req.
  const viaFetch = adaptFetchHandler((request: Request) => new Response(`${new URL(request.url).host} ${request.headers.get('host')}`));
  const viaNode = adaptNodeListener((req, res) => res.end(`${req.headers.host}`));
  before(async () => {
    hosts = await startServer({
      app: (request: GatewayRequest) => {
        if (request.path.startsWith('/fetch')) return viaFetch(request);
        if (request.path.startsWith('/node')) return viaNode(request);
        return { status: 200, body: `${request.headers.getAll('host').join(',')}` };
      },
      settings: { logLevel: 'fatal' },
    });
  });
  after(() => hosts.close());

  async function bodies(payload: string): Promise<string[]> {
    const client = await RawClient.connect(hosts.port);
    try {
      await client.write(payload);
      return (await client.readUntilClose({ timeoutMs: 5000 })).map((r) => `${r.status} ${r.text()}`);
    } finally {
      client.destroy();
    }
  }

  test('absolute-form with a different Host: served, and every view names the target\'s host, never Host', T, async () => {
    const line = (path: string) => `GET http://internal.example:8080${path} HTTP/1.1\r\nHost: public.example\r\n\r\n`;
    assert.deepEqual(await bodies(`${line('/gateway')}${line('/fetch')}${line('/node')}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`), [
      '200 internal.example:8080',
      '200 internal.example:8080 internal.example:8080',
      '200 internal.example:8080',
      '200 a',
    ]);
  });

  test('absolute-form in HTTP/1.0 without Host, and CONNECT with another Host: the target names the host', T, async () => {
    assert.deepEqual(await bodies('GET http://[::1]:81/gateway HTTP/1.0\r\n\r\n'), ['200 [::1]:81']);
    assert.deepEqual(await bodies('CONNECT internal.example:443 HTTP/1.1\r\nHost: public.example\r\n\r\n'), ['200 internal.example:443']);
  });

  test('an empty Host with an origin-form target is served: the app sees it empty; a fetch handler\'s URL names the server address', T, async () => {
    assert.deepEqual(await bodies('GET /gateway HTTP/1.1\r\nHost:\r\n\r\nGET /fetch HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n'), [
      '200 ',
      `200 127.0.0.1:${hosts.port} `,
    ]);
  });
});
