/*
 * Behind a reverse proxy: whose X-Forwarded-For/-Proto/-Host/-Port and Forwarded (RFC 7239)
 * headers are believed, and what they change.
 *
 * Trust is decided once per connection from the peer address (--forwarded-allow-ips: exact
 * addresses, CIDR ranges, or "*"; a Unix-socket peer is trusted, as in Gunicorn, because only
 * local processes allowed by the file's mode can connect). Per request, with --proxy-headers:
 * - peer trusted: the headers stay, and the request's remote address, scheme and server
 *   host/port are taken from them;
 * - peer not trusted: every X-Forwarded-* field and Forwarded is REMOVED before the app sees
 *   the request (Waitress's clear_untrusted_proxy_headers), so an app that reads them itself
 *   cannot be fooled by a client.
 * A request without such fields costs one pass over its header names.
 *
 * Which hop is the client: proxies append to X-Forwarded-For and Forwarded, so the list is read
 * from the right, skipping addresses that are themselves trusted proxies; the first untrusted
 * one is the client (all trusted: the leftmost). Anything left of it was written by whoever
 * the client is, and is not believed. The scheme and host are read from the same hop (the
 * Forwarded element, or the X-Forwarded-Proto/-Host entry at the same index when the lists line
 * up; else their last entry, the one the nearest proxy wrote). Forwarded wins over
 * X-Forwarded-* when both are present.
 */
import net from 'node:net';
import { GatehouseError } from '../errors/index.js';
import type { SocketAddress } from '../gateway/types.js';

export class ProxyTrust {
  readonly #all: boolean;
  /** Exact addresses: a Set lookup, far cheaper than BlockList.check (docs/benchmarks.md, section 'Proxy trust'). */
  readonly #exact: Set<string>;
  /** CIDR ranges, or null when there are none. */
  readonly #ranges: net.BlockList | null;

  private constructor(all: boolean, exact: Set<string>, ranges: net.BlockList | null) {
    this.#all = all;
    this.#exact = exact;
    this.#ranges = ranges;
  }

  /** Parses an allow list (`flag` names it in the error); throws ERR_SETTING_INVALID naming the bad entry. */
  static parse(values: readonly string[], flag = '--forwarded-allow-ips'): ProxyTrust {
    const parsed = parseAllowList(values);
    if ('problem' in parsed) throw new GatehouseError('ERR_SETTING_INVALID', `${flag} "${parsed.entry}": ${parsed.problem}`);
    return new ProxyTrust(parsed.all, parsed.exact, parsed.ranges);
  }

  /** '' is a Unix-socket peer. */
  trusts(address: string): boolean {
    if (this.#all || address === '') return true;
    const ip = unmapIPv4(address);
    if (this.#exact.has(ip)) return true;
    if (this.#ranges === null) return false;
    const family = net.isIP(ip);
    if (family === 0) return false;
    return this.#ranges.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

type AllowList = { all: boolean; exact: Set<string>; ranges: net.BlockList | null };

/** What an allow list holds, or its first bad entry and what is wrong with it. */
function parseAllowList(values: readonly string[]): AllowList | { entry: string; problem: string } {
  const exact = new Set<string>();
  const ranges = new net.BlockList();
  let all = false;
  let anyRange = false;
  for (const raw of values.flatMap((value) => value.split(','))) {
    const value = raw.trim();
    if (value === '') continue;
    if (value === '*') { all = true; continue; }
    const problem = addEntry(exact, ranges, value);
    if (problem) return { entry: value, problem };
    if (value.includes('/')) anyRange = true;
  }
  return { all, exact, ranges: anyRange ? ranges : null };
}

/** The settings table's validator of an allow list (--forwarded-allow-ips, --proxy-allow-ips); undefined when valid. */
export function allowIpsProblem(values: readonly string[]): string | undefined {
  const parsed = parseAllowList(values);
  return !('problem' in parsed) ? undefined : `IP addresses, CIDR ranges or "*" ("${parsed.entry}": ${parsed.problem})`;
}

function addEntry(exact: Set<string>, list: net.BlockList, value: string): string | undefined {
  const slash = value.indexOf('/');
  const ip = slash === -1 ? value : value.slice(0, slash);
  const family = net.isIP(ip);
  if (family === 0) return 'not an IP address, a CIDR range or "*"';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) { exact.add(family === 6 ? canonicalIPv6(ip) : ip); return undefined; }
  const bitsText = value.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > (family === 4 ? 32 : 128)) return `prefix length "${bitsText}" out of range`;
  list.addSubnet(ip, bits, type);
  return undefined;
}

/** Sockets report IPv4 peers of a dual-stack listener as ::ffff:a.b.c.d. */
function unmapIPv4(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 /* : */ && address.startsWith('::ffff:') && net.isIPv4(address.slice(7))) return address.slice(7);
  return address.includes(':') && net.isIPv6(address) ? canonicalIPv6(address) : address;
}

/** One spelling per IPv6 address (what sockets report), so a Set lookup matches any spelling. */
function canonicalIPv6(address: string): string {
  const url = new URL(`http://[${address}]/`);
  return url.hostname.slice(1, -1);
}

/** What trusted proxy headers say about a request; absent fields keep the socket's view. */
export interface ForwardedView {
  /** The header list with the proxy fields removed (untrusted peer), or null (unchanged). */
  readonly rawHeaders: string[] | null;
  readonly remote?: SocketAddress;
  readonly scheme?: 'http' | 'https';
  readonly server?: SocketAddress;
}

/** Lower-cased names this module owns: `forwarded` and every `x-forwarded-*`. */
function isProxyField(name: string): boolean {
  const first = name.charCodeAt(0);
  if (first === 120 /* x */) return name.length > 12 && name.startsWith('x-forwarded-');
  return first === 102 /* f */ && name === 'forwarded';
}

/**
 * Applies --proxy-headers to one request's header list (flat [name, value, ...], lower-cased
 * names). Returns null when the request carries no proxy field (nothing changes).
 */
export function readForwarded(rawHeaders: readonly string[], peerTrusted: boolean, trust: ProxyTrust): ForwardedView | null {
  let found = -1;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (isProxyField(rawHeaders[i]!)) { found = i; break; }
  }
  if (found === -1) return null;
  if (!peerTrusted) {
    const kept = rawHeaders.slice(0, found);
    for (let i = found + 2; i < rawHeaders.length; i += 2) {
      if (!isProxyField(rawHeaders[i]!)) kept.push(rawHeaders[i]!, rawHeaders[i + 1]!);
    }
    return { rawHeaders: kept };
  }
  const fields = collect(rawHeaders, found);
  return fields.forwarded !== undefined ? fromForwarded(fields.forwarded, trust) : fromXForwarded(fields, trust);
}

interface ProxyFields { forwarded?: string; for?: string; proto?: string; host?: string; port?: string }

/** Repeated fields are one comma-separated list (RFC 9110 §5.3). */
function collect(rawHeaders: readonly string[], from: number): ProxyFields {
  const fields: ProxyFields = {};
  const add = (key: keyof ProxyFields, value: string): void => { fields[key] = fields[key] === undefined ? value : `${fields[key]}, ${value}`; };
  for (let i = from; i < rawHeaders.length; i += 2) {
    switch (rawHeaders[i]) {
      case 'forwarded': add('forwarded', rawHeaders[i + 1]!); break;
      case 'x-forwarded-for': add('for', rawHeaders[i + 1]!); break;
      case 'x-forwarded-proto': add('proto', rawHeaders[i + 1]!); break;
      case 'x-forwarded-host': add('host', rawHeaders[i + 1]!); break;
      case 'x-forwarded-port': add('port', rawHeaders[i + 1]!); break;
    }
  }
  return fields;
}

function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** Index of the client hop in a list of node addresses (see the header comment). */
function clientIndex(addresses: readonly string[], trust: ProxyTrust): number {
  for (let i = addresses.length - 1; i >= 0; i--) {
    if (!trust.trusts(addresses[i]!)) return i;
  }
  return 0;
}

function fromXForwarded(fields: ProxyFields, trust: ProxyTrust): ForwardedView {
  const hops = splitList(fields.for).map(parseNode);
  const index = hops.length > 0 ? clientIndex(hops.map((hop) => hop.address), trust) : -1;
  const pick = (value: string | undefined): string | undefined => {
    const list = splitList(value);
    if (list.length === 0) return undefined;
    return list.length === hops.length && index >= 0 ? list[index] : list[list.length - 1];
  };
  return view(index >= 0 ? hops[index] : undefined, pick(fields.proto), pick(fields.host), pick(fields.port));
}

function fromForwarded(value: string, trust: ProxyTrust): ForwardedView {
  const elements = splitForwarded(value);
  const hops = elements.map((element) => element.for !== undefined ? parseNode(element.for) : { address: '', port: 0 });
  const index = clientIndex(hops.map((hop) => hop.address || 'unknown'), trust);
  const element = elements[index];
  if (element === undefined) return { rawHeaders: null };
  return view(element.for !== undefined ? hops[index] : undefined, element.proto, element.host, undefined);
}

function view(client: SocketAddress | undefined, proto: string | undefined, host: string | undefined, port: string | undefined): ForwardedView {
  const scheme = proto === undefined ? undefined : proto.toLowerCase() === 'https' ? 'https' : proto.toLowerCase() === 'http' ? 'http' : undefined;
  let server: SocketAddress | undefined;
  if (host !== undefined || port !== undefined) {
    const parsed = host !== undefined ? parseHost(host) : { address: '', port: 0 };
    const explicit = port !== undefined && /^\d{1,5}$/.test(port) ? Number(port) : 0;
    server = { address: parsed.address, port: explicit || parsed.port || (scheme === 'https' ? 443 : scheme === 'http' ? 80 : 0) };
  }
  return { rawHeaders: null, remote: client, scheme, server };
}

/** "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711", "2001:db8::1", "unknown", "_hidden". */
function parseNode(text: string): SocketAddress {
  const value = unquote(text);
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close !== -1) return { address: value.slice(1, close), port: portOf(value.slice(close + 2)) };
  }
  const colon = value.indexOf(':');
  if (colon !== -1 && value.indexOf(':', colon + 1) === -1) return { address: value.slice(0, colon), port: portOf(value.slice(colon + 1)) };
  return { address: value, port: 0 };
}

/** A Host value: "example.com", "example.com:8443", "[::1]:8443". */
function parseHost(text: string): SocketAddress {
  const value = unquote(text);
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close !== -1) return { address: value.slice(1, close), port: portOf(value.slice(close + 2)) };
  }
  const colon = value.lastIndexOf(':');
  if (colon !== -1 && value.indexOf(':') === colon) return { address: value.slice(0, colon), port: portOf(value.slice(colon + 1)) };
  return { address: value, port: 0 };
}

function portOf(text: string): number {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : 0;
}

function unquote(text: string): string {
  const value = text.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

interface ForwardedElement { for?: string; proto?: string; host?: string }

/**
 * RFC 7239 §4: Forwarded = 1#forwarded-element; forwarded-element = [ forwarded-pair ]
 * *( ";" [ forwarded-pair ] ); forwarded-pair = token "=" value; value = token / quoted-string.
 * Commas and semicolons inside quoted strings do not split.
 */
function splitForwarded(value: string): ForwardedElement[] {
  const elements: ForwardedElement[] = [];
  let element: ForwardedElement = {};
  let pair = '';
  let quoted = false;
  const endPair = (): void => {
    const eq = pair.indexOf('=');
    if (eq > 0) {
      const name = pair.slice(0, eq).trim().toLowerCase();
      const text = pair.slice(eq + 1).trim();
      if (name === 'for' || name === 'proto' || name === 'host') element[name] ??= unquote(text);
    }
    pair = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      pair += c;
      if (c === '\\' && i + 1 < value.length) pair += value[++i];
      else if (c === '"') quoted = false;
    } else if (c === '"') { quoted = true; pair += c; }
    else if (c === ';') endPair();
    else if (c === ',') { endPair(); elements.push(element); element = {}; }
    else pair += c;
  }
  endPair();
  elements.push(element);
  return elements;
}
