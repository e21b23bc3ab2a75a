/*
 * Field syntax for what the server writes from the app's headers (RFC 9110 §5): one
 * definition for the response head (http/serializer.ts), interim heads and trailer sections.
 * A name that is not a token, or a value with CR, LF, NUL or another control, could end the
 * section early and start a message of the app's making, so it is refused (ERR_APP_BAD_HEADER)
 * before any byte of the section is written.
 */
import { GatehouseError } from '../errors/index.js';
import { HeaderList } from './headers.js';
import type { ResponseHeaders } from './types.js';

// token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA                                 (RFC 9110 §5.6.2)
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-content chars: HTAB / SP / VCHAR / obs-text (RFC 9110 §5.5).
export const NOT_FIELD_CONTENT = /[^\t\x20-\x7e\x80-\xff]/;

/** `value` may be written as a field value; else ERR_APP_BAD_HEADER naming the character. */
export function checkFieldValue(name: string, value: string): void {
  const match = NOT_FIELD_CONTENT.exec(value);
  if (match === null) return;
  const code = match[0].charCodeAt(0);
  const names: Record<number, string> = { 0: 'NUL', 10: 'LF', 13: 'CR' };
  throw new GatehouseError('ERR_APP_BAD_HEADER', `value of ${name} contains ${names[code] ?? `U+${code.toString(16).padStart(4, '0').toUpperCase()}`} at index ${match.index}`);
}

/**
 * The app's fields for a section the server writes as given (an interim head, trailers):
 * flat [name, value, ...], names lower-cased, every field checked; those `skip(name)` names
 * are left out (the server's own fields).
 */
export function checkedFields(headers: ResponseHeaders | null | undefined, skip: (lowerName: string) => boolean): string[] {
  if (headers != null && typeof headers === 'object' && !(headers instanceof HeaderList) && !Array.isArray(headers)
      && typeof (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    throw new GatehouseError('ERR_APP_BAD_HEADER', `headers is a ${(headers as object).constructor?.name ?? 'iterable'}: give [name, value] pairs, a plain object or a HeaderList`);
  }
  const raw = HeaderList.from(headers).raw;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (typeof name !== 'string' || !TOKEN.test(name)) throw new GatehouseError('ERR_APP_BAD_HEADER', `name ${JSON.stringify(String(name))} is not a token`);
    checkFieldValue(name, value);
    const lower = name.toLowerCase();
    if (!skip(lower)) out.push(lower, value);
  }
  return out;
}
