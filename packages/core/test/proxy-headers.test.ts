/*
 * --forwarded-allow-ips / --proxy-headers over real sockets: a trusted peer (127.0.0.1, the
 * default) and an untrusted one (127.0.0.2, a second loopback source address) send the same
 * X-Forwarded-* and Forwarded fields; what the app sees differs as a user relies on. Then
 * the header reading itself (hops, CIDR, RFC 7239 quoting) as a pure function.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ProxyTrust, readForwarded } from '../src/net/proxy-headers.js';
import type { Application } from '../src/gateway/types.js';
import type { Settings } from '../src/settings/table.js';
import { startServer, type TestServer } from './kit/server.js';

interface Seen {
  scheme: string;
  remote: { address: string; port: number };
  server: { address: string; port: number };
  headers: Array<[string, string]>;
}

const app: Application = (request) => ({
  status: 200,
  headers: [['content-type', 'application/json']],
  body: JSON.stringify({ scheme: request.scheme, remote: request.remote, server: request.server, headers: [...request.headers] }),
});

function ask(port: number, headers: Record<string, string | string[]>, from = '127.0.0.1'): Promise<Seen> {
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

const PROXY_FIELDS = {
  'X-Forwarded-For': '203.0.113.7',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'shop.example',
  'X-Forwarded-Port': '8443',
  'X-Forwarded-Prefix': '/api',
  'X-Request-Id': 'abc',
};

function names(seen: Seen): string[] {
  return seen.headers.map(([name]) => name);
}

describe('proxy headers over real sockets', { timeout: 30_000 }, () => {
  const servers: TestServer[] = [];
  const start = async (settings: Partial<Settings> = {}): Promise<number> => {
    const server = await startServer({ app, settings });
    servers.push(server);
    return server.port;
  };
  let defaults = 0;
  before(async () => { defaults = await start(); });
  after(() => Promise.all(servers.map((s) => s.close())));

  it('believes a loopback proxy by default: remote address, scheme, server host and port', async () => {
    const seen = await ask(defaults, PROXY_FIELDS);
    assert.deepEqual(seen.remote, { address: '203.0.113.7', port: 0 });
    assert.equal(seen.scheme, 'https');
    assert.deepEqual(seen.server, { address: 'shop.example', port: 8443 });
    assert.ok(names(seen).includes('x-forwarded-for'), 'a trusted proxy\'s fields stay for the app');
  });

  it('removes every X-Forwarded-* and Forwarded field from an untrusted peer, keeps the rest in order', async () => {
    const seen = await ask(defaults, { ...PROXY_FIELDS, Forwarded: 'for=198.51.100.1;proto=https' }, '127.0.0.2');
    assert.deepEqual(seen.remote.address, '127.0.0.2');
    assert.equal(seen.scheme, 'http');
    assert.deepEqual(seen.server, { address: '127.0.0.1', port: defaults });
    assert.deepEqual(names(seen).filter((n) => n.startsWith('x-forwarded') || n === 'forwarded'), []);
    assert.deepEqual(names(seen), ['x-request-id', 'host', 'connection']);
  });

  it('leaves an untrusted peer\'s request alone when it has no proxy fields', async () => {
    const seen = await ask(defaults, { 'X-Request-Id': 'abc', 'X-Forwarded': 'not a proxy field name' }, '127.0.0.2');
    assert.deepEqual(names(seen), ['x-request-id', 'x-forwarded', 'host', 'connection']);
  });

  it('reads Forwarded (RFC 7239) with a quoted IPv6 node and port; it wins over X-Forwarded-*', async () => {
    const seen = await ask(defaults, { Forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https;host=example.com', 'X-Forwarded-For': '192.0.2.99' });
    assert.deepEqual(seen.remote, { address: '2001:db8:cafe::17', port: 4711 });
    assert.equal(seen.scheme, 'https');
    assert.deepEqual(seen.server, { address: 'example.com', port: 443 });
  });

  it('takes the rightmost untrusted hop: what the client wrote to the left of it is not believed', async () => {
    const seen = await ask(defaults, { 'X-Forwarded-For': '10.9.9.9, 203.0.113.7, 127.0.0.1' });
    assert.equal(seen.remote.address, '203.0.113.7');
  });

  it('--forwarded-allow-ips takes CIDR ranges, for the peer and for the hops', async () => {
    const port = await start({ forwardedAllowIps: ['127.0.0.0/8', '203.0.113.0/24'] });
    const seen = await ask(port, { 'X-Forwarded-For': '198.51.100.5, 203.0.113.7' }, '127.0.0.2');
    assert.equal(seen.remote.address, '198.51.100.5');
  });

  it('--forwarded-allow-ips "*" trusts every peer', async () => {
    const port = await start({ forwardedAllowIps: ['*'] });
    const seen = await ask(port, PROXY_FIELDS, '127.0.0.2');
    assert.equal(seen.remote.address, '203.0.113.7');
    assert.equal(seen.scheme, 'https');
  });

  it('--no-proxy-headers passes the fields through untouched and believes none', async () => {
    const port = await start({ proxyHeaders: false });
    const seen = await ask(port, PROXY_FIELDS, '127.0.0.2');
    assert.equal(seen.remote.address, '127.0.0.2');
    assert.equal(seen.scheme, 'http');
    assert.ok(names(seen).includes('x-forwarded-for'));
  });

  it('an invalid --forwarded-allow-ips entry fails at start, naming it', async () => {
    await assert.rejects(startServer({ app, settings: { forwardedAllowIps: ['10.0.0.0/40'] } }), /forwarded-allow-ips "10\.0\.0\.0\/40": prefix length/);
  });
});

describe('readForwarded', () => {
  const loopback = ProxyTrust.parse(['127.0.0.1', '::1']);
  const flat = (fields: Record<string, string>): string[] => Object.entries(fields).flatMap(([k, v]) => [k, v]);

  it('returns null for a request without proxy fields (nothing to do)', () => {
    assert.equal(readForwarded(flat({ host: 'a', 'x-forwarded': 'b' }), true, loopback), null);
  });

  it('lines X-Forwarded-Proto up with the chosen X-Forwarded-For hop when the lists match', () => {
    const view = readForwarded(flat({ 'x-forwarded-for': '198.51.100.1, 127.0.0.1', 'x-forwarded-proto': 'https, http' }), true, loopback)!;
    assert.equal(view.remote?.address, '198.51.100.1');
    assert.equal(view.scheme, 'https');
  });

  it('takes the last X-Forwarded-Proto (the nearest proxy\'s) when the lists do not line up', () => {
    const view = readForwarded(flat({ 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'http, https' }), true, loopback)!;
    assert.equal(view.scheme, 'https');
  });

  it('joins repeated fields in order (RFC 9110 §5.3)', () => {
    const view = readForwarded(['x-forwarded-for', '198.51.100.1', 'x-forwarded-for', '203.0.113.9'], true, loopback)!;
    assert.equal(view.remote?.address, '203.0.113.9');
  });

  it('splits Forwarded on commas outside quotes only', () => {
    const view = readForwarded(flat({ forwarded: 'for="198.51.100.1";host="a,b.example", for=127.0.0.1' }), true, loopback)!;
    assert.equal(view.remote?.address, '198.51.100.1');
    assert.equal(view.server?.address, 'a,b.example');
  });

  it('ignores a scheme that is neither http nor https', () => {
    assert.equal(readForwarded(flat({ 'x-forwarded-proto': 'gopher' }), true, loopback)!.scheme, undefined);
  });

  it('trusts IPv4-mapped IPv6 peers as their IPv4 address, and Unix-socket peers', () => {
    assert.equal(loopback.trusts('::ffff:127.0.0.1'), true);
    assert.equal(loopback.trusts(''), true);
    assert.equal(loopback.trusts('127.0.0.2'), false);
    assert.equal(loopback.trusts('unknown'), false);
  });
});
