/*
 * The meaning of the few request fields that decide framing and connection handling:
 * Content-Length, Transfer-Encoding, Connection, Expect, and the request-target's form.
 * The parser has already checked that every value is made of field-value bytes; these
 * functions check the field's own grammar. They work on latin1 strings with charCodeAt and
 * table lookups (no regex, no split) because they run for most requests.
 *
 * Decisions (RFC 9112 leaves some of them to the server):
 * - Content-Length must be plain digits, once. A repeated Content-Length is refused even when
 *   the values agree (RFC 9110 8.6 lets a server accept equal copies; refusing is simpler and
 *   closes a smuggling gap between proxies that disagree about it).
 * - Transfer-Encoding: we decode only chunked. `chunked` must be the last coding (else 400,
 *   RFC 9112 6.3), must appear once, and takes no parameters. `identity` before it is a no-op
 *   and accepted; any other coding (gzip, deflate, compress, an unknown token) is 501 (RFC 9112
 *   6.1: a server that does not understand a coding SHOULD answer 501), so `gzip, chunked` is
 *   501 and `chunked, gzip` is 400. A list whose last coding is unknown is 501 too.
 * - absolute-form targets must look like `scheme://host[:port]...` (what proxies and clients
 *   send), with no userinfo; a CONNECT target must be `host:port`; `*` only for OPTIONS.
 * - Host must be a valid uri-host [ ":" port ] or empty (RFC 9112 3.2: any other value is 400).
 */
import { COMMA, DQUOTE, BACKSLASH, EQUALS, SEMICOLON, TCHAR, DIGIT, OWS, QDTEXT, QUOTED_PAIR, SCHEME, REG_NAME, HEX_VALUE } from './grammar.js';

/** Bits of the Connection field's options that we act on (RFC 9110 7.6.1). */
export const CONNECTION_CLOSE = 1;
export const CONNECTION_KEEP_ALIVE = 2;
export const CONNECTION_UPGRADE = 4;

/**
 * RFC 9110 8.6: Content-Length = 1*DIGIT. Returns -1 when the value is not plain digits or
 * does not fit a safe integer (at most 16 digits, <= Number.MAX_SAFE_INTEGER).
 */
export function parseContentLength(value: string): number {
  const n = value.length;
  if (n === 0 || n > 16) return -1;
  let length = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (DIGIT[c] === 0) return -1;
    length = length * 10 + (c - 0x30);
  }
  return length <= Number.MAX_SAFE_INTEGER ? length : -1;
}

/** Case-insensitive comparison of value[start, start+lower.length) with an ASCII lower-case literal. */
function equalsLower(value: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  // `| 0x20` folds A-Z onto a-z; it can only also map control bytes (%x00-1F) onto the
  // literal's digits and '-', and field values never contain control bytes.
  for (let i = 0; i < lower.length; i++) if ((value.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * RFC 9110 7.6.1: Connection = #connection-option; connection-option = token.
 * Returns a mask of CONNECTION_* bits. Elements that are not close/keep-alive/upgrade are
 * ignored (they only name hop-by-hop fields), and so are empty list elements (RFC 9110 5.6.1
 * tells recipients to accept them).
 */
export function connectionOptions(value: string): number {
  let mask = 0;
  const n = value.length;
  let start = 0;
  while (start <= n) {
    let stop = value.indexOf(',', start);
    if (stop === -1) stop = n;
    let s = start;
    let e = stop;
    while (s < e && OWS[value.charCodeAt(s)] === 1) s++;
    while (e > s && OWS[value.charCodeAt(e - 1)] === 1) e--;
    const len = e - s;
    if (len === 5) { if (equalsLower(value, s, e, 'close')) mask |= CONNECTION_CLOSE; }
    else if (len === 10) { if (equalsLower(value, s, e, 'keep-alive')) mask |= CONNECTION_KEEP_ALIVE; }
    else if (len === 7) { if (equalsLower(value, s, e, 'upgrade')) mask |= CONNECTION_UPGRADE; }
    start = stop + 1;
  }
  return mask;
}

/** RFC 9110 10.1.1: the only expectation defined is "100-continue" (case-insensitive). */
export function isContinueExpectation(value: string): boolean {
  return equalsLower(value, 0, value.length, '100-continue');
}

export interface TransferCoding {
  /** Lower-cased coding name. */
  readonly name: string;
  readonly hasParameters: boolean;
}

/**
 * RFC 9112 7 / RFC 9110 10.1.4:
 *   Transfer-Encoding   = #transfer-coding
 *   transfer-coding     = token *( OWS ";" OWS transfer-parameter )
 *   transfer-parameter  = token BWS "=" BWS ( token / quoted-string )
 * Appends each coding to `into`. Returns false on a syntax error, which includes empty list
 * elements (`chunked,`, `, chunked`): RFC 9110 5.6.1 would let us skip them, but a sender of
 * framing information has no business sending them, and lenient list parsing of this field is
 * where request smuggling lives. OWS is SP/HTAB only; other whitespace bytes are errors.
 */
export function parseTransferCodings(value: string, into: TransferCoding[]): boolean {
  const n = value.length;
  let i = 0;
  for (;;) {
    while (i < n && OWS[value.charCodeAt(i)] === 1) i++;
    const nameStart = i;
    while (i < n && TCHAR[value.charCodeAt(i)] !== 0) i++;
    if (i === nameStart) return false; // empty element or a non-token byte
    const name = value.slice(nameStart, i).toLowerCase();
    let hasParameters = false;
    for (;;) {
      while (i < n && OWS[value.charCodeAt(i)] === 1) i++;
      if (i === n || value.charCodeAt(i) !== SEMICOLON) break;
      i++;
      while (i < n && OWS[value.charCodeAt(i)] === 1) i++;
      const paramStart = i;
      while (i < n && TCHAR[value.charCodeAt(i)] !== 0) i++;
      if (i === paramStart) return false;
      while (i < n && OWS[value.charCodeAt(i)] === 1) i++;
      if (i === n || value.charCodeAt(i) !== EQUALS) return false;
      i++;
      while (i < n && OWS[value.charCodeAt(i)] === 1) i++;
      const end = scanTokenOrQuotedString(value, i, n);
      if (end < 0) return false;
      i = end;
      hasParameters = true;
    }
    into.push({ name, hasParameters });
    if (i === n) return true;
    if (value.charCodeAt(i) !== COMMA) return false;
    i++;
  }
}

/** Returns the index after a token or quoted-string starting at `i`, or -1. Works on strings. */
function scanTokenOrQuotedString(value: string, i: number, n: number): number {
  if (i < n && value.charCodeAt(i) === DQUOTE) {
    i++;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === DQUOTE) return i + 1;
      if (c === BACKSLASH) {
        if (i + 1 >= n || QUOTED_PAIR[value.charCodeAt(i + 1)] === 0) return -1;
        i += 2;
      } else if (QDTEXT[c] === 1) i++;
      else return -1;
    }
    return -1;
  }
  const start = i;
  while (i < n && TCHAR[value.charCodeAt(i)] !== 0) i++;
  return i === start ? -1 : i;
}

/** Codings registered for HTTP (RFC 9110 18.7 plus the x- aliases), which we recognise but do not decode. */
const KNOWN_CODINGS = new Set(['chunked', 'compress', 'deflate', 'gzip', 'x-compress', 'x-gzip', 'identity']);

/** The verdict on a Transfer-Encoding list: chunked framing, or why not. */
export type TransferVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 400 | 501; readonly detail: string };

const CHUNKED_OK: TransferVerdict = { ok: true };

export function judgeTransferCodings(codings: readonly TransferCoding[]): TransferVerdict {
  let chunkedCount = 0;
  for (const coding of codings) if (coding.name === 'chunked') chunkedCount++;
  if (chunkedCount > 1) return { ok: false, status: 400, detail: 'chunked transfer-coding applied more than once' };
  const last = codings[codings.length - 1]!;
  if (last.name !== 'chunked') {
    return KNOWN_CODINGS.has(last.name)
      ? { ok: false, status: 400, detail: 'chunked is not the final transfer-coding' }
      : { ok: false, status: 501, detail: `unknown transfer-coding "${last.name}"` };
  }
  if (last.hasParameters) return { ok: false, status: 400, detail: 'chunked transfer-coding takes no parameters' };
  for (let i = 0; i < codings.length - 1; i++) {
    const name = codings[i]!.name;
    if (name !== 'identity') return { ok: false, status: 501, detail: `transfer-coding "${name}" is not supported` };
  }
  return CHUNKED_OK;
}

/**
 * RFC 9112 3.2: which request-target form fits which method.
 *   origin-form    = absolute-path [ "?" query ]      any method but CONNECT
 *   absolute-form  = absolute-URI                      any method but CONNECT
 *   authority-form = uri-host ":" port                 CONNECT only, and always for CONNECT
 *   asterisk-form  = "*"                               OPTIONS only
 * An absolute-form target must be `scheme "://" host [ ":" port ]` and then its path: the
 * authority is what the server uses instead of Host (RFC 9112 3.2.2), so it is held to the Host
 * grammar (isHostPort), with a host that is not empty (RFC 9110 4.2.1: an "http" URI with an
 * empty host MUST be rejected as invalid) and no userinfo (RFC 9110 4.2.4: a recipient SHOULD
 * treat userinfo in an "http" or "https" URI as an error; it hides the real host). The path,
 * query and fragment bytes are left to the application. A CONNECT target must have a port.
 * Returns null when the target fits, else what is wrong. The bytes are already VCHAR.
 */
export function targetFormError(method: string, target: string): string | null {
  const first = target.charCodeAt(0);
  if (method === 'CONNECT') return isAuthorityForm(target) ? null : 'CONNECT needs an authority-form target (host:port)';
  if (first === 0x2f /* / */) return null;
  if (first === 0x2a /* * */) {
    if (target.length !== 1) return 'request-target is not in a valid form';
    return method === 'OPTIONS' ? null : 'asterisk-form target is only for OPTIONS';
  }
  return isAbsoluteForm(target) ? null : 'request-target is not in a valid form';
}

/**
 * The authority of a target that has one (absolute-form: what lies between "://" and the path,
 * query or fragment; authority-form: all of it), or null for origin- and asterisk-form. Only
 * for targets targetFormError accepted.
 */
export function targetAuthority(target: string): string | null {
  const first = target.charCodeAt(0);
  if (first === 0x2f /* / */ || first === 0x2a /* * */) return null;
  const start = target.indexOf('://');
  if (start === -1) return target; // authority-form
  const end = authorityEnd(target, start + 3);
  return target.slice(start + 3, end);
}

/** Where the authority that starts at `start` ends: the first "/", "?" or "#" (RFC 3986 3.2). */
function authorityEnd(target: string, start: number): number {
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  return end;
}

function isAbsoluteForm(target: string): boolean {
  const n = target.length;
  if (n === 0 || SCHEME[target.charCodeAt(0)] !== 1) return false;
  let i = 1;
  while (i < n && SCHEME[target.charCodeAt(i)] !== 0) i++;
  if (!target.startsWith('://', i)) return false;
  const start = i + 3;
  const end = authorityEnd(target, start);
  return end > start && target.charCodeAt(start) !== 0x3a /* : */ && isHostPort(target, start, end);
}

function isAuthorityForm(target: string): boolean {
  const colon = target.lastIndexOf(':');
  if (colon <= 0 || colon === target.length - 1 || target.length - colon - 1 > 5) return false;
  return hostEnd(target, 0, colon) === colon && isPort(target, colon + 1, target.length);
}

/**
 * RFC 9110 7.2: Host = uri-host [ ":" port ], with RFC 3986 3.2.2 and 3.2.3:
 *   host        = IP-literal / IPv4address / reg-name
 *   IP-literal  = "[" ( IPv6address / IPvFuture ) "]"
 *   IPvFuture   = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
 *   reg-name    = *( unreserved / pct-encoded / sub-delims )
 *   pct-encoded = "%" HEXDIG HEXDIG
 *   port        = *DIGIT
 * (an IPv4address is also a reg-name, byte for byte, so it needs no rule of its own). A port
 * above 65535 names no TCP port and is refused. reg-name may be empty, but a port without a
 * host (":80") is refused: the one Host without a host is the empty value, which RFC 9112 3.2
 * has a client send when the target URI has no authority. So `a b`, `a, b`, `u@h`, `h/x`,
 * `[::1` and `h:80x` are all invalid; `a,b` is a valid reg-name (sub-delims include ",").
 */
export function isHostValue(value: string): boolean {
  if (value.length === 0) return true;
  return value.charCodeAt(0) !== 0x3a /* : */ && isHostPort(value, 0, value.length);
}

/** value[start, end) is uri-host [ ":" port ] (see isHostValue). */
function isHostPort(value: string, start: number, end: number): boolean {
  const i = hostEnd(value, start, end);
  if (i === end) return true;
  if (i === -1 || value.charCodeAt(i) !== 0x3a /* : */) return false;
  return isPort(value, i + 1, end);
}

/** port = *DIGIT, at most 65535. */
function isPort(value: string, start: number, end: number): boolean {
  let port = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (DIGIT[c] === 0) return false;
    port = port * 10 + (c - 0x30);
    if (port > 65535) return false;
  }
  return true;
}

/**
 * Scans a uri-host from `start`: returns the index after it (at `end` or at a ":"), or -1 when
 * the bytes are not a host.
 */
function hostEnd(value: string, start: number, end: number): number {
  if (start < end && value.charCodeAt(start) === 0x5b /* [ */) {
    const close = value.indexOf(']', start);
    if (close === -1 || close >= end) return -1;
    if (!isIpLiteralBody(value, start + 1, close)) return -1;
    return close + 1 === end || value.charCodeAt(close + 1) === 0x3a /* : */ ? close + 1 : -1;
  }
  let i = start;
  while (i < end) {
    const c = value.charCodeAt(i);
    if (c === 0x3a /* : */) break;
    if (c === 0x25 /* % */) {
      if (i + 2 >= end || HEX_VALUE[value.charCodeAt(i + 1)] === 255 || HEX_VALUE[value.charCodeAt(i + 2)] === 255) return -1;
      i += 3;
    } else if (REG_NAME[c] === 1) i++;
    else return -1;
  }
  return i;
}

/** IPv6address / IPvFuture: what lies between "[" and "]" of an IP-literal. */
function isIpLiteralBody(value: string, start: number, end: number): boolean {
  const first = value.charCodeAt(start);
  if (first === 0x76 /* v */ || first === 0x56 /* V */) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    let i = start + 1;
    while (i < end && HEX_VALUE[value.charCodeAt(i)] !== 255) i++;
    if (i === start + 1 || i >= end || value.charCodeAt(i) !== 0x2e /* . */) return false;
    if (++i === end) return false;
    for (; i < end; i++) {
      const c = value.charCodeAt(i);
      if (c !== 0x3a /* : */ && REG_NAME[c] === 0) return false;
    }
    return true;
  }
  return isIpv6Address(value.slice(start, end));
}

/**
 * RFC 3986 3.2.2:
 *   IPv6address = 6( h16 ":" ) ls32 / "::" 5( h16 ":" ) ls32 / [ h16 ] "::" 4( h16 ":" ) ls32
 *               / ... / [ *6( h16 ":" ) h16 ] "::"
 *   h16 = 1*4HEXDIG;  ls32 = ( h16 ":" h16 ) / IPv4address
 * Equivalently: at most one "::"; groups of 1 to 4 hex digits; an IPv4address only as the last
 * group, counting as two; eight groups without "::", at most seven with it. No zone identifier.
 */
function isIpv6Address(text: string): boolean {
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return false;
  const left = gap === -1 ? text : text.slice(0, gap);
  const right = gap === -1 ? '' : text.slice(gap + 2);
  let groups = 0;
  const sides = gap === -1 ? [left] : [left, right];
  for (let s = 0; s < sides.length; s++) {
    const side = sides[s]!;
    if (side === '') continue;
    const parts = side.split(':');
    const last = s === sides.length - 1;
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p]!;
      if (last && p === parts.length - 1 && part.includes('.')) {
        if (!isIpv4Address(part)) return false;
        groups += 2;
      } else {
        if (part.length === 0 || part.length > 4) return false;
        for (let i = 0; i < part.length; i++) if (HEX_VALUE[part.charCodeAt(i)] === 255) return false;
        groups++;
      }
    }
  }
  return gap === -1 ? groups === 8 : groups <= 7;
}

/**
 * RFC 3986 3.2.2: IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet, where a
 * dec-octet is 0-255 without leading zeros.
 */
function isIpv4Address(text: string): boolean {
  const octets = text.split('.');
  if (octets.length !== 4) return false;
  for (const octet of octets) {
    if (octet.length === 0 || octet.length > 3 || (octet.length > 1 && octet.charCodeAt(0) === 0x30)) return false;
    for (let i = 0; i < octet.length; i++) if (DIGIT[octet.charCodeAt(i)] === 0) return false;
    if (Number(octet) > 255) return false;
  }
  return true;
}
