/*
 * --forwarded-allow-ips / --proxy-allow-ips: the allow lists as settings (a bad entry is one
 * line naming it, from the command line or at start), and the header reading itself (hops,
 * CIDR, RFC 7239 quoting) as a pure function. Trust over real sockets under each engine is the
 * shared proxy suite (kit/proxy-suite.ts, proxy.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyTrust, readForwarded } from '../src/net/proxy-headers.js';
import { coerceSetting } from '../src/settings/parse.js';
import type { Application } from '../src/gateway/types.js';
import { startServer } from './kit/server.js';

describe('allow-list settings', () => {
  const app: Application = () => ({ status: 200, body: 'ok' });
  const cli = (flag: string) => ({ kind: 'cli', flag }) as const;

  it('--forwarded-allow-ips and --proxy-allow-ips reject a bad entry when read, naming it and what is allowed', () => {
    assert.throws(() => coerceSetting('forwardedAllowIps', '127.0.0.1,10.0.0.0/40', cli('--forwarded-allow-ips')),
      /forwardedAllowIps = "127\.0\.0\.1,10\.0\.0\.0\/40" from .*: expected IP addresses, CIDR ranges or "\*" \("10\.0\.0\.0\/40": prefix length "40" out of range\)/);
    assert.throws(() => coerceSetting('proxyAllowIps', 'balancer.internal', cli('--proxy-allow-ips')),
      /proxyAllowIps = "balancer\.internal" from .*: expected IP addresses, CIDR ranges or "\*" \("balancer\.internal": not an IP address/);
    assert.deepEqual(coerceSetting('proxyAllowIps', '10.0.0.0/8,*', cli('--proxy-allow-ips')), ['10.0.0.0/8', '*']);
  });

  it('an invalid entry given in code fails at start, naming the setting', async () => {
    await assert.rejects(startServer({ app, settings: { forwardedAllowIps: ['10.0.0.0/40'] } }), /forwarded-allow-ips "10\.0\.0\.0\/40": prefix length/);
    await assert.rejects(startServer({ app, settings: { proxyProtocol: 'v1', proxyAllowIps: ['nope'] } }), /proxy-allow-ips "nope": not an IP address/);
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
