/*
 * --proxy-protocol: the header parser's rules as a pure function, and what only an in-process
 * server can show: a refused header (a peer not on --proxy-allow-ips) is reported on the
 * protocol-error channel at most once per interval, however many arrive. Everything over real
 * sockets under each engine is the shared proxy suite (kit/proxy-suite.ts, proxy.test.ts).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parseProxyHeader } from '../src/net/proxy-protocol.js';
import { channels, type ProtocolErrorMessage } from '../src/diagnostics.js';
import type { Application } from '../src/gateway/types.js';
import { collect } from './kit/channels.js';
import { startServer, type TestServer } from './kit/server.js';
import { SIGNATURE, v2, v2Inet6 } from './kit/proxy-suite.js';

/** Connects from 127.0.0.2, sends `data`, resolves with what came back before the server closed. */
function sendFromOther(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => socket.write(data));
    let reply = '';
    socket.on('data', (chunk) => { reply += chunk.toString('latin1'); });
    socket.on('error', (error: NodeJS.ErrnoException) => { if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(reply); else reject(error); });
    socket.on('close', () => resolve(reply));
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
  });
}

describe('--proxy-allow-ips refusals', () => {
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  it('reports refused headers at most once per interval, not once per connection', async (t) => {
    const app: Application = () => ({ status: 200, body: 'ok' });
    const server = await startServer({ app, settings: { proxyProtocol: 'v1' } });
    servers.push(server);
    const errors = collect<ProtocolErrorMessage>(channels.protocolError);
    t.after(() => errors.stop());
    for (let i = 0; i < 5; i++) {
      assert.equal(await sendFromOther(server.port, 'PROXY TCP4 127.0.0.1 203.0.113.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'), '');
    }
    const refused = errors.messages.filter((m) => m.code === 'ERR_PROXY_NOT_ALLOWED');
    assert.equal(refused.length, 1, 'five refusals, one report');
    assert.match(refused[0]!.remote, /^127\.0\.0\.2:\d+$/);
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
