/*
 * Differential testing of our request parser against llhttp, the parser inside node:http
 * (reached through node's own binding, process.binding('http_parser').HTTPParser, strict flags,
 * as benchmarks/micro/parser.bench.mjs does). Both sides get the same bytes; each reports the messages
 * it completed (method, target, version, header list, body bytes, keep-alive, and the offset
 * where the message ended, i.e. where the next request starts) and whether it refused the input.
 *
 * llhttp is fed one byte per execute() so that the end offset of each message is exact (node's
 * glue calls back synchronously, and llhttp is a streaming parser: a split changes nothing).
 *
 * The verdict on one input (compare()):
 * - agree:    same messages, same framing, both refuse or neither does;
 * - stricter: we refuse a message that llhttp completes. Allowed when its class is in
 *             STRICTER_ALLOWED (the reason is written there); an unknown class is a finding to
 *             look at (it may be a bug of ours, or a new class to document);
 * - laxer:    we complete a message that llhttp refuses. Always a finding, unless llhttp's
 *             refusal is about something that cannot change framing, or that the RFC reads one
 *             way only (LAXER_ALLOWED), in which case that feature is normalised away and the
 *             input compared again;
 * - framing:  both complete message i but disagree on its body or where it ends, or one side
 *             completes it while the other still waits for bytes. Always a bug.
 * - head:     same framing, different method/target/header list/keep-alive. Allowed by class
 *             (HEAD_ALLOWED), else a finding.
 * Inputs are kept below both parsers' size limits, so limits never decide a verdict; our limit
 * errors (414/431/413) are an allowed class all the same.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RequestParser } from '../../src/http/parser.js';
import type { ParsedHead } from '../../src/http/parse-events.js';
import type { ParserLimits } from '../../src/http/options.js';

export const DIFF_LIMITS: ParserLimits = {
  maxRequestLine: 8190,
  maxHeaderCount: 100,
  maxHeaderFieldSize: 8190,
  maxBodySize: 0,
  maxChunkLine: 4096,
};

export interface Message {
  method: string;
  target: string;
  version: string;
  /** [lower-cased name, value] in arrival order. */
  headers: Array<[string, string]>;
  body: string;
  keepAlive: boolean;
  /** Offset just after the message's last byte: where the next request starts. */
  end: number;
  /** llhttp: an Upgrade/CONNECT request, after which llhttp stops parsing HTTP. */
  upgrade: boolean;
}

export interface Side {
  messages: Message[];
  /** Why the input was refused (our detail, or llhttp's code and reason), or null. */
  error: { code: string; detail: string } | null;
}

// ---- our parser ----------------------------------------------------------------------------

export function runOurs(input: Buffer, limits: ParserLimits = DIFF_LIMITS): Side {
  const messages: Message[] = [];
  let head: ParsedHead | null = null;
  let body: Buffer[] = [];
  let completedAt = -1;
  const parser = new RequestParser(limits, {
    onHead(h) { head = h; body = []; },
    onBody(chunk) { body.push(Buffer.from(chunk)); },
    onMessageComplete() { completedAt = 0; },
  });
  let pos = 0;
  while (pos < input.length && parser.error === null) {
    completedAt = -1;
    pos += parser.execute(input, pos, input.length);
    if (completedAt === 0) {
      const h = head as unknown as ParsedHead;
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < h.rawHeaders.length; i += 2) headers.push([h.rawHeaders[i]!, h.rawHeaders[i + 1]!]);
      messages.push({
        method: h.method, target: h.target, version: h.httpVersion, headers, body: Buffer.concat(body).toString('latin1'),
        keepAlive: h.keepAlive, end: pos, upgrade: false,
      });
      head = null;
    }
  }
  return { messages, error: parser.error === null ? null : { code: parser.error.code, detail: parser.error.detail ?? '' } };
}

// ---- llhttp --------------------------------------------------------------------------------

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code: string; reason: string; bytesParsed: number });
  finish(): unknown;
  close(): void;
  [key: number]: unknown;
}
interface LlhttpBinding {
  HTTPParser: { new (): LlhttpParser; REQUEST: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number; kOnExecute: number };
  methods: string[];
}

let binding: LlhttpBinding | null = null;
function llhttpBinding(): LlhttpBinding {
  if (binding === null) {
    // process.binding is deprecated (DEP0111) but is how node:http reaches llhttp; silence the one warning.
    const emit = process.emitWarning;
    process.emitWarning = (() => {}) as typeof process.emitWarning;
    try { binding = (process as unknown as { binding(name: string): LlhttpBinding }).binding('http_parser'); }
    finally { process.emitWarning = emit; }
  }
  return binding;
}

export function runLlhttp(input: Buffer): Side {
  const { HTTPParser, methods } = llhttpBinding();
  const messages: Message[] = [];
  let error: Side['error'] = null;
  let current: Message | null = null;
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  let offset = 0;
  let stop = false;
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => { pendingHeaders.push(...headers); pendingUrl += url; };
  parser[HTTPParser.kOnHeadersComplete] = (major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
    _status: unknown, _message: unknown, upgrade: boolean, keepAlive: boolean) => {
    const flat = headers ?? pendingHeaders;
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!.toLowerCase(), flat[i + 1]!]);
    current = { method: methods[method]!, target: url ?? pendingUrl, version: `${major}.${minor}`, headers: pairs, body: '', keepAlive, end: -1, upgrade };
    pendingHeaders = [];
    pendingUrl = '';
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => { current!.body += chunk.toString('latin1'); };
  parser[HTTPParser.kOnMessageComplete] = () => {
    // Trailer fields arrive through kOnHeaders; node:http drops its collected url with them
    // (parserOnMessageComplete), or the next message's url would start with this one's.
    pendingHeaders = [];
    pendingUrl = '';
    current!.end = offset + 1;
    messages.push(current!);
    if (current!.upgrade) stop = true; // the rest is another protocol for llhttp
    current = null;
  };
  parser[HTTPParser.kOnExecute] = () => {};
  for (; offset < input.length && !stop; offset++) {
    const result = parser.execute(input.subarray(offset, offset + 1));
    if (typeof result !== 'number') { error = { code: result.code, detail: result.reason }; break; }
    // An Upgrade/CONNECT head with no body: llhttp pauses at the end of the head.
    if (current !== null && (current as Message).upgrade && result === 0) break;
  }
  parser.close();
  return { messages, error };
}

// ---- verdicts ------------------------------------------------------------------------------

export type VerdictKind = 'agree' | 'stricter' | 'laxer' | 'framing' | 'head';

export interface Verdict {
  kind: VerdictKind;
  /** Short, stable name of what differs (used to group findings and to match allow-lists). */
  class: string;
  /** Allowed by a list below (its reason), or null when it is a finding. */
  allowedBy: string | null;
  detail: string;
}

interface AllowEntry {
  /** The class this entry names. */
  readonly name: string;
  readonly match: RegExp;
  readonly reason: string;
}

/**
 * Where we refuse what llhttp accepts, and why that is right. Matched against our error
 * (`CODE: detail`). Every entry is a place where a lenient parser in front of us (or behind
 * us) could otherwise read a different message than we do.
 */
export const STRICTER_ALLOWED: readonly AllowEntry[] = [
  { name: 'limits', match: /^ERR_HTTP_(URI_TOO_LONG|HEADERS_TOO_LARGE|BODY_TOO_LARGE):/, reason: 'our size limits are our own (--limit-request-*, --max-body-size); llhttp only caps the head at 16 KiB' },
  { name: 'host-missing', match: /HTTP\/1\.1 request without Host/, reason: 'RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host; llhttp does not look at Host' },
  { name: 'host-repeated', match: /more than one Host field/, reason: 'RFC 9112 3.2: more than one Host is a 400; a proxy and we could route on different ones' },
  { name: 'te-http10', match: /Transfer-Encoding in an HTTP\/1\.0 request/, reason: 'RFC 9112 6.1: an HTTP/1.0 recipient cannot rely on chunked; a 1.0 proxy in front would frame it by Content-Length or close (the Node CVE-2022-32215 family). llhttp decodes it' },
  { name: 'te-obs', match: /malformed Transfer-Encoding list|chunked transfer-coding takes no parameters|chunked transfer-coding applied more than once/, reason: 'any Transfer-Encoding we do not read exactly as "chunked" last is refused rather than guessed (TE.TE obfuscation: Gunicorn CVE-2024-1135, Waitress, Node CVE-2022-32213)' },
  { name: 'te-not-implemented', match: /^ERR_HTTP_NOT_IMPLEMENTED:/, reason: 'RFC 9112 6.1: a coding we do not decode (gzip, chunked, ...) is 501; llhttp passes the still-encoded body through' },
  { name: 'cl-and-te', match: /both Content-Length and Transfer-Encoding/, reason: 'RFC 9112 6.1: a server MAY reject it, and it is the CL.TE/TE.CL smuggling shape; llhttp (strict) lets TE win in some cases' },
  { name: 'cl-repeated', match: /more than one Content-Length field/, reason: 'RFC 9110 8.6 lets a recipient accept equal copies; we refuse them all so no two parsers can pick different ones' },
  { name: 'cl-syntax', match: /Content-Length is not a plain decimal number/, reason: 'Content-Length = 1*DIGIT (RFC 9110 8.6); lists, signs and whitespace are refused' },
  { name: 'target-form', match: /request-target is not in a valid form|asterisk-form target is only for OPTIONS|CONNECT needs an authority-form target/, reason: 'RFC 9112 3.2: the target form must fit the method; llhttp\'s URL parser accepts any form with any method' },
  { name: 'target-bytes', match: /request-target has a byte outside VCHAR/, reason: 'RFC 9112 3.2 and RFC 3986: a target is VCHAR only (llhttp allows some obs-text and control bytes in the URL); a raw SP would be a second delimiter' },
  { name: 'leading-empty-lines', match: /too many empty lines before the request-line/, reason: 'RFC 9112 2.2 asks to ignore at least one empty line; we ignore two and refuse more, so a stream of CRLFs cannot hold a connection' },
  { name: 'method-syntax', match: /method is not a token followed by one SP/, reason: 'RFC 9112 3: exactly one SP after the method' },
  { name: 'version-syntax', match: /malformed HTTP-version|^ERR_HTTP_VERSION:/, reason: 'RFC 9112 2.3: HTTP-version is exactly HTTP/DIGIT.DIGIT, and we speak only 1.0 and 1.1 (505 for others)' },
  { name: 'bare-lf', match: /line ends in a bare LF/, reason: 'RFC 9112 2.2 lets a recipient accept a bare LF; we require CRLF everywhere, so no two parsers can split lines differently (Node CVE-2023-30589 family)' },
  { name: 'field-syntax', match: /field line without a colon|empty field name|field name is not a token|whitespace between field name and colon|obs-fold/, reason: 'RFC 9112 5: field-name ":" OWS value; no space before the colon (5.1, must be 400), no obs-fold (5.2)' },
  { name: 'field-value-bytes', match: /invalid byte in the value of/, reason: 'RFC 9110 5.5: control bytes are not field-vchar; we refuse rather than replace them' },
  { name: 'trailer-framing-field', match: /is not allowed in trailers/, reason: 'RFC 9110 6.5.1: framing and routing fields are not allowed in trailers' },
  { name: 'chunk-size-syntax', match: /chunk-size is not a hex number|chunk-size has too many digits|chunk-size is larger than|chunk-size line longer than/, reason: 'RFC 9112 7.1: chunk-size = 1*HEXDIG, bounded' },
  { name: 'chunk-ext-syntax', match: /malformed chunk extension/, reason: 'RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ); we check the grammar, llhttp skips bytes up to CRLF' },
  { name: 'host-syntax', match: /Host is not a valid uri-host/, reason: 'RFC 9112 3.2: a Host whose value is not uri-host [ ":" port ] (RFC 3986 3.2.2) is a 400; llhttp does not look at Host' },
  { name: 'connect-body', match: /CONNECT request with a body/, reason: 'RFC 9110 9.3.6: CONNECT content has no defined semantics; llhttp ends HTTP at a CONNECT head whatever its framing fields say, so we refuse one that announces a body rather than read one' },
  { name: 'chunk-data-end', match: /chunk data not followed by CRLF/, reason: 'RFC 9112 7.1: chunk-data CRLF' },
];

/**
 * Where llhttp refuses and we accept, for reasons that cannot change framing. The entry's
 * `normalise` rewrites the feature away; the input is then compared again, and the verdict on
 * the rewritten input is the one that counts (so the laxity cannot hide a framing difference).
 * `match` is tested against llhttp's error for a laxer verdict, and against the difference for
 * a head verdict no HEAD_ALLOWED entry explains (llhttp reads a field differently).
 */
export interface LaxerEntry {
  readonly name: string;
  readonly match: RegExp;
  readonly reason: string;
  readonly normalise: (input: Buffer, ours: Side) => Buffer | null;
}

const KNOWN_METHOD = 'GET';

export const LAXER_ALLOWED: readonly LaxerEntry[] = [
  {
    name: 'method-not-registered',
    match: /^HPE_INVALID_METHOD:/,
    reason: 'RFC 9110 9.1: a method is any token; llhttp knows a fixed list. The method plays no part in framing (a GET body is framed like a POST body)',
    normalise: (input, ours) => replaceMethods(input, ours),
  },
  {
    name: 'url-parser',
    match: /^HPE_INVALID_URL:/,
    reason: 'llhttp parses the URL (e.g. refuses a digit in an absolute-form scheme, which RFC 3986 3.1 allows); we check '
      + 'that a target is VCHAR in a form that fits the method and leave the rest to the app. The target plays no part in '
      + 'framing: compared again with the target replaced by "/"',
    normalise: (input, ours) => rewriteRequestLine(input, ours, (method, target) => (target === '/' ? null : `${method} /`)),
  },
  {
    name: 'htab-ows',
    match: /^HPE_(INVALID_TRANSFER_ENCODING|INVALID_CONTENT_LENGTH|CLOSED_CONNECTION):|: keep-alive (true vs false|false vs true)$/,
    reason: 'RFC 9112 5 / RFC 9110 5.6.3: the OWS around a field value is SP or HTAB, so "chunked<HTAB>" is chunked, '
      + '"5<HTAB>" is 5 and "keep-alive<HTAB>" is keep-alive; llhttp refuses an HTAB after the first two (its refusal '
      + 'frames nothing: a proxy on llhttp answers 400) and does not see the Connection option. Compared again with '
      + 'those HTABs as SP, which llhttp strips: framing and persistence must then agree',
    normalise: (input) => {
      const text = input.toString('latin1');
      const out = text.replace(/^(content-length|transfer-encoding|connection)(:[ \t]*)(.*?)([ \t]*\r\n)/gim,
        (_, name: string, before: string, value: string, after: string) => `${name}${before.replace(/\t/g, ' ')}${value}${after.replace(/\t/g, ' ')}`);
      return out === text ? null : Buffer.from(out, 'latin1');
    },
  },
  {
    name: 'data-after-close',
    match: /^HPE_CLOSED_CONNECTION:/,
    reason: 'llhttp refuses bytes after a message that ends the connection (Connection: close, or HTTP/1.0 without keep-alive). '
      + 'Our parser reads them, but the connection closes after that message\'s response and drops them unread (connection.ts '
      + '#finishResponse/#close); smuggling.test.ts checks it over a socket. Compared up to that message',
    normalise: (input, ours) => {
      const last = ours.messages.find((m) => !m.keepAlive);
      return last === undefined || last.end >= input.length ? null : input.subarray(0, last.end);
    },
  },
];

/**
 * Rewrites the request-line (its method and target) of the first message llhttp did not
 * complete, found after our completed messages and any leading CRLFs. `rewrite` gets the
 * method and target and returns the new "METHOD TARGET" or null (nothing to rewrite).
 */
function rewriteRequestLine(input: Buffer, ours: Side, rewrite: (method: string, target: string) => string | null): Buffer | null {
  let at = ours.messages.length === 0 ? 0 : ours.messages[ours.messages.length - 1]!.end;
  // The message llhttp refused may be an earlier one than ours refused: try each start.
  const starts = [0, ...ours.messages.map((m) => m.end)];
  for (const start of starts) {
    at = start;
    while (at < input.length && (input[at] === 0x0d || input[at] === 0x0a)) at++;
    const first = input.indexOf(0x20, at);
    const second = first === -1 ? -1 : input.indexOf(0x20, first + 1);
    if (first <= at || second === -1) continue;
    const replaced = rewrite(input.toString('latin1', at, first), input.toString('latin1', first + 1, second));
    if (replaced === null) continue;
    return Buffer.concat([input.subarray(0, at), Buffer.from(replaced, 'latin1'), input.subarray(second)]);
  }
  return null;
}

/** Rewrites each method of our completed messages (and the first of the failing one) to GET, keeping lengths aligned. */
function replaceMethods(input: Buffer, ours: Side): Buffer | null {
  const starts = [0, ...ours.messages.map((m) => m.end)];
  let out = input;
  let shift = 0;
  for (const start of starts) {
    let at = start + shift;
    while (at < out.length && (out[at] === 0x0d || out[at] === 0x0a)) at++;
    const space = out.indexOf(0x20, at);
    if (space <= at) continue;
    const method = out.toString('latin1', at, space);
    if (method === KNOWN_METHOD || method === 'CONNECT' || method === 'OPTIONS') continue;
    out = Buffer.concat([out.subarray(0, at), Buffer.from(KNOWN_METHOD), out.subarray(space)]);
    shift += KNOWN_METHOD.length - method.length;
  }
  return out.equals(input) ? null : out;
}

/** Same framing, different head: allowed differences in what the two parsers report. */
export const HEAD_ALLOWED: readonly AllowEntry[] = [
  { name: 'close-wins', match: /^keep-alive false vs true/, reason: 'we close where llhttp keeps the connection: with both "close" and "keep-alive" in Connection (RFC 9112 9.3: close is final), and with "close" followed by HTAB (OWS, RFC 9110 5.6.3), which llhttp does not read as close. Closing where llhttp would keep the connection open never frames a byte differently' },
  { name: 'host-from-target', match: /^host from the target/, reason: 'RFC 9112 3.2.2: with an absolute-form target the server MUST ignore Host and use the target\'s authority (3.3: an authority-form target is the authority); we report that authority as the Host field, llhttp reports Host as sent. Only the Host value differs, never the framing' },
];

/**
 * llhttp's header list as we report it (parser.ts, endOfHead): when the target has an
 * authority (scheme "://" authority ..., or CONNECT's host:port), Host holds it, appended when
 * none was sent. Written here from RFC 9112 3.2.2 rather than taken from the parser.
 */
function hostFromTarget(m: Message): Array<[string, string]> | null {
  const scheme = m.target.indexOf('://');
  if (scheme === -1 && m.method !== 'CONNECT') return null;
  const authority = scheme === -1 ? m.target : m.target.slice(scheme + 3).split(/[/?#]/)[0]!;
  const headers = m.headers.map(([name, value]): [string, string] => [name, name === 'host' ? authority : value]);
  if (!m.headers.some(([name]) => name === 'host')) headers.push(['host', authority]);
  return headers;
}

function allow(entries: readonly AllowEntry[], key: string): string | null {
  for (const entry of entries) if (entry.match.test(key)) return entry.name;
  return null;
}

const errorKey = (error: Side['error']): string => error === null ? 'none' : `${error.code}: ${error.detail}`;

function describeMessage(m: Message | undefined): string {
  if (m === undefined) return 'none';
  return `${m.method} ${m.target} HTTP/${m.version} body=${JSON.stringify(m.body.slice(0, 60))}(${m.body.length}) end=${m.end}`;
}

function headerListDifference(a: Array<[string, string]>, b: Array<[string, string]>): string | null {
  if (a.length !== b.length) return `header count ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const [an, av] = a[i]!;
    const [bn, bv] = b[i]!;
    if (an !== bn || av !== bv) return `header ${i}: ${JSON.stringify([an, av])} vs ${JSON.stringify([bn, bv])}`;
  }
  return null;
}

function headDifference(a: Message, b: Message): string | null {
  if (a.method !== b.method) return `method ${JSON.stringify(a.method)} vs ${JSON.stringify(b.method)}`;
  if (a.target !== b.target) return `target ${JSON.stringify(a.target)} vs ${JSON.stringify(b.target)}`;
  if (a.version !== b.version) return `version ${a.version} vs ${b.version}`;
  const headers = headerListDifference(a.headers, b.headers);
  if (headers !== null) {
    const theirsAsOurs = hostFromTarget(b);
    return theirsAsOurs !== null && headerListDifference(a.headers, theirsAsOurs) === null ? `host from the target's authority: ${headers}` : headers;
  }
  if (a.keepAlive !== b.keepAlive && !b.upgrade) return `keep-alive ${a.keepAlive} vs ${b.keepAlive}`;
  return null;
}

/** Compares our outcome with llhttp's on the same input (see the file header). */
export function compare(ours: Side, theirs: Side): Verdict {
  const n = Math.min(ours.messages.length, theirs.messages.length);
  let head: Verdict | null = null;
  for (let i = 0; i < n; i++) {
    const a = ours.messages[i]!;
    const b = theirs.messages[i]!;
    if (a.body !== b.body || a.end !== b.end) {
      return { kind: 'framing', class: 'message-boundary', allowedBy: null, detail: `message ${i}: ours ${describeMessage(a)}; llhttp ${describeMessage(b)}` };
    }
    const difference = headDifference(a, b);
    if (difference !== null && head === null) {
      const cls = difference.split(' ')[0]!;
      head = { kind: 'head', class: `head-${cls}`, allowedBy: allow(HEAD_ALLOWED, difference), detail: `message ${i}: ${difference}` };
    }
    if (b.upgrade) return head ?? { kind: 'agree', class: 'upgrade', allowedBy: null, detail: '' };
  }
  if (ours.messages.length > n) {
    const a = ours.messages[n]!;
    if (theirs.error !== null) {
      const key = `${theirs.error.code}: ${theirs.error.detail}`;
      return { kind: 'laxer', class: theirs.error.code, allowedBy: null, detail: `we completed ${describeMessage(a)}; llhttp refused: ${key}` };
    }
    return { kind: 'framing', class: 'we-complete-llhttp-waits', allowedBy: null, detail: `we completed ${describeMessage(a)}; llhttp still waits for bytes` };
  }
  if (theirs.messages.length > n) {
    const b = theirs.messages[n]!;
    if (ours.error !== null) {
      const key = errorKey(ours.error);
      return { kind: 'stricter', class: allow(STRICTER_ALLOWED, key) ?? key, allowedBy: allow(STRICTER_ALLOWED, key), detail: `llhttp completed ${describeMessage(b)}; we refused: ${key}` };
    }
    return { kind: 'framing', class: 'llhttp-completes-we-wait', allowedBy: null, detail: `llhttp completed ${describeMessage(b)}; we still wait for bytes` };
  }
  if (ours.error !== null && theirs.error === null) {
    // Neither completed the next message; we refused it while llhttp waits for more bytes.
    const key = errorKey(ours.error);
    return { kind: 'stricter', class: allow(STRICTER_ALLOWED, key) ?? key, allowedBy: allow(STRICTER_ALLOWED, key), detail: `we refused early: ${key}` };
  }
  return head ?? { kind: 'agree', class: ours.error !== null ? 'both-refuse' : 'both-accept', allowedBy: null, detail: '' };
}

/** Runs both parsers on `input` and judges; a laxer verdict allowed by LAXER_ALLOWED is re-judged on the normalised input. */
export function judge(input: Buffer, depth = 0): Verdict {
  const ours = runOurs(input);
  const theirs = runLlhttp(input);
  const verdict = compare(ours, theirs);
  const key = verdict.kind === 'laxer' ? errorKey(theirs.error) : verdict.kind === 'head' && verdict.allowedBy === null ? verdict.detail : null;
  if (key !== null && depth < 4) {
    for (const entry of LAXER_ALLOWED) {
      if (!entry.match.test(key)) continue;
      const rewritten = entry.normalise(input, ours);
      if (rewritten === null) continue;
      const again = judge(rewritten, depth + 1);
      return again.kind === 'agree' ? { ...verdict, allowedBy: entry.name, class: entry.name } : { ...again, detail: `after ${entry.name} rewrite: ${again.detail}` };
    }
  }
  return verdict;
}

/** A finding is a verdict nobody has explained: every framing or laxer one, and unlisted stricter/head ones. */
export const isFinding = (verdict: Verdict): boolean => verdict.kind !== 'agree' && verdict.allowedBy === null;

// ---- inputs: a corpus, fast-check arbitraries, mutations ----------------------------------

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/requests/', import.meta.url));

/** Decodes a fixture file (\r \n \t \\ \xHH escapes; real newlines ignored), as parser-fixtures.test does. */
export function loadFixture(path: string): Buffer {
  const text = readFileSync(path, 'latin1').replace(/\n/g, '');
  const raw = text.replace(/\\(r|n|t|\\|x[0-9a-fA-F]{2})/g, (_, e: string) =>
    e === 'r' ? '\r' : e === 'n' ? '\n' : e === 't' ? '\t' : e === '\\' ? '\\' : String.fromCharCode(parseInt(e.slice(1), 16)));
  return Buffer.from(raw, 'latin1');
}

/** The valid request fixtures: the mutation corpus. */
export function corpus(): Buffer[] {
  const dir = join(FIXTURES, 'valid');
  return readdirSync(dir).filter((f) => f.endsWith('.http')).sort().map((f) => loadFixture(join(dir, f)));
}

const crlf = '\r\n';
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'PURGE', 'X-CUSTOM', 'get'];
const TARGETS = ['/', '/a/b?c=d', '/p%20q', 'http://example.com/x', '*', '/~!$&\'()*+,;=:@', '//x', '/a#frag'];
const OTHER_NAMES = ['Accept', 'X-Trace', 'User-Agent', 'Cookie', 'X-Empty', 'Connection', 'Expect', 'Trailer', 'Te', 'Content-Type', 'Upgrade'];
const OTHER_VALUES = ['*/*', 'a b', '', 'caf\xe9', 'close', 'keep-alive', '100-continue', 'x'.repeat(30), '"q"; v=1', 'chunked'];

/** Field-line separators: mostly the canonical one, sometimes a smuggler's. */
const SEPARATORS = [': ', ':', ':\t', ': ', ':  ', ' : ', '\t: ', ':\x0b', ':\x0c', ':\r'];
const LINE_ENDS = [crlf, '\n', '\r', '\r\r\n', ' \r\n', '\r\x00\n'];

/** Transfer-Encoding values, from plain to obfuscated (the TE.TE family). */
const TE_VALUES = ['chunked', 'Chunked', 'CHUNKED', 'chunked ', ' chunked', '\tchunked', 'xchunked', 'chunked, identity', 'identity, chunked',
  'gzip, chunked', 'chunked, gzip', 'chunked;a=b', 'chunked,', ',chunked', 'chunk', '"chunked"', 'chunked\x00', 'identity', 'gzip', 'chunked, chunked'];
/** Content-Length values: right, wrong and obfuscated (leading zeros, signs, lists, spaces). */
const clValues = (length: number): string[] => [String(length), `0${length}`, `+${length}`, `${length} `, ` ${length}`,
  `${length},${length}`, `${length}, ${length}`, `-${length}`, `0x${length.toString(16)}`, `${length}.0`, `${length + 1}`, `${Math.max(0, length - 1)}`, '', `${length}\x00`];

type Framing = 'none' | 'cl' | 'te' | 'both' | 'te-then-cl' | 'cl-twice' | 'te-twice';

interface RequestShape {
  method: string;
  target: string;
  version: string;
  host: 'one' | 'none' | 'two';
  others: Array<[string, string]>;
  framing: Framing;
  teValue: number;
  clValue: number;
  separator: number;
  teNameCase: number;
  lineEnd: number;
  lineEndAt: number;
  chunks: Array<{ data: string; ext: string; sizeForm: number }>;
  trailers: Array<[string, string]>;
  body: string;
  leading: number;
}

const CHUNK_EXTS = ['', ';a', ';a=b', ' ;a=b', ';a="q"', ';\r', ';a\nb', ';a=b\rc', '; \x00'];
const SIZE_FORMS = (size: number): string[] => [size.toString(16), size.toString(16).toUpperCase(), `0${size.toString(16)}`,
  `0x${size.toString(16)}`, ` ${size.toString(16)}`, `${size.toString(16)} `, `+${size.toString(16)}`, `${size.toString(16)}\t`, `-${size.toString(16)}`, `${size.toString(16)};`];

function renderRequest(shape: RequestShape): string {
  const lines: string[] = [];
  lines.push(`${shape.method} ${shape.target} ${shape.version}`);
  if (shape.host !== 'none') lines.push('Host: example.com');
  if (shape.host === 'two') lines.push('Host: other.example');
  for (const [name, value] of shape.others) lines.push(`${name}: ${value}`);
  const teName = ['Transfer-Encoding', 'transfer-encoding', 'TRANSFER-ENCODING', 'Transfer_Encoding', 'Transfer-Encoding '][shape.teNameCase % 5]!;
  const sep = SEPARATORS[shape.separator % SEPARATORS.length]!;
  let framed = '';
  const chunked = (): string => {
    let out = '';
    for (const c of shape.chunks) out += `${SIZE_FORMS(c.data.length)[c.sizeForm % 11]!}${c.ext}${crlf}${c.data}${crlf}`;
    out += `0${crlf}`;
    for (const [n, v] of shape.trailers) out += `${n}: ${v}${crlf}`;
    return out + crlf;
  };
  const te = `${teName}${sep}${TE_VALUES[shape.teValue % TE_VALUES.length]!}`;
  const cl = (length: number) => `Content-Length${sep}${clValues(length)[shape.clValue % 14]!}`;
  switch (shape.framing) {
    case 'none': framed = ''; break;
    case 'cl': lines.push(cl(shape.body.length)); framed = shape.body; break;
    case 'te': lines.push(te); framed = chunked(); break;
    case 'te-twice': lines.push(te, `Transfer-Encoding: chunked`); framed = chunked(); break;
    case 'both': framed = chunked(); lines.push(`Content-Length: ${framed.length}`, te); break;
    case 'te-then-cl': framed = chunked(); lines.push(te, cl(shape.body.length)); break;
    case 'cl-twice': lines.push(cl(shape.body.length), `Content-Length: ${shape.body.length}`); framed = shape.body; break;
  }
  // One line (at a chosen index) may end in something other than CRLF.
  const end = LINE_ENDS[shape.lineEnd % LINE_ENDS.length]!;
  const at = shape.lineEndAt % (lines.length + 1);
  let head = '\r\n'.repeat(shape.leading);
  lines.forEach((line, i) => { head += line + (i === at ? end : crlf); });
  head += at === lines.length ? end : crlf;
  return head + framed;
}

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&\'*+.^_`|~'.split(''));
const smallData = fc.string({ unit: fc.constantFrom(...'abcxyz0123\r\n '.split('')), maxLength: 20 });

/** Usually `usual`, now and then one of `rare` (each field of a request is odd about one time in `odds`). */
function mostly<T>(usual: T, rare: readonly T[], odds = 16): fc.Arbitrary<T> {
  return fc.oneof({ weight: odds - 1, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...rare) });
}
/** An index into a list whose entry 0 is the canonical form. */
const mostlyFirst = (length: number, odds = 16): fc.Arbitrary<number> => mostly(0, Array.from({ length: length - 1 }, (_, i) => i + 1), odds);

const requestShape: fc.Arbitrary<RequestShape> = fc.record({
  method: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...METHODS.slice(0, 7)) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS.slice(7)) },
    { weight: 1, arbitrary: fc.string({ unit: tokenChar, minLength: 1, maxLength: 8 }) }),
  target: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...TARGETS.slice(0, 4)) }, { weight: 1, arbitrary: fc.constantFrom(...TARGETS.slice(4)) },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 }).map((s) => `/${s}`) }),
  version: fc.oneof({ weight: 10, arbitrary: fc.constant('HTTP/1.1') }, { weight: 3, arbitrary: fc.constant('HTTP/1.0') },
    { weight: 1, arbitrary: fc.constantFrom('HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/0.9', 'HTTP/1.01') }),
  host: mostly<'one' | 'none' | 'two'>('one', ['none', 'two']),
  others: fc.array(fc.tuple(fc.constantFrom(...OTHER_NAMES), fc.constantFrom(...OTHER_VALUES)), { maxLength: 3 }),
  framing: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<Framing>('none', 'cl', 'te') },
    { weight: 1, arbitrary: fc.constantFrom<Framing>('both', 'te-then-cl', 'cl-twice', 'te-twice') }),
  teValue: mostlyFirst(TE_VALUES.length, 4),
  clValue: mostlyFirst(14, 6),
  separator: mostlyFirst(SEPARATORS.length, 10),
  teNameCase: mostlyFirst(5, 6),
  lineEnd: mostlyFirst(LINE_ENDS.length, 12),
  lineEndAt: fc.nat({ max: 8 }),
  chunks: fc.array(fc.record({
    data: smallData.filter((s) => s.length > 0),
    ext: mostlyFirst(CHUNK_EXTS.length, 6).map((i) => CHUNK_EXTS[i]!),
    sizeForm: mostlyFirst(11, 8),
  }), { maxLength: 3 }),
  trailers: fc.array(fc.tuple(mostly('X-Sum', ['Content-Length', 'Transfer-Encoding', 'Host', 'X-A'], 4), fc.constantFrom('1', 'chunked', 'a')), { maxLength: 1 }),
  body: smallData,
  leading: mostly(0, [1, 2, 3], 8),
});

/** One to three generated requests back to back (pipelined), as bytes. */
export const generatedInput: fc.Arbitrary<Buffer> = fc.array(requestShape, { minLength: 1, maxLength: 3 })
  .map((shapes) => Buffer.from(shapes.map(renderRequest).join(''), 'latin1'));

/** Bytes and strings a smuggler inserts. */
const INSERTS = ['\r\n', '\n', '\r', ' ', '\t', '\x00', '\x0b', ':', ',', ';', '0', '1', 'f', '0x', '+', '-', '"',
  'chunked', 'identity', 'Transfer-Encoding: chunked\r\n', 'Content-Length: 5\r\n', 'Content-Length: 0\r\n', '\r\n\r\n', '0\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP/1.0', ' HTTP/1.1', '\x7f', '\xff', 'Host: b\r\n', 'Expect: 100-continue\r\n'];

type Mutation = { op: 0 | 1 | 2 | 3 | 4; at: number; arg: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({ op: fc.constantFrom<0 | 1 | 2 | 3 | 4>(0, 1, 2, 3, 4), at: fc.nat(), arg: fc.nat() });

function applyMutation(input: Buffer, m: Mutation): Buffer {
  const at = input.length === 0 ? 0 : m.at % (input.length + 1);
  switch (m.op) {
    case 0: { // replace a byte
      if (input.length === 0) return input;
      const out = Buffer.from(input);
      const i = Math.min(at, out.length - 1);
      out[i] = Buffer.from(INSERTS.join(''), 'latin1')[m.arg % 200] ?? 0x20;
      return out;
    }
    case 1: return Buffer.concat([input.subarray(0, at), Buffer.from(INSERTS[m.arg % INSERTS.length]!, 'latin1'), input.subarray(at)]);
    case 2: return Buffer.concat([input.subarray(0, at), input.subarray(Math.min(input.length, at + 1 + (m.arg % 6)))]);
    case 3: { // duplicate a slice (repeats header lines, chunks, whole requests)
      const from = input.length === 0 ? 0 : m.arg % input.length;
      return Buffer.concat([input.subarray(0, at), input.subarray(from, from + 1 + (m.arg % 40)), input.subarray(at)]);
    }
    default: { // flip the case of a letter (field names, coding names)
      const out = Buffer.from(input);
      if (out.length > 0) { const i = Math.min(at, out.length - 1); if (/[a-zA-Z]/.test(String.fromCharCode(out[i]!))) out[i]! ^= 0x20; }
      return out;
    }
  }
}

/** A valid request from `base` (the fixture corpus, plus generated requests) with one to four mutations. */
export function mutatedInput(base: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const seedInput = fc.oneof(fc.constantFrom(...base), generatedInput);
  return fc.tuple(seedInput, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([input, mutations]) => mutations.reduce(applyMutation, input));
}

/** Everything the fuzzer draws from: generated and mutated inputs, in equal measure. */
export function differentialInput(base: readonly Buffer[] = corpus()): fc.Arbitrary<Buffer> {
  return fc.oneof(generatedInput, mutatedInput(base));
}

/** Latin1 text with escapes, for reports (\r\n shown as such). */
export function show(input: Buffer): string {
  return JSON.stringify(input.toString('latin1'));
}
