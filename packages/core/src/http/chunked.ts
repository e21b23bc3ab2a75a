/*
 * The chunk-size line of the chunked transfer coding (RFC 9112 7.1), checked byte by byte:
 *
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )   (BWS: see below)
 *   chunk-ext-name = token
 *   chunk-ext-val  = token / quoted-string
 *
 * Extensions are checked and dropped (no application uses them, RFC 9112 7.1.1 lets us ignore
 * them); the whole line's length is capped by the caller (ParserLimits.maxChunkLine). The size
 * is capped at 16 hex digits and Number.MAX_SAFE_INTEGER, so it stays an exact JS number.
 *
 * No whitespace anywhere in the line, although the grammar allows BWS before ";" and around
 * "=". llhttp (node:http) refuses it too, and differential fuzzing against llhttp found it as
 * the one chunk-line shape we accepted and it refused (differential.test.ts): a server must
 * never be laxer about framing than a parser that may sit in front of or behind it, and no
 * client that exists sends whitespace in a chunk line (Waitress CVE-2022-24761 and the
 * llhttp chunk-extension fixes are the history of chunk lines read two ways).
 */
import { HEX_VALUE, TCHAR, QDTEXT, QUOTED_PAIR, SEMICOLON, EQUALS, DQUOTE, BACKSLASH } from './grammar.js';

export const MAX_CHUNK_SIZE_DIGITS = 16;

/** Negative results of parseChunkSize; the index into CHUNK_LINE_ERRORS is -result - 1. */
export const CHUNK_LINE_ERRORS = [
  'chunk-size is not a hex number',
  'chunk-size has too many digits',
  'chunk-size is larger than the largest safe integer',
  'malformed chunk extension',
] as const;

/**
 * Parses bytes[start, end) (the line without its CRLF). Returns the chunk size, or a negative
 * number: -(index into CHUNK_LINE_ERRORS) - 1.
 */
export function parseChunkSize(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let size = 0;
  while (i < end) {
    const digit = HEX_VALUE[bytes[i]!]!;
    if (digit === 255) break;
    size = size * 16 + digit;
    i++;
  }
  if (i === start) return -1;
  if (i - start > MAX_CHUNK_SIZE_DIGITS) return -2;
  // Past 2^53 the running value is rounded, but never below 2^53, so this test stays exact.
  if (size > Number.MAX_SAFE_INTEGER) return -3;
  return i === end || extensionsValid(bytes, i, end) ? size : -4;
}

function extensionsValid(bytes: Uint8Array, i: number, end: number): boolean {
  while (i < end) {
    if (bytes[i] !== SEMICOLON) return false;
    i++;
    const nameStart = i;
    while (i < end && TCHAR[bytes[i]!] !== 0) i++;
    if (i === nameStart) return false;
    if (i < end && bytes[i] === EQUALS) {
      i = i + 1 < end && bytes[i + 1] === DQUOTE ? skipQuotedString(bytes, i + 1, end) : skipToken(bytes, i + 1, end);
      if (i < 0) return false;
    }
  }
  return true;
}

function skipToken(bytes: Uint8Array, i: number, end: number): number {
  const start = i;
  while (i < end && TCHAR[bytes[i]!] !== 0) i++;
  return i === start ? -1 : i;
}

/** `i` is at the opening DQUOTE; returns the index after the closing one, or -1. */
function skipQuotedString(bytes: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const b = bytes[i]!;
    if (b === DQUOTE) return i + 1;
    if (b === BACKSLASH) {
      if (i + 1 >= end || QUOTED_PAIR[bytes[i + 1]!] === 0) return -1;
      i += 2;
    } else if (QDTEXT[b] === 1) i++;
    else return -1;
  }
  return -1;
}
