/*
 * Incremental, strict HTTP/1.1 request parser (RFC 9112), a push parser with no I/O: the
 * connection calls execute(bytes); the parser calls ParserHandlers synchronously and returns
 * how many bytes it consumed (see parse-events.ts for the contract). It stops after each
 * complete message, and after the first error, when it is dead for good: the connection
 * answers with error.status and closes, so no byte after a framing error is ever read as a
 * request.
 *
 * How it is fast without giving up strictness:
 * - The head is parsed as text. When the whole head is in the input (the usual case), one
 *   native search finds its end (CRLF CRLF) and one latin1Slice turns it into a string; lines,
 *   names and values are then found with charCodeAt + 256-entry tables (grammar.ts), and taken
 *   with slice(), which V8 does without copying for longer strings. No regex, no per-byte
 *   callback, no intermediate arrays.
 * - When the head arrives in pieces, the same line function runs on one line at a time; an
 *   unfinished line waits in a small carry buffer whose size the limits bound (a line can never
 *   be longer than maxRequestLine / maxHeaderFieldSize / maxChunkLine + CR). Both paths check
 *   lines in the same order with the same function, so any split of the input gives the same
 *   events and the same error.
 * - Body bytes are not copied: onBody gets subarray views of the input, except for chunks of
 *   at most SMALL_CHUNK bytes past the first few of an input, which are gathered into one onBody
 *   (see SMALL_CHUNK).
 *
 * Limits (each checked as soon as it can be, while a line is still arriving):
 * - request-line longer than maxRequestLine (without CRLF): 414;
 * - a field line longer than maxHeaderFieldSize, more than maxHeaderCount fields, or a header
 *   section larger than headerSectionLimit() (the same bounds apply to trailers): 431;
 * - Content-Length above maxBodySize: 413 at head time; chunked: 413 as soon as a chunk-size
 *   would take the body past maxBodySize (before its data is delivered);
 * - chunk-size line longer than maxChunkLine: 400.
 * - at most MAX_LEADING_EMPTY_LINES empty lines before a request-line (RFC 9112 2.2 asks us to
 *   ignore at least one, for clients that send CRLF after a POST body): more is 400.
 *
 * `idle` is true only when no byte of a next message has been consumed; a stray CRLF between
 * requests counts as the start of the next one.
 */
import { GatehouseError, type ErrorCode } from '../errors/index.js';
import type { ParserLimits } from './options.js';
import type { BodyFraming, ParsedHead, ParserHandlers } from './parse-events.js';
import { CR, LF, SP, COLON, SLASH, TCHAR, TARGET, FIELD_VALUE, OWS, DIGIT } from './grammar.js';
import { parseChunkSize, CHUNK_LINE_ERRORS } from './chunked.js';
import { scanFieldValue, internFieldName, internFieldNameWords, internMethod } from './parser-scan.js';
import {
  parseContentLength, connectionOptions, isContinueExpectation, parseTransferCodings, judgeTransferCodings,
  targetFormError, targetAuthority, isHostValue, CONNECTION_CLOSE, CONNECTION_KEEP_ALIVE, CONNECTION_UPGRADE, type TransferCoding,
} from './parser-fields.js';

export const MAX_LEADING_EMPTY_LINES = 2;

/**
 * Past the first SMALL_CHUNKS_AS_VIEWS of an input, chunk data pieces up to this size are
 * copied together and reported as one onBody per input (or per SMALL_BUFFER bytes), instead of
 * one onBody each. A body sent as a million 1-byte
 * chunks ("chunkloris") would otherwise cost the app a million reads for 6 MB on the wire;
 * gathered, it costs one read per socket read. Larger pieces are still passed as views, uncopied.
 */
const SMALL_CHUNK = 256;
/** The first small pieces of each input still go out as views: a request of a few chunks pays no copy. */
const SMALL_CHUNKS_AS_VIEWS = 16;
/** Below Buffer.poolSize / 2, so allocUnsafe takes it from the shared pool (a slice, no allocation). */
const SMALL_BUFFER = 4095;

// Parser states. Plain numbers (not an enum) so the switch compiles to integer compares.
const REQUEST_LINE = 0;
const HEADERS = 1;
const BODY = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_CR = 5;
const CHUNK_DATA_LF = 6;
const TRAILERS = 7;
const DEAD = 8;

// Results of a line function.
const LINE_ERROR = 0;
const LINE_MORE = 1;
/** The head (or trailer section) ended: stop the fast path's line loop. */
const LINE_SECTION_END = 2;

const METHOD_ERROR = 'method is not a token followed by one SP';
const BARE_LF_ERROR = 'line ends in a bare LF (CRLF required)';

/** Lengths of the field names headerField acts on (host, expect, upgrade, connection, content-length, transfer-encoding). */
const SPECIAL_NAME_LENGTH = new Uint8Array(32);
for (const name of ['host', 'expect', 'upgrade', 'connection', 'content-length', 'transfer-encoding']) SPECIAL_NAME_LENGTH[name.length] = 1;

const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const hasLatin1Slice = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';
/** Buffer#latin1Slice is what Buffer#toString('latin1') calls, minus the encoding dispatch. */
const latin1 = hasLatin1Slice
  ? (buf: Buffer, start: number, end: number): string => (buf as Latin1Buffer).latin1Slice(start, end)
  : (buf: Buffer, start: number, end: number): string => buf.toString('latin1', start, end);

/**
 * Bound on a whole header (or trailer) section, counting each field line's CRLF: the larger of
 * 256 KiB and four maximal fields, but never more than maxHeaderCount maximal fields.
 */
export function headerSectionLimit(limits: ParserLimits): number {
  const implied = limits.maxHeaderCount * (limits.maxHeaderFieldSize + 2) + 2;
  return Math.min(implied, Math.max(256 * 1024, 4 * (limits.maxHeaderFieldSize + 2)));
}

export class RequestParser {
  /** Set at the first error; from then on execute() consumes nothing. */
  error: GatehouseError | null = null;

  private readonly limits: ParserLimits;
  private readonly handlers: ParserHandlers;
  private readonly sectionLimit: number;
  /** Largest head the fast path slices in one go; anything larger goes line by line (and fails there). */
  private readonly fastHeadLimit: number;

  private state = REQUEST_LINE;
  /** Bytes of an unfinished line (head, trailer or chunk-size line). */
  private carry: Buffer = Buffer.allocUnsafe(256);
  private carryLength = 0;
  /** Latin1 text of the head or line being parsed; byte i of the input is text[i - textBase]. */
  private text = '';
  private textBase = 0;
  /** 32-bit view of the input for scanFieldValue. */
  private view: DataView = new DataView(new ArrayBuffer(8));
  /** Whether any byte of the current message has been consumed (see `idle`). */
  private started = false;
  private completed = false;

  // Per message.
  private leadingEmptyLines = 0;
  private method = '';
  private target = '';
  private httpVersion: '1.0' | '1.1' = '1.1';
  private rawHeaders: string[] = [];
  private fieldCount = 0;
  private sectionBytes = 0;
  private contentLength = -1;
  private transferCodings: TransferCoding[] | null = null;
  /** Index in rawHeaders of the Host value, -1 until one is seen. */
  private hostIndex = -1;
  /** The target's authority (absolute- and authority-form), else null. */
  private authority: string | null = null;
  private connection = 0;
  private expectContinue = false;
  private upgradeSeen = false;
  /** Bytes left in the Content-Length body or the current chunk. */
  private remaining = 0;
  private chunkedBodyBytes = 0;
  private trailers: string[] | null = null;
  /** Small chunks of the current input, gathered (see SMALL_CHUNK); null until needed. */
  private small: Buffer | null = null;
  private smallLength = 0;
  /** Small chunk pieces seen in the current input. */
  private smallChunks = 0;

  constructor(limits: ParserLimits, handlers: ParserHandlers) {
    this.limits = limits;
    this.handlers = handlers;
    this.sectionLimit = headerSectionLimit(limits);
    this.fastHeadLimit = limits.maxRequestLine + 2 + this.sectionLimit + 2 * MAX_LEADING_EMPTY_LINES;
  }

  /** Between messages (nothing of a next request seen yet): the connection is idle. */
  get idle(): boolean {
    return !this.started && this.state === REQUEST_LINE;
  }

  /**
   * Feeds bytes; returns how many were consumed. It stops right after a complete message (the
   * caller decides when the next request begins: the next execute() with the remaining bytes
   * starts it) and at the first error.
   */
  execute(data: Uint8Array, offset = 0, end = data.length): number {
    this.smallChunks = 0;
    const consumed = this.run(data, offset, end);
    if (this.smallLength !== 0) this.flushSmall();
    return consumed;
  }

  private run(data: Uint8Array, offset: number, end: number): number {
    if (this.state === DEAD) return 0;
    const buf: Buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let pos = offset;
    while (pos < end) {
      switch (this.state) {
        case REQUEST_LINE:
        case HEADERS:
          pos = this.headBytes(buf, pos, end);
          break;
        case BODY:
          pos = this.lengthBody(buf, pos, end);
          break;
        case CHUNK_SIZE:
          pos = this.chunkSizeLine(buf, pos, end);
          break;
        case CHUNK_DATA:
          pos = this.chunkData(buf, pos, end);
          break;
        case CHUNK_DATA_CR:
          if (buf[pos] !== CR) return this.fail(pos - offset, 'ERR_HTTP_BAD_REQUEST', 'chunk data not followed by CRLF');
          this.state = CHUNK_DATA_LF;
          pos++;
          break;
        case CHUNK_DATA_LF:
          if (buf[pos] !== LF) return this.fail(pos - offset, 'ERR_HTTP_BAD_REQUEST', 'chunk data not followed by CRLF');
          this.state = CHUNK_SIZE;
          pos++;
          break;
        case TRAILERS:
          pos = this.lineBytes(buf, pos, end);
          break;
        default:
          return pos - offset;
      }
      if (this.completed) {
        this.completed = false;
        return pos - offset;
      }
      if (this.state === DEAD) return pos - offset;
    }
    return pos - offset;
  }

  // ---- failure -------------------------------------------------------------------------

  private fail(consumed: number, code: ErrorCode, detail: string): number {
    this.die(code, detail);
    return consumed;
  }

  private die(code: ErrorCode, detail: string): 0 {
    if (this.smallLength !== 0) this.flushSmall(); // body bytes before the error are reported, as they were before it
    this.error = new GatehouseError(code, detail);
    this.state = DEAD;
    this.carryLength = 0;
    return LINE_ERROR;
  }

  // ---- lines -----------------------------------------------------------------------------

  /** Head bytes: the fast path when the whole head is here, else one line at a time. */
  private headBytes(buf: Buffer, pos: number, end: number): number {
    this.started = true;
    if (this.state === REQUEST_LINE && this.carryLength === 0) {
      const stop = buf.indexOf(HEAD_END, pos);
      if (stop !== -1 && stop + 4 <= end && stop + 4 - pos <= this.fastHeadLimit) return this.wholeHead(buf, pos, stop + 4);
    }
    return this.lineBytes(buf, pos, end);
  }

  /**
   * buf[pos, headEnd) is a whole head ending in CRLF CRLF. Field lines are scanned
   * optimistically (name, colon, value, CRLF, with no LF search first); any line that does not
   * scan cleanly -- and the empty line that ends the head -- goes through the exact line
   * functions that the split path uses, so both paths report the same thing.
   */
  private wholeHead(buf: Buffer, pos: number, headEnd: number): number {
    this.text = latin1(buf, pos, headEnd);
    this.textBase = pos;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let i = pos;
    const first = this.fastRequestLine(buf, i);
    if (first === 0) return i;
    if (first !== -1) i = first;
    while (this.state === REQUEST_LINE) {
      if (i === headEnd) return i; // only empty lines so far: the head's end was their CRLF CRLF
      const lf = buf.indexOf(LF, i);
      if (this.requestLine(buf, i, lf) === LINE_ERROR) return i;
      i = lf + 1;
    }
    while (i < headEnd) {
      i = this.fastFieldLines(buf, i, headEnd);
      if (this.state === DEAD) return i;
      const lf = buf.indexOf(LF, i);
      const result = this.fieldLine(buf, i, lf);
      if (result === LINE_ERROR) return i;
      i = lf + 1;
      if (result === LINE_SECTION_END) break;
    }
    return i;
  }

  /**
   * One line (or the start of one) from bytes: through the carry buffer when it is split.
   * Used for head lines that arrive in pieces and for trailers.
   */
  private lineBytes(buf: Buffer, pos: number, end: number): number {
    const lf = buf.indexOf(LF, pos);
    if (lf === -1 || lf >= end) {
      if (!this.partialLineFits(this.carryLength + end - pos, this.carryLength === 0 ? buf[pos]! : this.carry[0]!)) return pos;
      this.appendCarry(buf, pos, end);
      return end;
    }
    let result: number;
    if (this.carryLength === 0) {
      this.text = latin1(buf, pos, lf + 1);
      this.textBase = pos;
      result = this.line(buf, pos, lf);
    } else {
      this.appendCarry(buf, pos, lf + 1);
      const length = this.carryLength;
      this.carryLength = 0;
      this.text = latin1(this.carry, 0, length);
      this.textBase = 0;
      result = this.line(this.carry, 0, length - 1);
    }
    return result === LINE_ERROR ? pos : lf + 1;
  }

  private appendCarry(buf: Buffer, start: number, end: number): void {
    const needed = this.carryLength + end - start;
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.carry.length * 2));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    buf.copy(this.carry, this.carryLength, start, end);
    this.carryLength = needed;
  }

  /**
   * Whether an unfinished line of `length` bytes may still become a valid line: the same
   * bounds as the line functions check first (a line's bytes before LF are at most limit + CR).
   */
  private partialLineFits(length: number, firstByte: number): boolean {
    switch (this.state) {
      case REQUEST_LINE:
        if (length > this.limits.maxRequestLine + 1) {
          this.die('ERR_HTTP_URI_TOO_LONG', `request-line longer than ${this.limits.maxRequestLine} bytes`);
          return false;
        }
        // Refuse a first byte that cannot start a method now rather than when (if ever) an LF
        // comes: a TLS ClientHello or other binary sent to this port fails at once. requestLine()
        // checks the method first too, so a split input fails the same way.
        if (TCHAR[firstByte] === 0 && firstByte !== CR) {
          this.die('ERR_HTTP_BAD_REQUEST', METHOD_ERROR);
          return false;
        }
        return true;
      case HEADERS:
      case TRAILERS:
        if (length > this.limits.maxHeaderFieldSize + 1) {
          this.die('ERR_HTTP_HEADERS_TOO_LARGE', `field line longer than ${this.limits.maxHeaderFieldSize} bytes`);
          return false;
        }
        if (this.sectionBytes + length > this.sectionLimit) {
          this.die('ERR_HTTP_HEADERS_TOO_LARGE', `field section larger than ${this.sectionLimit} bytes`);
          return false;
        }
        return true;
      default: // CHUNK_SIZE
        if (length > this.limits.maxChunkLine + 1) {
          this.die('ERR_HTTP_BAD_REQUEST', `chunk-size line longer than ${this.limits.maxChunkLine} bytes`);
          return false;
        }
        return true;
    }
  }

  /** bytes[start, lf] is one line ending in LF; this.text holds the same bytes from this.textBase. */
  private line(bytes: Uint8Array, start: number, lf: number): number {
    return this.state === REQUEST_LINE ? this.requestLine(bytes, start, lf) : this.fieldLine(bytes, start, lf);
  }

  /** The latin1 string of bytes[start, end) (this.text holds the current line or head). */
  private slice(start: number, end: number): string {
    return this.text.slice(start - this.textBase, end - this.textBase);
  }

  // ---- request-line ------------------------------------------------------------------------

  /**
   * requestLine's common case for a whole head: method SP target SP HTTP/1.x CRLF, scanned
   * without an LF search. Returns the index after the LF, 0 after an error, or -1 when the
   * line needs requestLine (a leading empty line, anything malformed). Like fastFieldLine it
   * only accepts lines requestLine accepts, and checks what can still fail in its order.
   */
  private fastRequestLine(bytes: Uint8Array, start: number): number {
    const tchar = TCHAR;
    let i = start;
    while (tchar[bytes[i]!] !== 0) i++;
    if (i === start || bytes[i] !== SP) return -1;
    const methodEnd = i++;
    const targetStart = i;
    const target = TARGET;
    while (target[bytes[i]!] === 1) i++;
    if (i === targetStart || bytes[i] !== SP) return -1;
    const targetEnd = i;
    const v = i + 1;
    // "HTTP/1." then 0 or 1, then CRLF
    if (bytes[v] !== 0x48 || bytes[v + 1] !== 0x54 || bytes[v + 2] !== 0x54 || bytes[v + 3] !== 0x50 || bytes[v + 4] !== SLASH ||
        bytes[v + 5] !== 0x31 || bytes[v + 6] !== 0x2e || (bytes[v + 7] !== 0x31 && bytes[v + 7] !== 0x30) ||
        bytes[v + 8] !== CR || bytes[v + 9] !== LF) return -1;
    const lf = v + 9;
    if (lf - start > this.limits.maxRequestLine + 1) return this.die('ERR_HTTP_URI_TOO_LONG', `request-line longer than ${this.limits.maxRequestLine} bytes`);
    return this.acceptRequestLine(bytes, start, methodEnd, targetStart, targetEnd, bytes[v + 7] === 0x31) === LINE_ERROR ? 0 : lf + 1;
  }

  /**
   * RFC 9112 3: request-line = method SP request-target SP HTTP-version
   *             method = token;  HTTP-version = HTTP-name "/" DIGIT "." DIGIT;  HTTP-name = %s"HTTP"
   */
  private requestLine(bytes: Uint8Array, start: number, lf: number): number {
    const first = bytes[start]!;
    if (TCHAR[first] === 0 && first !== CR && first !== LF) return this.die('ERR_HTTP_BAD_REQUEST', METHOD_ERROR);
    if (lf - start > this.limits.maxRequestLine + 1) return this.die('ERR_HTTP_URI_TOO_LONG', `request-line longer than ${this.limits.maxRequestLine} bytes`);
    if (lf === start) return this.die('ERR_HTTP_BAD_REQUEST', BARE_LF_ERROR);
    if (lf === start + 1 && first === CR) {
      if (++this.leadingEmptyLines > MAX_LEADING_EMPTY_LINES) return this.die('ERR_HTTP_BAD_REQUEST', 'too many empty lines before the request-line');
      return LINE_MORE;
    }
    // The method is checked before the line ending (see partialLineFits).
    let i = start;
    while (i < lf && TCHAR[bytes[i]!] !== 0) i++;
    if (i === start || bytes[i] !== SP) return this.die('ERR_HTTP_BAD_REQUEST', METHOD_ERROR);
    if (bytes[lf - 1] !== CR) return this.die('ERR_HTTP_BAD_REQUEST', BARE_LF_ERROR);
    const end = lf - 1;
    const methodEnd = i;
    const targetStart = ++i;
    while (i < end && TARGET[bytes[i]!] === 1) i++;
    if (i === targetStart || i === end || bytes[i] !== SP) return this.die('ERR_HTTP_BAD_REQUEST', 'request-target has a byte outside VCHAR or is not followed by one SP');
    const v = i + 1;
    // HTTP-version = %s"HTTP" "/" DIGIT "." DIGIT
    if (end - v !== 8 || bytes[v] !== 0x48 || bytes[v + 1] !== 0x54 || bytes[v + 2] !== 0x54 || bytes[v + 3] !== 0x50 ||
        bytes[v + 4] !== SLASH || DIGIT[bytes[v + 5]!] === 0 || bytes[v + 6] !== 0x2e || DIGIT[bytes[v + 7]!] === 0) {
      return this.die('ERR_HTTP_BAD_REQUEST', 'malformed HTTP-version');
    }
    const major = bytes[v + 5]!;
    const minor = bytes[v + 7]!;
    if (major !== 0x31 || (minor !== 0x31 && minor !== 0x30)) return this.die('ERR_HTTP_VERSION', `HTTP/${major - 0x30}.${minor - 0x30}`);
    return this.acceptRequestLine(bytes, start, methodEnd, targetStart, i, minor === 0x31);
  }

  private acceptRequestLine(bytes: Uint8Array, start: number, methodEnd: number, targetStart: number, targetEnd: number, http11: boolean): number {
    const method = internMethod(bytes, start, methodEnd) ?? this.slice(start, methodEnd);
    const target = this.slice(targetStart, targetEnd);
    const formError = targetFormError(method, target);
    if (formError !== null) return this.die('ERR_HTTP_BAD_REQUEST', formError);
    this.method = method;
    this.target = target;
    this.authority = targetAuthority(target);
    this.httpVersion = http11 ? '1.1' : '1.0';
    this.state = HEADERS;
    return LINE_MORE;
  }

  // ---- field lines (headers and trailers) ------------------------------------------------------

  /**
   * RFC 9112 5: field-line = field-name ":" OWS field-value OWS
   * No whitespace between name and colon (5.1), no obs-fold (5.2), no bare CR/LF or other
   * control byte in a value (RFC 9110 5.5).
   */
  private fieldLine(bytes: Uint8Array, start: number, lf: number): number {
    const limits = this.limits;
    if (lf - start > limits.maxHeaderFieldSize + 1) return this.die('ERR_HTTP_HEADERS_TOO_LARGE', `field line longer than ${limits.maxHeaderFieldSize} bytes`);
    this.sectionBytes += lf - start + 1;
    if (this.sectionBytes > this.sectionLimit) return this.die('ERR_HTTP_HEADERS_TOO_LARGE', `field section larger than ${this.sectionLimit} bytes`);
    if (lf === start || bytes[lf - 1] !== CR) return this.die('ERR_HTTP_BAD_REQUEST', BARE_LF_ERROR);
    const end = lf - 1;
    if (end === start) return this.state === HEADERS ? this.endOfHead() : this.endOfTrailers();
    if (OWS[bytes[start]!] === 1) return this.die('ERR_HTTP_BAD_REQUEST', 'obs-fold or whitespace at the start of a field line');
    if (++this.fieldCount > limits.maxHeaderCount) return this.die('ERR_HTTP_HEADERS_TOO_LARGE', `more than ${limits.maxHeaderCount} fields`);

    let i = start;
    let kinds = 0;
    for (; i < end; i++) {
      const byte = bytes[i]!;
      const kind = TCHAR[byte]!;
      if (kind === 0) break;
      kinds |= kind;
    }
    if (i === end) return this.die('ERR_HTTP_BAD_REQUEST', 'field line without a colon');
    const stop = bytes[i]!;
    if (stop !== COLON) {
      return this.die('ERR_HTTP_BAD_REQUEST', OWS[stop] === 1 ? 'whitespace between field name and colon' : 'field name is not a token');
    }
    if (i === start) return this.die('ERR_HTTP_BAD_REQUEST', 'empty field name');
    const nameEnd = i;
    i++;
    while (i < end && OWS[bytes[i]!] === 1) i++;
    const valueStart = i;
    for (; i < end; i++) {
      if (FIELD_VALUE[bytes[i]!] === 0) return this.die('ERR_HTTP_BAD_REQUEST', `invalid byte in the value of ${this.slice(start, nameEnd).toLowerCase()}`);
    }
    let valueEnd = end;
    while (valueEnd > valueStart && OWS[bytes[valueEnd - 1]!] === 1) valueEnd--;
    return this.field(bytes, start, nameEnd, kinds, valueStart, valueEnd);
  }

  /**
   * The common case of fieldLine for a whole head, as one loop over the field lines that scan
   * cleanly (name, colon, value, CRLF; no LF search, counters in locals). Returns the start of
   * the first line it leaves to fieldLine (anything unusual, including the empty line that ends
   * the head), or of the line that failed (then the parser is dead). It accepts only lines that
   * fieldLine accepts, and checks what can still fail (the limits) in fieldLine's order.
   */
  private fastFieldLines(bytes: Uint8Array, i: number, headEnd: number): number {
    const tchar = TCHAR;
    const ows = OWS;
    const view = this.view;
    const rawHeaders = this.rawHeaders;
    const maxLine = this.limits.maxHeaderFieldSize + 1;
    const maxCount = this.limits.maxHeaderCount;
    const sectionLimit = this.sectionLimit;
    const text = this.text;
    const textBase = this.textBase;
    let sectionBytes = this.sectionBytes;
    let fieldCount = this.fieldCount;
    for (;;) {
      // The head ends in CRLF CRLF, and CR is in none of these classes: every loop stops in it.
      const start = i;
      let kinds = 0;
      for (;;) {
        const byte = bytes[i]!;
        const kind = tchar[byte]!;
        if (kind === 0) break;
        kinds |= kind;
        i++;
      }
      if (i === start || bytes[i] !== COLON) { i = start; break; }
      const nameEnd = i++;
      while (ows[bytes[i]!] === 1) i++;
      const valueStart = i;
      i = scanFieldValue(view, bytes, i, headEnd);
      if (bytes[i] !== CR || bytes[i + 1] !== LF) { i = start; break; }
      // As in fieldLine: the line up to its LF (content + CR) against the limit + 1, the whole
      // line with CRLF toward the section.
      if (i + 1 - start > maxLine) { this.die('ERR_HTTP_HEADERS_TOO_LARGE', `field line longer than ${maxLine - 1} bytes`); return start; }
      sectionBytes += i + 2 - start;
      if (sectionBytes > sectionLimit) { this.die('ERR_HTTP_HEADERS_TOO_LARGE', `field section larger than ${sectionLimit} bytes`); return start; }
      if (++fieldCount > maxCount) { this.die('ERR_HTTP_HEADERS_TOO_LARGE', `more than ${maxCount} fields`); return start; }
      let valueEnd = i;
      while (valueEnd > valueStart && ows[bytes[valueEnd - 1]!] === 1) valueEnd--;
      i += 2;
      let name = internFieldNameWords(view, bytes, start, nameEnd);
      if (name === undefined) {
        name = text.slice(start - textBase, nameEnd - textBase);
        if (kinds & 2) name = name.toLowerCase();
      }
      const value = text.slice(valueStart - textBase, valueEnd - textBase);
      rawHeaders.push(name, value);
      if (SPECIAL_NAME_LENGTH[name.length] === 1 && this.headerField(name, value) === LINE_ERROR) return start;
    }
    this.sectionBytes = sectionBytes;
    this.fieldCount = fieldCount;
    return i;
  }

  /** A checked field line: record it (header or trailer) and act on the fields that matter. */
  private field(bytes: Uint8Array, start: number, nameEnd: number, kinds: number, valueStart: number, valueEnd: number): number {
    let name = internFieldName(bytes, start, nameEnd);
    if (name === undefined) {
      name = this.slice(start, nameEnd);
      if (kinds & 2) name = name.toLowerCase();
    }
    const value = this.slice(valueStart, valueEnd);
    if (this.state === TRAILERS) return this.trailerField(name, value);
    this.rawHeaders.push(name, value);
    return this.headerField(name, value);
  }

  /**
   * Fields that decide framing and connection handling; every other field is only recorded.
   * `value` has had its surrounding OWS removed, SP and HTAB alike (RFC 9110 5.6.3:
   * OWS = *( SP / HTAB )), so `Transfer-Encoding:<HTAB>chunked<HTAB>` is chunked and
   * `Content-Length: 5<HTAB>` is 5. llhttp refuses an HTAB after those two values; a refusal in
   * front of us frames nothing, and any parser that strips OWS frames the message as we do.
   */
  private headerField(name: string, value: string): number {
    switch (name.length) {
      case 4:
        if (name === 'host') {
          // RFC 9112 3.2: more than one Host, or an invalid one, is 400.
          if (this.hostIndex !== -1) return this.die('ERR_HTTP_BAD_REQUEST', 'more than one Host field');
          if (!isHostValue(value)) return this.die('ERR_HTTP_BAD_REQUEST', 'Host is not a valid uri-host [":" port]');
          this.hostIndex = this.rawHeaders.length - 1;
        }
        break;
      case 6:
        if (name === 'expect' && isContinueExpectation(value)) this.expectContinue = true;
        break;
      case 7:
        if (name === 'upgrade') this.upgradeSeen = true;
        break;
      case 10:
        if (name === 'connection') this.connection |= connectionOptions(value);
        break;
      case 14:
        if (name === 'content-length') {
          if (this.contentLength !== -1) return this.die('ERR_HTTP_BAD_REQUEST', 'more than one Content-Length field');
          const length = parseContentLength(value);
          if (length === -1) return this.die('ERR_HTTP_BAD_REQUEST', 'Content-Length is not a plain decimal number');
          this.contentLength = length;
        }
        break;
      case 17:
        if (name === 'transfer-encoding') {
          if (this.transferCodings === null) this.transferCodings = [];
          if (!parseTransferCodings(value, this.transferCodings)) return this.die('ERR_HTTP_BAD_REQUEST', 'malformed Transfer-Encoding list');
        }
        break;
    }
    return LINE_MORE;
  }

  private trailerField(name: string, value: string): number {
    // RFC 9110 6.5.1: framing and routing fields are not allowed in trailers.
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'host') {
      return this.die('ERR_HTTP_BAD_REQUEST', `${name} is not allowed in trailers`);
    }
    (this.trailers ??= []).push(name, value);
    return LINE_MORE;
  }

  // ---- end of head: framing -------------------------------------------------------------

  private endOfHead(): number {
    const http11 = this.httpVersion === '1.1';
    if (http11 && this.hostIndex === -1) return this.die('ERR_HTTP_BAD_REQUEST', 'HTTP/1.1 request without Host');
    // RFC 9112 3.2.2: with an absolute-form target the server MUST ignore Host and use the
    // target's authority; with authority-form (CONNECT) the target is the authority (RFC 9112
    // 3.3). So that an app, its framework and anything that reads the Host field route on the
    // same host the request-line names, the Host value is replaced by the target's authority
    // (appended as a Host field when an HTTP/1.0 request sent none).
    const authority = this.authority;
    if (authority !== null) {
      if (this.hostIndex !== -1) this.rawHeaders[this.hostIndex] = authority;
      else this.rawHeaders.push('host', authority);
    }
    let framing: BodyFraming = NO_BODY;
    const codings = this.transferCodings;
    if (codings !== null) {
      if (!http11) return this.die('ERR_HTTP_BAD_REQUEST', 'Transfer-Encoding in an HTTP/1.0 request');
      if (this.contentLength !== -1) return this.die('ERR_HTTP_BAD_REQUEST', 'both Content-Length and Transfer-Encoding');
      const verdict = judgeTransferCodings(codings);
      if (!verdict.ok) return this.die(verdict.status === 501 ? 'ERR_HTTP_NOT_IMPLEMENTED' : 'ERR_HTTP_BAD_REQUEST', verdict.detail);
      framing = CHUNKED;
    } else if (this.contentLength !== -1) {
      const max = this.limits.maxBodySize;
      if (max > 0 && this.contentLength > max) return this.die('ERR_HTTP_BODY_TOO_LARGE', `Content-Length ${this.contentLength} is over ${max} bytes`);
      framing = { kind: 'length', length: this.contentLength };
    }
    // RFC 9110 9.3.6: CONNECT content has no defined semantics, and llhttp (node:http) frames
    // a CONNECT head as the end of HTTP on the connection, whatever its Content-Length or
    // Transfer-Encoding say. Reading a body where a parser in front reads none would be a
    // desync (found by differential.test.ts), so such a request is refused.
    if (this.method === 'CONNECT' && (framing === CHUNKED || this.contentLength > 0)) {
      return this.die('ERR_HTTP_BAD_REQUEST', 'CONNECT request with a body');
    }
    const connection = this.connection;
    const keepAlive = (connection & CONNECTION_CLOSE) === 0 && (http11 || (connection & CONNECTION_KEEP_ALIVE) !== 0);
    const head: ParsedHead = {
      method: this.method,
      target: this.target,
      httpVersion: this.httpVersion,
      rawHeaders: this.rawHeaders,
      framing,
      keepAlive,
      expectContinue: http11 && this.expectContinue,
      upgrade: this.upgradeSeen && (connection & CONNECTION_UPGRADE) !== 0,
    };
    if (framing === CHUNKED) {
      this.state = CHUNK_SIZE;
      this.chunkedBodyBytes = 0;
    } else if (framing.kind === 'length' && framing.length > 0) {
      this.state = BODY;
      this.remaining = framing.length;
    }
    this.handlers.onHead(head);
    if (this.state === HEADERS) this.complete();
    return LINE_SECTION_END;
  }

  private endOfTrailers(): number {
    const trailers = this.trailers;
    if (trailers !== null && this.handlers.onTrailers) this.handlers.onTrailers(trailers);
    this.complete();
    return LINE_SECTION_END;
  }

  private complete(): void {
    if (this.smallLength !== 0) this.flushSmall();
    this.state = REQUEST_LINE;
    this.started = false;
    this.completed = true;
    this.leadingEmptyLines = 0;
    this.method = '';
    this.target = '';
    this.rawHeaders = [];
    this.fieldCount = 0;
    this.sectionBytes = 0;
    this.contentLength = -1;
    this.transferCodings = null;
    this.hostIndex = -1;
    this.authority = null;
    this.connection = 0;
    this.expectContinue = false;
    this.upgradeSeen = false;
    this.trailers = null;
    this.handlers.onMessageComplete();
  }

  // ---- body --------------------------------------------------------------------------------

  private lengthBody(buf: Buffer, pos: number, end: number): number {
    const n = Math.min(this.remaining, end - pos);
    this.remaining -= n;
    this.handlers.onBody(buf.subarray(pos, pos + n));
    if (this.remaining === 0) this.complete();
    return pos + n;
  }

  private chunkData(buf: Buffer, pos: number, end: number): number {
    const n = Math.min(this.remaining, end - pos);
    this.remaining -= n;
    if (this.remaining === 0) this.state = CHUNK_DATA_CR;
    if (n <= SMALL_CHUNK && ++this.smallChunks > SMALL_CHUNKS_AS_VIEWS) {
      // Gathered with the other small chunks of this input (see SMALL_CHUNK).
      if (this.smallLength + n > SMALL_BUFFER) this.flushSmall();
      if (this.small === null) this.small = Buffer.allocUnsafe(SMALL_BUFFER);
      buf.copy(this.small, this.smallLength, pos, pos + n);
      this.smallLength += n;
    } else {
      if (this.smallLength !== 0) this.flushSmall();
      this.handlers.onBody(buf.subarray(pos, pos + n));
    }
    return pos + n;
  }

  /**
   * Reports the gathered small chunks as one onBody. The buffer is handed over, never reused:
   * a consumer may keep the view until the next execute() (parse-events.ts), and a flush can
   * happen in the middle of one.
   */
  private flushSmall(): void {
    const small = this.small!;
    const length = this.smallLength;
    this.small = null;
    this.smallLength = 0;
    this.handlers.onBody(small.subarray(0, length));
  }

  /** A chunk-size line, parsed as bytes (it is short and never becomes a string). */
  private chunkSizeLine(buf: Buffer, pos: number, end: number): number {
    const lf = buf.indexOf(LF, pos);
    if (lf === -1 || lf >= end) {
      if (!this.partialLineFits(this.carryLength + end - pos, this.carryLength === 0 ? buf[pos]! : this.carry[0]!)) return pos;
      this.appendCarry(buf, pos, end);
      return end;
    }
    let bytes: Buffer = buf;
    let start = pos;
    let lineEnd = lf;
    if (this.carryLength !== 0) {
      this.appendCarry(buf, pos, lf + 1);
      bytes = this.carry;
      start = 0;
      lineEnd = this.carryLength - 1;
      this.carryLength = 0;
    }
    if (lineEnd - start > this.limits.maxChunkLine + 1) return this.fail(pos, 'ERR_HTTP_BAD_REQUEST', `chunk-size line longer than ${this.limits.maxChunkLine} bytes`);
    if (lineEnd === start || bytes[lineEnd - 1] !== CR) return this.fail(pos, 'ERR_HTTP_BAD_REQUEST', BARE_LF_ERROR);
    const size = parseChunkSize(bytes, start, lineEnd - 1);
    if (size < 0) return this.fail(pos, 'ERR_HTTP_BAD_REQUEST', CHUNK_LINE_ERRORS[-size - 1]!);
    if (size === 0) {
      this.state = TRAILERS;
      this.fieldCount = 0;
      this.sectionBytes = 0;
      return lf + 1;
    }
    const max = this.limits.maxBodySize;
    this.chunkedBodyBytes += size;
    if (max > 0 && this.chunkedBodyBytes > max) return this.fail(pos, 'ERR_HTTP_BODY_TOO_LARGE', `chunked body over ${max} bytes`);
    this.remaining = size;
    this.state = CHUNK_DATA;
    return lf + 1;
  }
}
