/*
 * --proxy-protocol v1|v2|auto with raw bytes on real sockets: the address in the header
 * reaches the app (remote and server), the request after it is served (also when the header
 * arrives a byte at a time, or shares a packet with the request, or precedes TLS), and a
 * malformed, missing, oversized or late header closes the connection without a response and
 * without calling the app. The parser's rules are checked as a pure function too.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { parseProxyHeader, MAX_V2_PAYLOAD } from '../src/net/proxy-protocol.js';
import type { Application } from '../src/gateway/types.js';
import type { Settings } from '../src/settings/table.js';
import { makeCertificate, writeCertificate } from './kit/certs.js';
import { startServer, type TestServer } from './kit/server.js';

let calls = 0;
const app: Application = (request) => {
  calls++;
  return { status: 200, headers: [['content-type', 'application/json']], body: JSON.stringify({ remote: request.remote, server: request.server, scheme: request.scheme, xff: request.headers.get('x-forwarded-for') }) };
};

const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(command: number, family: number, addresses: Buffer, tlvs = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([SIGNATURE, head, addresses, tlvs]);
}

function v2Inet(source: string, destination: string, sport: number, dport: number): Buffer {
  const a = Buffer.alloc(12);
  source.split('.').forEach((n, i) => { a[i] = Number(n); });
  destination.split('.').forEach((n, i) => { a[4 + i] = Number(n); });
  a.writeUInt16BE(sport, 8);
  a.writeUInt16BE(dport, 10);
  return v2(1, 0x11, a);
}

function v2Inet6(sport: number, dport: number): Buffer {
  const a = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(a, 0);  // 2001:db8::1
  Buffer.from('20010db8000000000000000000000002', 'hex').copy(a, 16); // 2001:db8::2
  a.writeUInt16BE(sport, 32);
  a.writeUInt16BE(dport, 34);
  return v2(1, 0x21, a);
}

/** Sends `pieces` (each its own write, a tick apart), returns all the server sent before it closed. */
function rawExchange(port: number, pieces: Array<string | Buffer>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    socket.on('data', (chunk) => { reply += chunk.toString('latin1'); });
    socket.on('error', (error: NodeJS.ErrnoException) => { if (error.code === 'ECONNRESET') resolve(reply); else reject(error); });
    socket.on('close', () => resolve(reply));
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
    socket.once('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

function bodyOf(reply: string): { remote: { address: string; port: number }; server: { address: string; port: number }; scheme: string; xff: string | null } {
  assert.match(reply, /^HTTP\/1\.1 200 /, reply);
  return JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
}

describe('PROXY protocol over real sockets', { timeout: 30_000 }, () => {
  const servers: TestServer[] = [];
  const start = async (settings: Partial<Settings>): Promise<number> => {
    const server = await startServer({ app, settings: { headersTimeout: 1, ...settings } });
    servers.push(server);
    return server.port;
  };
  after(() => Promise.all(servers.map((s) => s.close())));

  it('v1 TCP4: the client address reaches the app as remote, the balancer\'s front as server', async () => {
    const port = await start({ proxyProtocol: 'v1' });
    const seen = bodyOf(await rawExchange(port, [`PROXY TCP4 198.51.100.22 203.0.113.1 35646 443\r\n${REQUEST}`]));
    assert.deepEqual(seen.remote, { address: '198.51.100.22', port: 35646 });
    assert.deepEqual(seen.server, { address: '203.0.113.1', port: 443 });
  });

  it('v1 TCP6, and a header split into single bytes before the request', async () => {
    const port = await start({ proxyProtocol: 'v1' });
    const header = 'PROXY TCP6 2001:db8::1 2001:db8::2 1000 80\r\n';
    const seen = bodyOf(await rawExchange(port, [...header.split(''), REQUEST]));
    assert.deepEqual(seen.remote, { address: '2001:db8::1', port: 1000 });
  });

  it('v1 UNKNOWN (a health check) keeps the socket\'s own addresses', async () => {
    const port = await start({ proxyProtocol: 'v1' });
    const seen = bodyOf(await rawExchange(port, [`PROXY UNKNOWN\r\n${REQUEST}`]));
    assert.equal(seen.remote.address, '127.0.0.1');
  });

  it('v2 IPv4 and IPv6 with the request in the same packet', async () => {
    const port = await start({ proxyProtocol: 'v2' });
    const four = bodyOf(await rawExchange(port, [Buffer.concat([v2Inet('192.0.2.10', '192.0.2.20', 5555, 8080), Buffer.from(REQUEST)])]));
    assert.deepEqual(four.remote, { address: '192.0.2.10', port: 5555 });
    assert.deepEqual(four.server, { address: '192.0.2.20', port: 8080 });
    const six = bodyOf(await rawExchange(port, [Buffer.concat([v2Inet6(7000, 443), Buffer.from(REQUEST)])]));
    assert.deepEqual(six.remote, { address: '2001:db8::1', port: 7000 });
  });

  it('v2 LOCAL (the balancer\'s own health check) keeps the socket\'s addresses; TLVs are skipped', async () => {
    const port = await start({ proxyProtocol: 'v2' });
    const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP "abc"
    const seen = bodyOf(await rawExchange(port, [v2(0, 0x00, Buffer.alloc(0), tlv), REQUEST]));
    assert.equal(seen.remote.address, '127.0.0.1');
  });

  it('auto: takes either version, and plain HTTP without a header', async () => {
    const port = await start({ proxyProtocol: 'auto' });
    assert.equal(bodyOf(await rawExchange(port, [`PROXY TCP4 198.51.100.1 203.0.113.1 1 2\r\n${REQUEST}`])).remote.address, '198.51.100.1');
    assert.equal(bodyOf(await rawExchange(port, [Buffer.concat([v2Inet('192.0.2.1', '192.0.2.2', 1, 2), Buffer.from(REQUEST)])])).remote.address, '192.0.2.1');
    // "P" could begin "PROXY " or "POST": the server waits for the bytes that decide.
    assert.equal(bodyOf(await rawExchange(port, ['P', 'OST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'])).remote.address, '127.0.0.1');
  });

  it('closes without a response, and without calling the app, on a missing, malformed, oversized or late header', async () => {
    const v1 = await start({ proxyProtocol: 'v1' });
    const v2port = await start({ proxyProtocol: 'v2' });
    const before = calls;
    const oversized = v2(1, 0x11, Buffer.alloc(MAX_V2_PAYLOAD + 1));
    const cases: Array<[string, number, Array<string | Buffer>]> = [
      ['plain HTTP where v1 is required', v1, [REQUEST]],
      ['v1 header with a bad address', v1, [`PROXY TCP4 999.1.1.1 203.0.113.1 1 2\r\n${REQUEST}`]],
      ['v1 header with a leading-zero port', v1, [`PROXY TCP4 198.51.100.1 203.0.113.1 01 2\r\n${REQUEST}`]],
      ['v1 header without CRLF within 107 bytes', v1, [`PROXY TCP4 ${'1'.repeat(120)}`]],
      ['v1 header ending in a bare LF', v1, [`PROXY TCP4 198.51.100.1 203.0.113.1 1 2\n${REQUEST}`]],
      ['v2 required, v1 sent', v2port, [`PROXY TCP4 198.51.100.1 203.0.113.1 1 2\r\n${REQUEST}`]],
      ['v2 with version 3', v2port, [Buffer.concat([SIGNATURE, Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12), Buffer.from(REQUEST)])]],
      ['v2 longer than the bound', v2port, [oversized.subarray(0, 16)]],
      ['v2 with truncated IPv4 addresses', v2port, [Buffer.concat([v2(1, 0x11, Buffer.alloc(6)), Buffer.from(REQUEST)])]],
      ['a header that never completes (headers timeout)', v1, ['PROXY TCP4 198.51.100.1']],
    ];
    for (const [what, port, pieces] of cases) {
      assert.equal(await rawExchange(port, pieces), '', what);
    }
    assert.equal(calls, before, 'the app was never called');
  });

  it('PROXY header, then TLS: the header is read off the raw socket before the handshake', async () => {
    const certificate = makeCertificate();
    const files = writeCertificate(certificate);
    const port = await start({ proxyProtocol: 'v1', certfile: files.certfile, keyfile: files.keyfile });
    const reply = await new Promise<string>((resolve, reject) => {
      const raw = net.connect({ port, host: '127.0.0.1' }, () => {
        // Header and ClientHello in one packet: what follows the header must reach TLS.
        raw.cork();
        raw.write('PROXY TCP4 198.51.100.7 203.0.113.1 4000 443\r\n');
        const secure = tls.connect({ socket: raw, ca: certificate.cert, servername: 'localhost' }, () => secure.write(REQUEST));
        setImmediate(() => raw.uncork());
        let data = '';
        secure.setEncoding('latin1');
        secure.on('data', (chunk: string) => { data += chunk; });
        secure.on('end', () => resolve(data));
        secure.on('error', reject);
      });
      raw.on('error', reject);
    });
    const seen = bodyOf(reply);
    assert.deepEqual(seen.remote, { address: '198.51.100.7', port: 4000 });
    assert.equal(seen.scheme, 'https');
  });

  it('X-Forwarded-For is judged against the PROXY client address, not the balancer\'s', async () => {
    const port = await start({ proxyProtocol: 'v1' });
    const seen = bodyOf(await rawExchange(port, [`PROXY TCP4 198.51.100.22 203.0.113.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n`]));
    assert.equal(seen.remote.address, '198.51.100.22');
    assert.equal(seen.xff, null, 'an untrusted client\'s X-Forwarded-For is removed');
  });
});

describe('parseProxyHeader', () => {
  const parse = (text: string | Buffer, mode: 'v1' | 'v2' | 'auto' = 'auto') => parseProxyHeader(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, mode);

  it('asks for more bytes while a prefix is still ambiguous', () => {
    assert.equal(parse('PRO').kind, 'more');
    assert.equal(parse(SIGNATURE.subarray(0, 5)).kind, 'more');
    assert.equal(parse('PROXY TCP4 1.2.3.4').kind, 'more');
    assert.equal(parse(Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11, 0, 12])])).kind, 'more');
  });

  it('says "none" in auto mode as soon as the bytes cannot be a header', () => {
    assert.equal(parse('PUT / HTTP/1.1').kind, 'none');
    assert.equal(parse('\r\nGET').kind, 'none');
    assert.equal(parse('GET / HTTP/1.1', 'v1').kind, 'error');
  });

  it('reports the header length, so the bytes after it are the request', () => {
    const header = 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n';
    const result = parse(header + 'GET');
    assert.equal(result.kind, 'header');
    assert.equal(result.kind === 'header' && result.length, header.length);
  });

  it('accepts the longest v1 header (107 bytes: UNKNOWN with two full IPv6 addresses)', () => {
    const longest = 'PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    assert.equal(longest.length, 107);
    assert.equal(parse(longest).kind, 'header');
  });

  it('compresses v2 IPv6 addresses as RFC 5952 text, IPv4-mapped ones as ::ffff:a.b.c.d', () => {
    const result = parse(v2Inet6(1, 2));
    assert.equal(result.kind === 'header' && result.header.source?.address, '2001:db8::1');
    const mapped = Buffer.alloc(36);
    Buffer.from('00000000000000000000ffffc0000201', 'hex').copy(mapped, 0);
    const m = parse(v2(1, 0x21, mapped));
    assert.equal(m.kind === 'header' && m.header.source?.address, '::ffff:192.0.2.1');
  });
});
