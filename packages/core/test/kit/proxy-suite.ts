/*
 * Behind proxies, under any engine: X-Forwarded-* / Forwarded trust (--proxy-headers,
 * --forwarded-allow-ips) and the PROXY protocol (--proxy-protocol, --proxy-allow-ips), over
 * real sockets, through the engine's own socket handoff (prefork workers, the threaded
 * engine's main thread, a single process): what an engine passes on is the peer address
 * every decision here rests on.
 *
 *   import { runProxySuite } from '@gatehouse/core/testkit';
 *   runProxySuite('prefork', PreforkEngine, { workers: 2 });
 *
 * Two loopback source addresses stand for two hosts: 127.0.0.1 is a trusted proxy or balancer
 * (the defaults trust loopback), 127.0.0.2 is anyone else. The app reports what it was told;
 * it also appends a byte to a file per call, so "the app was never called" holds across
 * processes and threads. Each group of tests shares one server with the settings it is about.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { Engine, EngineClass } from '../../src/engine/engine.js';
import { makeCertificate, writeCertificate } from './certs.js';

const app = (callsFile: string) => `import fs from 'node:fs';
export default (request) => {
  fs.appendFileSync(${JSON.stringify(callsFile)}, 'x');
  return {
    status: 200,
    headers: [['content-type', 'application/json']],
    body: JSON.stringify({ scheme: request.scheme, remote: request.remote, server: request.server, headers: [...request.headers] }),
  };
};
`;

interface Seen {
  scheme: string;
  remote: { address: string; port: number };
  server: { address: string; port: number };
  headers: Array<[string, string]>;
}

const TRUSTED = '127.0.0.1';
const OTHER = '127.0.0.2';
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
export const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
/** Bytes of addresses and TLVs a v2 header may carry (net/proxy-protocol.ts MAX_V2_PAYLOAD). */
const MAX_V2_PAYLOAD = 4096;

const PROXY_FIELDS = {
  'X-Forwarded-For': '203.0.113.7',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'shop.example',
  'X-Forwarded-Port': '8443',
  'X-Forwarded-Prefix': '/api',
  'X-Request-Id': 'abc',
};

/** GET / over node:http from the loopback address `from`. */
function ask(port: number, headers: Record<string, string | string[]>, from = TRUSTED): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: '/', headers, localAddress: from, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve(JSON.parse(body) as Seen));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('timed out')));
    request.end();
  });
}

/** Sends `pieces` from `from` (each its own write, a tick apart); resolves with all the server sent before it closed. */
function rawExchange(port: number, pieces: Array<string | Buffer>, from = TRUSTED): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let reply = '';
    socket.on('data', (chunk) => { reply += chunk.toString('latin1'); });
    socket.on('error', (error: NodeJS.ErrnoException) => { if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(reply); else reject(error); });
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

function bodyOf(reply: string): Seen {
  assert.match(reply, /^HTTP\/1\.1 200 /, reply);
  return JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Seen;
}

const names = (seen: Seen): string[] => seen.headers.map(([name]) => name);
const header = (seen: Seen, name: string): string | null => seen.headers.find(([n]) => n === name)?.[1] ?? null;

/** A PROXY v2 header: `command` 0 LOCAL / 1 PROXY, `family` the address family and protocol byte. */
export function v2(command: number, family: number, addresses: Buffer, tlvs = Buffer.alloc(0)): Buffer {
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

/** A PROXY v2 TCP over IPv6 header from 2001:db8::1 to 2001:db8::2. */
export function v2Inet6(sport: number, dport: number): Buffer {
  const a = Buffer.alloc(36);
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(a, 0);  // 2001:db8::1
  Buffer.from('20010db8000000000000000000000002', 'hex').copy(a, 16); // 2001:db8::2
  a.writeUInt16BE(sport, 32);
  a.writeUInt16BE(dport, 34);
  return v2(1, 0x21, a);
}

export function runProxySuite(name: string, engineClass: EngineClass, settings: Partial<Settings> = {}): void {
  describe(`proxies under ${name}: X-Forwarded-* trust and the PROXY protocol`, { timeout: 120_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-proxy-${name.replace(/[^\w-]/g, '_')}-`));
    const appFile = path.join(dir, 'app.mjs');
    const callsFile = path.join(dir, 'calls');
    const calls = (): number => fs.existsSync(callsFile) ? fs.statSync(callsFile).size : 0;
    fs.writeFileSync(appFile, app(callsFile));
    const engines: Engine[] = [];
    after(async () => {
      await Promise.all(engines.map((engine) => engine.stop({ graceful: false, timeout: 1 }).catch(() => {})));
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A server with `overrides` for the tests of one describe block; its port once `before` ran. */
    const serverWith = (overrides: Partial<Settings>): (() => number) => {
      let port = 0;
      before(async () => {
        const all: Settings = { ...defaultSettings(), logLevel: 'fatal', headersTimeout: 2, ...settings, ...overrides, bind: ['127.0.0.1:0'] };
        const engine = new engineClass({ settings: all, app: { kind: 'module', spec: appFile } });
        engines.push(engine);
        await engine.start();
        port = engine.addresses[0]!.port!;
      });
      return () => port;
    };

    describe('--proxy-headers with the default --forwarded-allow-ips (loopback)', () => {
      const port = serverWith({});

      it('believes a loopback proxy: remote address, scheme, server host and port', async () => {
        const seen = await ask(port(), PROXY_FIELDS);
        assert.deepEqual(seen.remote, { address: '203.0.113.7', port: 0 });
        assert.equal(seen.scheme, 'https');
        assert.deepEqual(seen.server, { address: 'shop.example', port: 8443 });
        assert.ok(names(seen).includes('x-forwarded-for'), 'a trusted proxy\'s fields stay for the app');
      });

      it('removes every X-Forwarded-* and Forwarded field from an untrusted peer, keeps the rest in order', async () => {
        const seen = await ask(port(), { ...PROXY_FIELDS, Forwarded: 'for=198.51.100.1;proto=https' }, OTHER);
        assert.deepEqual(seen.remote.address, OTHER);
        assert.equal(seen.scheme, 'http');
        assert.deepEqual(seen.server, { address: '127.0.0.1', port: port() });
        assert.deepEqual(names(seen), ['x-request-id', 'host', 'connection']);
      });

      it('leaves an untrusted peer\'s request alone when it has no proxy fields', async () => {
        const seen = await ask(port(), { 'X-Request-Id': 'abc', 'X-Forwarded': 'not a proxy field name' }, OTHER);
        assert.deepEqual(names(seen), ['x-request-id', 'x-forwarded', 'host', 'connection']);
      });

      it('reads Forwarded (RFC 7239) with a quoted IPv6 node and port; it wins over X-Forwarded-*', async () => {
        const seen = await ask(port(), { Forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https;host=example.com', 'X-Forwarded-For': '192.0.2.99' });
        assert.deepEqual(seen.remote, { address: '2001:db8:cafe::17', port: 4711 });
        assert.equal(seen.scheme, 'https');
        assert.deepEqual(seen.server, { address: 'example.com', port: 443 });
      });

      it('takes the rightmost untrusted hop: what the client wrote to the left of it is not believed', async () => {
        const seen = await ask(port(), { 'X-Forwarded-For': '10.9.9.9, 203.0.113.7, 127.0.0.1' });
        assert.equal(seen.remote.address, '203.0.113.7');
      });
    });

    describe('--forwarded-allow-ips with CIDR ranges', () => {
      const port = serverWith({ forwardedAllowIps: ['127.0.0.0/8', '203.0.113.0/24'] });

      it('applies them to the peer and to the hops', async () => {
        const seen = await ask(port(), { 'X-Forwarded-For': '198.51.100.5, 203.0.113.7' }, OTHER);
        assert.equal(seen.remote.address, '198.51.100.5');
      });
    });

    describe('--no-proxy-headers', () => {
      const port = serverWith({ proxyHeaders: false });

      it('passes the fields through untouched and believes none', async () => {
        const seen = await ask(port(), PROXY_FIELDS, OTHER);
        assert.equal(seen.remote.address, OTHER);
        assert.equal(seen.scheme, 'http');
        assert.ok(names(seen).includes('x-forwarded-for'));
      });
    });

    describe('--proxy-protocol v1', () => {
      const port = serverWith({ proxyProtocol: 'v1' });

      it('TCP4: the client address reaches the app as remote, the balancer\'s front as server', async () => {
        const seen = bodyOf(await rawExchange(port(), [`PROXY TCP4 198.51.100.22 203.0.113.1 35646 443\r\n${REQUEST}`]));
        assert.deepEqual(seen.remote, { address: '198.51.100.22', port: 35646 });
        assert.deepEqual(seen.server, { address: '203.0.113.1', port: 443 });
      });

      it('TCP6, and a header split into single bytes before the request', async () => {
        const line = 'PROXY TCP6 2001:db8::1 2001:db8::2 1000 80\r\n';
        const seen = bodyOf(await rawExchange(port(), [...line.split(''), REQUEST]));
        assert.deepEqual(seen.remote, { address: '2001:db8::1', port: 1000 });
      });

      it('UNKNOWN (a health check) keeps the socket\'s own addresses', async () => {
        const seen = bodyOf(await rawExchange(port(), [`PROXY UNKNOWN\r\n${REQUEST}`]));
        assert.equal(seen.remote.address, TRUSTED);
      });

      it('judges X-Forwarded-For against the PROXY client address, not the balancer\'s', async () => {
        const seen = bodyOf(await rawExchange(port(), [`PROXY TCP4 198.51.100.22 203.0.113.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n`]));
        assert.equal(seen.remote.address, '198.51.100.22');
        assert.equal(header(seen, 'x-forwarded-for'), null, 'an untrusted client\'s X-Forwarded-For is removed');
      });

      it('closes without a response, and without calling the app, on a missing, malformed or late header', async () => {
        const before = calls();
        const cases: Array<[string, Array<string | Buffer>]> = [
          ['plain HTTP where v1 is required', [REQUEST]],
          ['a bad address', [`PROXY TCP4 999.1.1.1 203.0.113.1 1 2\r\n${REQUEST}`]],
          ['a leading-zero port', [`PROXY TCP4 198.51.100.1 203.0.113.1 01 2\r\n${REQUEST}`]],
          ['no CRLF within 107 bytes', [`PROXY TCP4 ${'1'.repeat(120)}`]],
          ['a bare LF', [`PROXY TCP4 198.51.100.1 203.0.113.1 1 2\n${REQUEST}`]],
          ['a header that never completes (headers timeout)', ['PROXY TCP4 198.51.100.1']],
        ];
        for (const [what, pieces] of cases) assert.equal(await rawExchange(port(), pieces), '', what);
        assert.equal(calls(), before, 'the app was never called');
      });

      it('--proxy-allow-ips (default loopback): a header from another peer closes the connection, even one claiming a trusted proxy\'s address', async () => {
        const before = calls();
        const forged = `PROXY TCP4 127.0.0.1 203.0.113.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.66\r\nConnection: close\r\n\r\n`;
        assert.equal(await rawExchange(port(), [forged], OTHER), '', 'refused: no response');
        assert.equal(calls(), before, 'the app was never called');
        // The same header from an allowed peer is believed (and 127.0.0.1 is a trusted proxy).
        assert.equal(bodyOf(await rawExchange(port(), [forged])).remote.address, '198.51.100.66');
      });
    });

    describe('--proxy-protocol v2', () => {
      const port = serverWith({ proxyProtocol: 'v2' });

      it('IPv4 and IPv6 with the request in the same packet', async () => {
        const four = bodyOf(await rawExchange(port(), [Buffer.concat([v2Inet('192.0.2.10', '192.0.2.20', 5555, 8080), Buffer.from(REQUEST)])]));
        assert.deepEqual(four.remote, { address: '192.0.2.10', port: 5555 });
        assert.deepEqual(four.server, { address: '192.0.2.20', port: 8080 });
        const six = bodyOf(await rawExchange(port(), [Buffer.concat([v2Inet6(7000, 443), Buffer.from(REQUEST)])]));
        assert.deepEqual(six.remote, { address: '2001:db8::1', port: 7000 });
      });

      it('LOCAL (the balancer\'s own health check) keeps the socket\'s addresses; TLVs are skipped', async () => {
        const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP "abc"
        const seen = bodyOf(await rawExchange(port(), [v2(0, 0x00, Buffer.alloc(0), tlv), REQUEST]));
        assert.equal(seen.remote.address, TRUSTED);
      });

      it('closes without a response, and without calling the app, on a wrong version, an oversized or truncated header, or one from a peer not allowed', async () => {
        const before = calls();
        const oversized = v2(1, 0x11, Buffer.alloc(MAX_V2_PAYLOAD + 1));
        const cases: Array<[string, Array<string | Buffer>, string?]> = [
          ['v1 sent where v2 is required', [`PROXY TCP4 198.51.100.1 203.0.113.1 1 2\r\n${REQUEST}`]],
          ['version 3', [Buffer.concat([SIGNATURE, Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12), Buffer.from(REQUEST)])]],
          ['longer than the bound', [oversized.subarray(0, 16)]],
          ['truncated IPv4 addresses', [Buffer.concat([v2(1, 0x11, Buffer.alloc(6)), Buffer.from(REQUEST)])]],
          ['a valid header from a peer not on --proxy-allow-ips', [Buffer.concat([v2Inet('192.0.2.10', '192.0.2.20', 1, 2), Buffer.from(REQUEST)])], OTHER],
        ];
        for (const [what, pieces, from] of cases) assert.equal(await rawExchange(port(), pieces, from), '', what);
        assert.equal(calls(), before, 'the app was never called');
      });
    });

    describe('--proxy-protocol auto with the default --proxy-allow-ips', () => {
      const port = serverWith({ proxyProtocol: 'auto' });

      it('takes either version, and plain HTTP without a header', async () => {
        assert.equal(bodyOf(await rawExchange(port(), [`PROXY TCP4 198.51.100.1 203.0.113.1 1 2\r\n${REQUEST}`])).remote.address, '198.51.100.1');
        assert.equal(bodyOf(await rawExchange(port(), [Buffer.concat([v2Inet('192.0.2.1', '192.0.2.2', 1, 2), Buffer.from(REQUEST)])])).remote.address, '192.0.2.1');
        // "P" could begin "PROXY " or "POST": the server waits for the bytes that decide.
        assert.equal(bodyOf(await rawExchange(port(), ['P', 'OST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'])).remote.address, TRUSTED);
      });

      it('a peer not allowed: its PROXY header closes the connection; without one it is served as itself, its X-Forwarded-For judged against its own address', async () => {
        const before = calls();
        assert.equal(await rawExchange(port(), [`PROXY TCP4 127.0.0.1 203.0.113.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.66\r\nConnection: close\r\n\r\n`], OTHER), '');
        assert.equal(calls(), before, 'the app was never called');
        const plain = bodyOf(await rawExchange(port(), ['GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.66\r\nConnection: close\r\n\r\n'], OTHER));
        assert.equal(plain.remote.address, OTHER);
        assert.equal(header(plain, 'x-forwarded-for'), null, 'not a trusted proxy: its X-Forwarded-For is removed');
      });
    });

    describe('--proxy-allow-ips "*" and --forwarded-allow-ips "*"', () => {
      const port = serverWith({ proxyProtocol: 'auto', proxyAllowIps: ['*'], forwardedAllowIps: ['*'] });

      it('believes a PROXY header from any peer', async () => {
        const seen = bodyOf(await rawExchange(port(), [`PROXY TCP4 198.51.100.9 203.0.113.1 9 2\r\n${REQUEST}`], OTHER));
        assert.deepEqual(seen.remote, { address: '198.51.100.9', port: 9 });
      });

      it('believes X-Forwarded-* from any peer', async () => {
        const seen = await ask(port(), PROXY_FIELDS, OTHER);
        assert.equal(seen.remote.address, '203.0.113.7');
        assert.equal(seen.scheme, 'https');
      });
    });

    describe('--proxy-protocol v1 in front of TLS', () => {
      const certificate = makeCertificate();
      const files = writeCertificate(certificate, dir);
      const port = serverWith({ proxyProtocol: 'v1', certfile: files.certfile, keyfile: files.keyfile });

      it('reads the header off the raw socket before the handshake', async () => {
        const reply = await new Promise<string>((resolve, reject) => {
          const raw = net.connect({ port: port(), host: '127.0.0.1' }, () => {
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
    });
  });
}
