/*
 * Response heads: status line + the app's header fields + the framing fields the server owns,
 * as one latin1 string the connection writes together with a small body in a single
 * socket.write. The hot path is a handful of string concatenations: status lines are
 * precomputed, `date`/`server` come from a string rebuilt once per second, and each app field
 * costs one regex test per name and per value.
 *
 * Who owns which field (RFC 9110 §7.6.1, RFC 9112 §6, §9.6):
 * - `Connection` and `Transfer-Encoding` are hop-by-hop and belong to the server: the app's
 *   values are never copied out. An app's `Connection: close` is honoured (the connection
 *   closes after this response); the app's Transfer-Encoding is dropped and the server frames
 *   the body itself (Content-Length when known, chunked on 1.1 otherwise, close-delimited on 1.0).
 * - `Content-Length` from the app is honoured (the connection checks the body against it);
 *   when absent the server adds it for bodies of known length (and for HEAD, the length the
 *   same GET would have, when known). 1xx and 204 never carry it (RFC 9110 §8.6: MUST NOT).
 * - `Date` and `Server` are added unless the app sent them; `server: ''` sends none.
 * Header names must be tokens (RFC 9110 §5.1); values must be field-content: HTAB, SP, VCHAR
 * and obs-text only (§5.5), so CR, LF, NUL and other controls, which could split or smuggle a
 * response, are refused with ERR_APP_BAD_HEADER before any byte is written.
 */
import { GatehouseError } from '../errors/index.js';
import type { ResponseHeaders } from '../gateway/types.js';
import { HeaderList } from '../gateway/headers.js';
import { NOT_FIELD_CONTENT, TOKEN, checkFieldValue } from '../gateway/field-section.js';
import { PerSecond } from './date.js';

/** RFC 9110 §15 reason phrases (plus a few registered ones in common use). */
export const STATUS_REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Content', 423: 'Locked', 424: 'Failed Dependency',
  425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  499: 'Client Closed Request',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage',
  508: 'Loop Detected', 511: 'Network Authentication Required',
};

// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). We always
// answer HTTP/1.1, also to 1.0 clients: a server sends its own highest version (RFC 9110 §6.2).
const STATUS_LINES: string[] = [];
for (let code = 100; code <= 999; code++) STATUS_LINES[code] = `HTTP/1.1 ${code} ${STATUS_REASONS[code] ?? ''}\r\n`;

export const CONTINUE_RESPONSE = 'HTTP/1.1 100 Continue\r\n\r\n';

// Field syntax (token names, field-content values) is gateway/field-section.ts's. Fast test:
// anything outside printable ASCII + HTAB sends the value to the full field-content check.
const NOT_PRINTABLE_ASCII = /[^\t\x20-\x7e]/;
const DIGITS = /^\d+$/;

/** What the head promised about the body; filled by serializeHead (one object per connection, reused). */
export interface ResponseFraming {
  /** The connection stays open after this response. */
  keepAlive: boolean;
  /** Body bytes follow the head (false for HEAD, 1xx, 204, 304). */
  sendBody: boolean;
  /** Body is sent with chunked transfer-coding. */
  chunked: boolean;
  /** The declared Content-Length, or -1 (chunked or close-delimited). */
  contentLength: number;
  /** The head is 7-bit, so it may be written as UTF-8 together with a string body. */
  ascii: boolean;
}

export function newFraming(): ResponseFraming {
  return { keepAlive: true, sendBody: true, chunked: false, contentLength: -1, ascii: true };
}

export class ResponseSerializer {
  readonly #tail: PerSecond;
  readonly #serverLine: string;

  /** `serverHeader` '' sends no Server field. */
  constructor(serverHeader: string) {
    if (serverHeader !== '' && NOT_FIELD_CONTENT.test(serverHeader)) throw new GatehouseError('ERR_APP_BAD_HEADER', `server header value ${JSON.stringify(serverHeader)}`);
    this.#serverLine = serverHeader === '' ? '' : `server: ${serverHeader}\r\n`;
    const serverLine = this.#serverLine;
    this.#tail = new PerSecond((date) => `${serverLine}date: ${date}\r\n`);
  }

  /**
   * Builds the head for `status` and the app's `headers`. Throws ERR_APP_BAD_HEADER (a name or
   * value that is not allowed) or ERR_APP_BAD_RESPONSE (a status that is not 3 digits, a
   * Content-Length that is not a number or disagrees with a known body length) before
   * anything is written, so the caller can still answer 500 on the same connection.
   * `keepAlive`: whether the connection may stay open (request and server state; the app can
   * only turn it off). `bodyLength`: known body length (string/bytes/null body), -1 for a stream.
   * Positional arguments: this runs once per response and an options object would be garbage.
   */
  serializeHead(status: number, headers: ResponseHeaders | undefined | null, http11: boolean, isHead: boolean, keepAlive: boolean, bodyLength: number, out: ResponseFraming): string {
    const statusLine = STATUS_LINES[status];
    if (statusLine === undefined || !Number.isInteger(status)) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `status ${String(status)} is not an integer from 100 to 999`);
    let head = statusLine;
    let ascii = true;
    let appLength = -1;
    let hasDate = false;
    let hasServer = false;
    let appClose = false;

    // One loop per input form, each calling the same field handler inline-able by V8.
    if (headers != null) {
      let raw: readonly string[] | null = null;
      if (headers instanceof HeaderList) raw = headers.raw;
      if (raw !== null || Array.isArray(headers)) {
        const pairs = raw === null ? headers as ReadonlyArray<readonly [string, string]> : null;
        const count = raw === null ? pairs!.length : raw.length >> 1;
        for (let i = 0; i < count; i++) {
          let name: string;
          let value: string;
          if (raw !== null) { name = raw[2 * i]!; value = raw[2 * i + 1]!; }
          else {
            const pair = pairs![i];
            if (!Array.isArray(pair) || pair.length !== 2) throw new GatehouseError('ERR_APP_BAD_HEADER', `header entry ${i} is not a [name, value] pair`);
            name = pair[0] as string;
            value = pair[1] as string;
          }
          if (typeof value !== 'string') value = String(value);
          const kind = classify(name, value);
          if (kind === FIELD_PLAIN) { head += name + ': ' + value + '\r\n'; continue; }
          if (kind === FIELD_PLAIN_LATIN1) { ascii = false; head += name + ': ' + value + '\r\n'; continue; }
          if (kind === FIELD_DATE) { hasDate = true; head += name + ': ' + value + '\r\n'; }
          else if (kind === FIELD_SERVER) { hasServer = true; head += name + ': ' + value + '\r\n'; }
          else if (kind === FIELD_CONNECTION) { if (hasCloseToken(value)) appClose = true; }
          else if (kind === FIELD_CONTENT_LENGTH) appLength = mergeLength(appLength, value);
          // FIELD_TRANSFER_ENCODING: dropped, the server frames the body.
        }
      } else if (typeof headers === 'object') {
        // A Map or a fetch Headers has no own enumerable fields: read as a record it would
        // send none of them, silently. The Gateway Interface does not take them (docs 3.2).
        if (typeof (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
          throw new GatehouseError('ERR_APP_BAD_HEADER', `headers is a ${(headers as object).constructor?.name ?? 'iterable'}: return [name, value] pairs, a plain object or a HeaderList (e.g. [...headers])`);
        }
        const record = headers as Readonly<Record<string, string | number | readonly string[]>>;
        for (const name in record) {
          const field = record[name];
          const values: readonly (string | number)[] = Array.isArray(field) ? field as readonly string[] : [field as string | number];
          for (let j = 0; j < values.length; j++) {
            const value = String(values[j]);
            const kind = classify(name, value);
            if (kind === FIELD_PLAIN) { head += name + ': ' + value + '\r\n'; continue; }
            if (kind === FIELD_PLAIN_LATIN1) { ascii = false; head += name + ': ' + value + '\r\n'; continue; }
            if (kind === FIELD_DATE) { hasDate = true; head += name + ': ' + value + '\r\n'; }
            else if (kind === FIELD_SERVER) { hasServer = true; head += name + ': ' + value + '\r\n'; }
            else if (kind === FIELD_CONNECTION) { if (hasCloseToken(value)) appClose = true; }
            else if (kind === FIELD_CONTENT_LENGTH) appLength = mergeLength(appLength, value);
          }
        }
      } else {
        throw new GatehouseError('ERR_APP_BAD_HEADER', 'headers must be [name, value] pairs, a record or a HeaderList');
      }
    }

    // Framing (RFC 9112 §6.3 read from the server's side).
    const noContentStatus = status < 200 || status === 204 || status === 304;
    const sendBody = !noContentStatus && !isHead;
    let persist = keepAlive && !appClose;
    let chunked = false;
    let contentLength = -1;
    if (status < 200 || status === 204) {
      // MUST NOT send Content-Length (RFC 9110 §8.6); the app's is dropped.
    } else if (appLength >= 0) {
      if (sendBody && bodyLength >= 0 && bodyLength !== appLength) {
        throw new GatehouseError('ERR_APP_BAD_RESPONSE', `content-length ${appLength} but the body has ${bodyLength} bytes`);
      }
      contentLength = appLength;
      head += 'content-length: ' + appLength + '\r\n';
    } else if (bodyLength >= 0) {
      // HEAD: the length the same GET would get, when the app gave a body to measure; a HEAD
      // answered with no body says nothing about the GET's length.
      if (sendBody || (isHead && status !== 304 && bodyLength > 0)) {
        contentLength = bodyLength;
        head += 'content-length: ' + bodyLength + '\r\n';
      }
    } else if (sendBody) {
      if (http11) { chunked = true; head += 'transfer-encoding: chunked\r\n'; }
      else persist = false; // HTTP/1.0 has no chunked: the body ends when the connection does.
    }
    if (http11) { if (!persist) head += 'connection: close\r\n'; }
    else head += persist ? 'connection: keep-alive\r\n' : 'connection: close\r\n';

    if (hasDate || hasServer) {
      if (!hasServer) head += this.#serverLine;
      if (!hasDate) head += this.#tail.get().slice(this.#serverLine.length);
    } else {
      head += this.#tail.get();
    }
    out.keepAlive = persist;
    out.sendBody = sendBody;
    out.chunked = chunked;
    out.contentLength = contentLength;
    out.ascii = ascii;
    return head + '\r\n';
  }

  /**
   * A complete short text response the server writes on its own (protocol errors, 500s,
   * 504s): the head plus the body, as one latin1 string.
   */
  simpleResponse(status: number, text: string, http11: boolean, isHead: boolean, keepAlive: boolean, out: ResponseFraming): string {
    const body = text.replace(/[^\t\n\r\x20-\x7e]/g, '?');
    const head = this.serializeHead(status, SIMPLE_HEADERS, http11, isHead, keepAlive, body.length, out);
    return out.sendBody ? head + body : head;
  }
}

const SIMPLE_HEADERS: ReadonlyArray<readonly [string, string]> = [['content-type', 'text/plain; charset=utf-8']];

const FIELD_PLAIN = 0;
const FIELD_PLAIN_LATIN1 = 1;
const FIELD_DATE = 2;
const FIELD_SERVER = 3;
const FIELD_CONNECTION = 4;
const FIELD_CONTENT_LENGTH = 5;
const FIELD_TRANSFER_ENCODING = 6;

/** Validates one field and says which of the server-owned names it is (compared only when the length matches). */
function classify(name: string, value: string): number {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new GatehouseError('ERR_APP_BAD_HEADER', `name ${JSON.stringify(String(name))} is not a token`);
  let kind = FIELD_PLAIN;
  if (NOT_PRINTABLE_ASCII.test(value)) {
    checkFieldValue(name, value);
    kind = FIELD_PLAIN_LATIN1;
  }
  switch (name.length) {
    case 4: if (name.toLowerCase() === 'date') return FIELD_DATE; break;
    case 6: if (name.toLowerCase() === 'server') return FIELD_SERVER; break;
    case 10: if (name.toLowerCase() === 'connection') return FIELD_CONNECTION; break;
    case 14: if (name.toLowerCase() === 'content-length') return FIELD_CONTENT_LENGTH; break;
    case 17: if (name.toLowerCase() === 'transfer-encoding') return FIELD_TRANSFER_ENCODING; break;
  }
  return kind;
}

function mergeLength(previous: number, value: string): number {
  const text = value.trim();
  if (!DIGITS.test(text) || text.length > 15) throw new GatehouseError('ERR_APP_BAD_HEADER', `content-length ${JSON.stringify(value)} is not a number of bytes`);
  const length = Number(text);
  if (previous >= 0 && previous !== length) throw new GatehouseError('ERR_APP_BAD_HEADER', `two different content-length values (${previous}, ${length})`);
  return length;
}

/** Connection = #connection-option (RFC 9110 §7.6.1), case-insensitive tokens. */
function hasCloseToken(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower.indexOf('close') === -1) return false;
  for (const token of lower.split(',')) if (token.trim() === 'close') return true;
  return false;
}

/** `size CRLF` for one chunk (RFC 9112 §7.1). */
export function chunkHeader(size: number): string {
  return size.toString(16) + '\r\n';
}

export const LAST_CHUNK = '0\r\n\r\n';

/** Throws ERR_APP_BAD_HEADER unless `name` is a token and `value` is field-content: the rule for every protocol's response fields. */
export function checkResponseField(name: string, value: string): void {
  classify(name, value);
}

/** An app's Content-Length value, merged with one seen before (-1 for none); throws ERR_APP_BAD_HEADER. */
export { mergeLength as mergeContentLength };

/** flat [name, value, ...] (checked: gateway/field-section.ts) as field lines. */
function fieldLines(fields: readonly string[]): string {
  let lines = '';
  for (let i = 0; i < fields.length; i += 2) lines += fields[i]! + ': ' + fields[i + 1]! + '\r\n';
  return lines;
}

/** An interim response head (RFC 9110 §15.2): status line and the app's checked fields (gateway/interim.ts). */
export function interimHead(status: number, fields: readonly string[]): string {
  return STATUS_LINES[status]! + fieldLines(fields) + '\r\n';
}

/**
 * The end of a chunked body with trailer fields (checked: gateway/trailers.ts):
 *   last-chunk trailer-section CRLF; trailer-section = *( field-line CRLF )   (RFC 9112 §7.1)
 */
export function lastChunkWithTrailers(fields: readonly string[]): string {
  return '0\r\n' + fieldLines(fields) + '\r\n';
}
