/*
 * The chunk-size line of the chunked transfer coding (RFC 9112 7.1), checked byte by byte:
 *
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-name = token
 *   chunk-ext-val  = token / quoted-string
 *
 * Extensions are checked and dropped (no application uses them, RFC 9112 7.1.1 lets us ignore
 * them); the whole line's length is capped by the caller (ParserLimits.maxChunkLine). The size
 * is capped at 16 hex digits and Number.MAX_SAFE_INTEGER, so it stays an exact JS number.
 * Whitespace is allowed only where the grammar puts BWS: before ";" and around "=", never
 * before the size nor at the end of the line.
 */
import { HEX_VALUE, TCHAR, OWS, QDTEXT, QUOTED_PAIR, SEMICOLON, EQUALS, DQUOTE, BACKSLASH } from './grammar.js';

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
    // BWS ";" -- whitespace must lead to a ";" (trailing whitespace is not in the grammar).
    while (i < end && OWS[bytes[i]!] === 1) i++;
    if (i === end || bytes[i] !== SEMICOLON) return false;
    i++;
    while (i < end && OWS[bytes[i]!] === 1) i++;
    const nameStart = i;
    while (i < end && TCHAR[bytes[i]!] !== 0) i++;
    if (i === nameStart) return false;
    let j = i;
    while (j < end && OWS[bytes[j]!] === 1) j++;
    if (j < end && bytes[j] === EQUALS) {
      i = j + 1;
      while (i < end && OWS[bytes[i]!] === 1) i++;
      i = bytes[i] === DQUOTE ? skipQuotedString(bytes, i, end) : skipToken(bytes, i, end);
      if (i < 0) return false;
    }
    // Otherwise `i` stays after the name: the loop demands ";" after any whitespace.
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
