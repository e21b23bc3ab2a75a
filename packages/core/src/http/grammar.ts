/*
 * RFC 9110 / RFC 9112 byte classes as 256-entry lookup tables, so the parser checks a byte
 * with one indexed load instead of a chain of comparisons or a regex. Each table is named after
 * the rule it encodes and quotes that rule's ABNF. The parser indexes these with bytes (0-255)
 * or with charCodeAt() of latin1 strings (also 0-255), so every table has 256 entries.
 */

export const SP = 0x20;
export const HTAB = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const EQUALS = 0x3d;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const SLASH = 0x2f;

function table(accept: (byte: number) => number): Uint8Array {
  const out = new Uint8Array(256);
  for (let b = 0; b < 256; b++) out[b] = accept(b);
  return out;
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isUpper = (b: number): boolean => b >= 0x41 && b <= 0x5a;
const isLower = (b: number): boolean => b >= 0x61 && b <= 0x7a;
const isAlpha = (b: number): boolean => isUpper(b) || isLower(b);
/** RFC 5234 B.1: VCHAR = %x21-7E (visible printing characters). */
const isVchar = (b: number): boolean => b >= 0x21 && b <= 0x7e;
/** RFC 9110 5.5: obs-text = %x80-FF. */
const isObsText = (b: number): boolean => b >= 0x80;

/**
 * RFC 9110 5.6.2:
 *   token = 1*tchar
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 * Entry 1 = tchar, 2 = an upper-case ALPHA (also a tchar): header names are lower-cased, and
 * knowing while scanning that a name has no upper-case byte saves a toLowerCase().
 */
export const TCHAR = table((b) => {
  if (isUpper(b)) return 2;
  return isLower(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)) ? 1 : 0;
});

/**
 * RFC 9110 5.5:
 *   field-value   = *field-content
 *   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
 *   field-vchar   = VCHAR / obs-text
 * 1 for any byte that may appear inside a field value (SP and HTAB included): every control
 * byte (NUL, CR, LF, the rest of %x00-1F) and DEL is excluded. RFC 9110 5.5 lets a recipient
 * replace CR, LF or NUL with SP; we reject instead, as we are the last line of defence.
 */
export const FIELD_VALUE = table((b) => (isVchar(b) || isObsText(b) || b === SP || b === HTAB ? 1 : 0));

/**
 * RFC 9112 3.2 request-target, restricted to what RFC 3986 can put in any of its four forms
 * without percent-encoding, i.e. VCHAR (%x21-7E). SP, controls, DEL and obs-text are refused:
 * a well-formed client percent-encodes them, and a raw SP would be a second request-line
 * delimiter (RFC 9112 3: "request-line = method SP request-target SP HTTP-version").
 * Finer URI grammar is left to the application (splitTarget), as Gunicorn and llhttp do.
 */
export const TARGET = table((b) => (isVchar(b) ? 1 : 0));

/**
 * RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
 * 1 = ALPHA (may start a scheme), 2 = the other scheme bytes.
 */
export const SCHEME = table((b) => (isAlpha(b) ? 1 : isDigit(b) || b === 0x2b || b === 0x2d || b === 0x2e ? 2 : 0));

/**
 * RFC 5234 B.1: HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F" (ABNF strings are
 * case-insensitive, so a-f too). The value of each hex digit, 255 for any other byte.
 */
export const HEX_VALUE = table((b) => {
  if (isDigit(b)) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return 255;
});

/**
 * RFC 9110 5.6.4:
 *   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
 *   qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
 */
export const QDTEXT = table((b) =>
  b === HTAB || b === SP || b === 0x21 || (b >= 0x23 && b <= 0x5b) || (b >= 0x5d && b <= 0x7e) || isObsText(b) ? 1 : 0);

/** RFC 9110 5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) -- the byte after "\". */
export const QUOTED_PAIR = table((b) => (b === HTAB || b === SP || isVchar(b) || isObsText(b) ? 1 : 0));

/** RFC 5234 B.1: DIGIT = %x30-39. */
export const DIGIT = table((b) => (isDigit(b) ? 1 : 0));

/** RFC 9110 5.6.3: OWS = *( SP / HTAB ); also BWS (same bytes, "bad" only for senders). */
export const OWS = table((b) => (b === SP || b === HTAB ? 1 : 0));

/**
 * RFC 3986 3.2.2 (the host of Host, of an absolute-form target, of a CONNECT target):
 *   reg-name   = *( unreserved / pct-encoded / sub-delims )
 *   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
 * 1 for unreserved and sub-delims; pct-encoded ("%" HEXDIG HEXDIG) is checked by its reader.
 */
export const REG_NAME = table((b) =>
  isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=".includes(String.fromCharCode(b)) ? 1 : 0);
