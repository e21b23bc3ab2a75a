/*
 * The parser's two hottest loops, kept apart so their tricks stay out of the grammar code:
 *
 * - scanFieldValue checks field-value bytes four at a time (SWAR: "SIMD within a register").
 *   A field value may hold any byte but the controls %x00-1F (HTAB excepted) and DEL %x7F
 *   (RFC 9110 5.5, see grammar.ts FIELD_VALUE). With 32-bit words, "some byte < 0x20" and
 *   "some byte == 0x7F" are each three integer operations (the classic hasless / haszero bit
 *   tricks), so a clean word costs one unaligned load and a few ALU ops instead of four table
 *   lookups. A flagged word (the CR that ends the value, an HTAB, a bad byte) is re-checked
 *   byte by byte against the table, which stays the single source of truth.
 *
 * - internFieldName returns a shared lower-case string for common field names, found by a
 *   case-folded key of the name's length and three of its bytes. That spares
 *   a slice() and a toLowerCase() per field for the names most requests carry, and makes the
 *   parser's `name === 'host'` tests pointer compares.
 */
import { FIELD_VALUE } from './grammar.js';

/** Index of the first byte in [i, end) that may not appear in a field value, or `end`. */
export function scanFieldValue(view: DataView, bytes: Uint8Array, i: number, end: number): number {
  const table = FIELD_VALUE;
  const lastWord = end - 4;
  for (;;) {
    while (i <= lastWord) {
      const x = view.getInt32(i, true);
      const y = x ^ 0x7f7f7f7f;
      // hasless(x, 0x20) | haszero(x ^ 0x7F7F7F7F): nonzero iff some byte is < 0x20 or 0x7F.
      if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) break;
      i += 4;
    }
    const stop = i + 4 < end ? i + 4 : end;
    for (; i < stop; i++) if (table[bytes[i]!] === 0) return i;
    if (i >= end) return end;
  }
}

/**
 * A cheap key for a name: its length and three of its bytes, case-folded. The parser computes
 * it after the name is scanned, so the scan loop stays a bare table walk.
 */
function nameKey(length: number, first: number, middle: number, last: number): number {
  return (Math.imul(Math.imul(Math.imul(length, 31) + (first | 0x20), 31) + (middle | 0x20), 31) + (last | 0x20)) | 0;
}

const COMMON_NAMES = [
  'host', 'connection', 'keep-alive', 'user-agent', 'accept', 'accept-encoding', 'accept-language',
  'accept-charset', 'cache-control', 'pragma', 'cookie', 'referer', 'origin', 'content-type',
  'content-length', 'transfer-encoding', 'te', 'trailer', 'expect', 'upgrade', 'upgrade-insecure-requests',
  'authorization', 'range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since',
  'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile',
  'sec-ch-ua-platform', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions',
  'sec-websocket-protocol', 'priority', 'dnt', 'forwarded', 'via', 'x-forwarded-for', 'x-forwarded-proto',
  'x-forwarded-host', 'x-real-ip', 'x-request-id', 'x-requested-with', 'content-encoding', 'date',
];

const SLOTS = 512;
const WORDS_PER_NAME = 8; // names up to 32 bytes
const internTable: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
/**
 * For the word compare: each name as little-endian 32-bit words (`nameWords`), the bits to
 * set before comparing (`foldWords`: 0x20 on letters only, so digits and "-" compare exactly),
 * and the bytes that belong to the name (`keepWords`: the last word is partial).
 */
const nameWords = new Int32Array(SLOTS * WORDS_PER_NAME);
const foldWords = new Int32Array(SLOTS * WORDS_PER_NAME);
const keepWords = new Int32Array(SLOTS * WORDS_PER_NAME);
for (const name of COMMON_NAMES) {
  const n = name.length;
  let slot = nameKey(n, name.charCodeAt(0), name.charCodeAt(n >> 1), name.charCodeAt(n - 1)) & (SLOTS - 1);
  while (internTable[slot] !== undefined) slot = (slot + 1) & (SLOTS - 1);
  internTable[slot] = name;
  for (let i = 0; i < n; i++) {
    const word = slot * WORDS_PER_NAME + (i >> 2);
    const shift = (i & 3) * 8;
    const c = name.charCodeAt(i);
    nameWords[word]! |= c << shift;
    keepWords[word]! |= 0xff << shift;
    if (c >= 0x61 && c <= 0x7a) foldWords[word]! |= 0x20 << shift;
  }
}

/**
 * internFieldName for the whole-head fast path: compares four bytes at a time through `view`.
 * Reads up to 3 bytes past the name, which a whole head always has (":" and the line's CRLF).
 */
export function internFieldNameWords(view: DataView, bytes: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start;
  if (length > WORDS_PER_NAME * 4) return undefined;
  let slot = nameKey(length, bytes[start]!, bytes[start + (length >> 1)]!, bytes[end - 1]!) & (SLOTS - 1);
  for (;;) {
    const candidate = internTable[slot];
    if (candidate === undefined) return undefined;
    if (candidate.length === length) {
      const base = slot * WORDS_PER_NAME;
      let at = start;
      let word = base;
      while (at < end && ((view.getInt32(at, true) | foldWords[word]!) & keepWords[word]!) === nameWords[word]) {
        at += 4;
        word++;
      }
      if (at >= end) return candidate;
    }
    slot = (slot + 1) & (SLOTS - 1);
  }
}

/**
 * The shared lower-case string for the token bytes[start, end) (not empty), when it is a
 * common name (compared case-insensitively), else undefined.
 * Folding with | 0x20 is exact here: the table's names hold only a-z, 0-9 and "-", and the
 * only other tchar bytes that | 0x20 changes ("^" and "_") fold to "~" and DEL, never in them.
 */
export function internFieldName(bytes: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start;
  let slot = nameKey(length, bytes[start]!, bytes[start + (length >> 1)]!, bytes[end - 1]!) & (SLOTS - 1);
  for (;;) {
    const candidate = internTable[slot];
    if (candidate === undefined) return undefined;
    if (candidate.length === length) {
      let k = 0;
      while (k < length && (bytes[start + k]! | 0x20) === candidate.charCodeAt(k)) k++;
      if (k === length) return candidate;
    }
    slot = (slot + 1) & (SLOTS - 1);
  }
}

/** The shared string for the most common methods (exact, case-sensitive: methods are). */
export function internMethod(bytes: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start;
  const b0 = bytes[start];
  if (length === 3) {
    if (b0 === 0x47 && bytes[start + 1] === 0x45 && bytes[start + 2] === 0x54) return 'GET';
    if (b0 === 0x50 && bytes[start + 1] === 0x55 && bytes[start + 2] === 0x54) return 'PUT';
  } else if (length === 4) {
    if (b0 === 0x50 && bytes[start + 1] === 0x4f && bytes[start + 2] === 0x53 && bytes[start + 3] === 0x54) return 'POST';
    if (b0 === 0x48 && bytes[start + 1] === 0x45 && bytes[start + 2] === 0x41 && bytes[start + 3] === 0x44) return 'HEAD';
  }
  return undefined;
}
