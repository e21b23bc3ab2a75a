/*
 * The PROXY protocol (HAProxy, https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt):
 * a TCP load balancer prefixes each connection with a header naming the client's address, so
 * the peer address the app sees is the client's, not the balancer's.
 *
 * parseProxyHeader is a pure function of the bytes received so far (no I/O, like the HTTP
 * parser): it says "need more", "not a PROXY header" (auto mode only), an error, or the header
 * and its length. readProxyHeader drives it on a socket before HTTP starts: it reads at most
 * one header's worth (107 bytes for v1, 16 + MAX_V2_PAYLOAD for v2), puts whatever followed the
 * header back on the socket (unshift) for HTTP (or TLS) to read, and gives up on a malformed,
 * missing, oversized or late header; the caller then closes the connection (a balancer that
 * speaks the protocol never sends a bad one, so anything else is not our balancer).
 *
 * Whether a header is believed depends on who sent it (--proxy-allow-ips): the caller checks
 * the peer once the header is read (proxy-allow.ts).
 */
import type { Socket } from 'node:net';
import net from 'node:net';
import { GatehouseError } from '../errors/index.js';
import type { SocketAddress } from '../gateway/types.js';

export type ProxyProtocolMode = 'v1' | 'v2' | 'auto';

/** Longest v1 header: "PROXY TCP6 " + two full IPv6 addresses + two ports + CRLF (spec §2.1). */
export const MAX_V1_LENGTH = 107;
/** Bytes of addresses and TLVs a v2 header may carry; a real balancer sends far fewer. */
export const MAX_V2_PAYLOAD = 4096;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** The connection as the balancer saw it; null addresses: LOCAL / UNKNOWN (a health check), keep the socket's. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly source: SocketAddress | null;
  readonly destination: SocketAddress | null;
}

export type ProxyParse =
  | { readonly kind: 'more' }
  | { readonly kind: 'none' }
  | { readonly kind: 'error'; readonly reason: string }
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly length: number };

const MORE: ProxyParse = { kind: 'more' };
const NONE: ProxyParse = { kind: 'none' };

function fail(reason: string): ProxyParse {
  return { kind: 'error', reason };
}

/** Whether `data` so far could still be the start of `prefix`, and whether it already holds all of it. */
function prefixState(data: Uint8Array, prefix: Uint8Array): 'no' | 'partial' | 'full' {
  const n = Math.min(data.length, prefix.length);
  for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return 'no';
  return data.length >= prefix.length ? 'full' : 'partial';
}

export function parseProxyHeader(data: Buffer, mode: ProxyProtocolMode): ProxyParse {
  if (data.length === 0) return MORE;
  if (mode !== 'v2') {
    const v1 = prefixState(data, V1_PREFIX);
    if (v1 === 'full') return parseV1(data);
    if (v1 === 'partial') return MORE;
  }
  if (mode !== 'v1') {
    const v2 = prefixState(data, V2_SIGNATURE);
    if (v2 === 'full') return parseV2(data);
    if (v2 === 'partial') return MORE;
  }
  if (mode === 'auto') return NONE;
  return fail(`the connection does not start with a PROXY ${mode} header`);
}

// ---- v1: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n" ----

function parseV1(data: Buffer): ProxyParse {
  const limit = Math.min(data.length, MAX_V1_LENGTH);
  let cr = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    if (data[i] === 0x0d) { cr = i; break; }
    if (data[i] === 0x0a) return fail('v1 header has a bare LF');
  }
  if (cr === -1) return data.length >= MAX_V1_LENGTH ? fail(`v1 header longer than ${MAX_V1_LENGTH} bytes`) : MORE;
  if (cr + 1 >= data.length) return MORE;
  if (data[cr + 1] !== 0x0a) return fail('v1 header line does not end in CRLF');
  const length = cr + 2;
  const fields = data.toString('latin1', V1_PREFIX.length, cr).split(' ');
  const protocol = fields[0];
  if (protocol === 'UNKNOWN') return { kind: 'header', header: { version: 1, source: null, destination: null }, length };
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return fail(`v1 protocol "${protocol}" is not TCP4, TCP6 or UNKNOWN`);
  if (fields.length !== 5) return fail('v1 header needs: protocol, source, destination, source port, destination port');
  const [, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string];
  const family = protocol === 'TCP4' ? 4 : 6;
  if (net.isIP(source) !== family || net.isIP(destination) !== family) return fail(`v1 addresses are not ${protocol === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  const sport = v1Port(sourcePort);
  const dport = v1Port(destinationPort);
  if (sport < 0 || dport < 0) return fail('v1 port is not 0-65535');
  return { kind: 'header', header: { version: 1, source: { address: source, port: sport }, destination: { address: destination, port: dport } }, length };
}

/** Decimal 0-65535, no leading zeros (spec §2.1). */
function v1Port(text: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return -1;
  const port = Number(text);
  return port <= 65535 ? port : -1;
}

// ---- v2: signature, ver/cmd, family/transport, length, addresses, TLVs ----

function parseV2(data: Buffer): ProxyParse {
  if (data.length < 16) return MORE;
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return fail(`v2 version ${versionCommand >> 4} is not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) return fail(`v2 command ${command} is not LOCAL or PROXY`);
  const payload = data.readUInt16BE(14);
  if (payload > MAX_V2_PAYLOAD) return fail(`v2 header carries ${payload} bytes, more than ${MAX_V2_PAYLOAD}`);
  const length = 16 + payload;
  if (data.length < length) return MORE;
  // LOCAL: the balancer's own connection (health checks); addresses, if any, are ignored.
  if (command === 0) return { kind: 'header', header: { version: 2, source: null, destination: null }, length };
  const family = data[13]! >> 4;
  const transport = data[13]! & 0x0f;
  if (family === 0) return { kind: 'header', header: { version: 2, source: null, destination: null }, length };
  if (transport !== 1) return fail('v2 transport is not STREAM');
  const at = 16;
  if (family === 1) {
    if (payload < 12) return fail('v2 IPv4 addresses are truncated');
    return header2(ipv4(data, at), ipv4(data, at + 4), data.readUInt16BE(at + 8), data.readUInt16BE(at + 10), length);
  }
  if (family === 2) {
    if (payload < 36) return fail('v2 IPv6 addresses are truncated');
    return header2(ipv6(data, at), ipv6(data, at + 16), data.readUInt16BE(at + 32), data.readUInt16BE(at + 34), length);
  }
  if (family === 3) {
    if (payload < 216) return fail('v2 Unix addresses are truncated');
    return header2(cString(data, at, 108), cString(data, at + 108, 108), 0, 0, length);
  }
  return fail(`v2 address family ${family} is unknown`);
}

function header2(source: string, destination: string, sport: number, dport: number, length: number): ProxyParse {
  return { kind: 'header', header: { version: 2, source: { address: source, port: sport }, destination: { address: destination, port: dport } }, length };
}

function ipv4(data: Buffer, at: number): string {
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
}

/** RFC 5952 text: lower-case hex, no leading zeros, the longest run of 2+ zero groups as "::". */
function ipv6(data: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(at + i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  if (bestStart === 0 && bestLength === 5 && groups[5] === 0xffff) return `::ffff:${ipv4(data, at + 12)}`;
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function cString(data: Buffer, at: number, size: number): string {
  const end = data.indexOf(0, at);
  return data.toString('utf8', at, end === -1 || end > at + size ? at + size : end);
}

// ---- on a socket ----

export type ProxyReadResult =
  | { readonly ok: true; readonly header: ProxyHeader | null }
  | { readonly ok: false; readonly error: GatehouseError };

/**
 * Reads the PROXY header off `socket` before anything else does. Calls `done` once: with the
 * header (null in auto mode when the connection has none), the socket paused and the bytes
 * after the header unshifted; or with an error, when the caller must destroy the socket.
 * `timeoutMs` > 0 bounds the wait.
 */
export function readProxyHeader(socket: Socket, mode: ProxyProtocolMode, timeoutMs: number, done: (result: ProxyReadResult) => void): void {
  let buffered: Buffer | null = null;
  let finished = false;
  const finish = (result: ProxyReadResult, rest: Buffer | null): void => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.off('error', onEnd);
    if (result.ok) {
      socket.pause();
      if (rest !== null && rest.length > 0) socket.unshift(rest);
    }
    done(result);
  };
  const failWith = (reason: string): void => finish({ ok: false, error: new GatehouseError('ERR_PROXY_PROTOCOL', reason) }, null);
  const onData = (chunk: Buffer): void => {
    buffered = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    const parsed = parseProxyHeader(buffered, mode);
    switch (parsed.kind) {
      case 'more': return;
      case 'none': finish({ ok: true, header: null }, buffered); return;
      case 'error': failWith(parsed.reason); return;
      case 'header': finish({ ok: true, header: parsed.header }, buffered.subarray(parsed.length)); return;
    }
  };
  const onEnd = (): void => failWith('the connection closed before its PROXY header was complete');
  const timer = timeoutMs > 0 ? setTimeout(() => failWith(`no complete PROXY header within ${timeoutMs} ms`), timeoutMs) : undefined;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', onEnd);
  socket.resume();
}
