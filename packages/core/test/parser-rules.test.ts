/*
 * One test per parser rule (RFC 9112 / RFC 9110 and Gatehouse's decisions), each with inputs
 * that must pass and inputs that must fail with a given code. Every input is parsed whole and
 * byte by byte (parseBoth), and both must report the same thing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, one, rejects, parse, parseBoth, bytes, type Message } from './kit/parser.js';
import { RequestParser, headerSectionLimit } from '../src/http/parser.js';
import type { ParserLimits } from '../src/http/options.js';

const T = { timeout: 20_000 };
const BAD = 'ERR_HTTP_BAD_REQUEST';
const get = (head = 'Host: a\r\n', line = 'GET / HTTP/1.1') => `${line}\r\n${head}\r\n`;
const limits = (over: Partial<ParserLimits>): ParserLimits => ({ ...LIMITS, ...over });
const headers = (m: Message) => m.head.rawHeaders;
const chunked = (body: string, extraHead = '') => `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n${extraHead}\r\n${body}`;

describe('request-line', T, () => {
  test('method must be a token followed by exactly one SP', () => {
    assert.equal(one(get(undefined, 'PATCH /x HTTP/1.1')).head.method, 'PATCH');
    assert.equal(one(get(undefined, 'M-SEARCH / HTTP/1.1')).head.method, 'M-SEARCH');
    assert.equal(one(get(undefined, 'get / HTTP/1.1')).head.method, 'get', 'methods are case-sensitive tokens, kept as sent');
    for (const line of ['GE(T / HTTP/1.1', 'G\x00T / HTTP/1.1', ' GET / HTTP/1.1', 'GET\t/ HTTP/1.1', '/ HTTP/1.1', 'GÉT / HTTP/1.1', '\x16\x03\x01 / HTTP/1.1']) {
      rejects(get(undefined, line), BAD, 400);
    }
  });

  test('exactly one SP between the parts, nothing after the version', () => {
    for (const line of ['GET  / HTTP/1.1', 'GET /  HTTP/1.1', 'GET / HTTP/1.1 ', 'GET /\tHTTP/1.1', 'GET / HTTP/1.1\t', 'GET /']) {
      rejects(get(undefined, line), BAD, 400);
    }
  });

  test('request-target bytes are VCHAR only', () => {
    assert.equal(one(get(undefined, 'GET /a/b?c=d&e=%20|{}^`~!$ HTTP/1.1')).head.target, '/a/b?c=d&e=%20|{}^`~!$');
    for (const target of ['/a\x7fb', '/caf\xe9', '/a\x01b', '/a\x00', '/a\rb']) rejects(get(undefined, `GET ${target} HTTP/1.1`), BAD, 400);
  });

  test('target form fits the method: authority only and always for CONNECT, * only for OPTIONS', () => {
    assert.equal(one(get(undefined, 'CONNECT example.com:443 HTTP/1.1')).head.target, 'example.com:443');
    assert.equal(one(get(undefined, 'CONNECT [::1]:8080 HTTP/1.1')).head.target, '[::1]:8080');
    assert.equal(one(get(undefined, 'OPTIONS * HTTP/1.1')).head.target, '*');
    assert.equal(one(get('Host: example.com\r\n', 'GET http://example.com/x?y HTTP/1.1')).head.target, 'http://example.com/x?y');
    assert.equal(one(get('Host: EXAMPLE.com\r\n', 'OPTIONS http://example.com HTTP/1.1')).head.target, 'http://example.com');
    for (const line of ['CONNECT / HTTP/1.1', 'CONNECT http://example.com/ HTTP/1.1', 'CONNECT example.com HTTP/1.1', 'CONNECT example.com: HTTP/1.1',
      'CONNECT user@example.com:443 HTTP/1.1', 'CONNECT * HTTP/1.1', 'GET * HTTP/1.1', 'OPTIONS *x HTTP/1.1', 'GET example.com:443 HTTP/1.1',
      'GET x HTTP/1.1', 'GET ?a HTTP/1.1', 'GET http: HTTP/1.1', 'GET 1http://x/ HTTP/1.1']) {
      rejects(get(undefined, line), BAD, 400);
    }
  });

  test('HTTP/1.0 and HTTP/1.1 are served; other versions are 505; garbage is 400', () => {
    assert.equal(one(get('', 'GET / HTTP/1.0')).head.httpVersion, '1.0');
    assert.equal(one(get()).head.httpVersion, '1.1');
    for (const version of ['HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/3.1']) rejects(get(undefined, `GET / ${version}`), 'ERR_HTTP_VERSION', 505);
    for (const version of ['HTTP/x', 'http/1.1', 'HTTP/1.10', 'HTTP/1', 'HTTP/1.', 'HTTP/11', 'HTTPS/1.1', 'HTTP 1.1']) rejects(get(undefined, `GET / ${version}`), BAD, 400);
  });

  test('a request-line longer than maxRequestLine is 414, even before its end arrives', () => {
    const small = limits({ maxRequestLine: 64 });
    const line = (length: number) => `GET /${'a'.repeat(length - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    assert.equal(line(64).length, 64);
    one(get(undefined, line(64)), small);
    rejects(get(undefined, line(65)), 'ERR_HTTP_URI_TOO_LONG', 414, small);
    const partial = parse(bytes(`GET /${'a'.repeat(200)}`), [10, 100, 205], small);
    assert.deepStrictEqual(partial.error, { code: 'ERR_HTTP_URI_TOO_LONG', status: 414 });
  });

  test('up to two empty lines before a request-line are ignored; more is 400', () => {
    one(`\r\n${get()}`);
    one(`\r\n\r\n${get()}`);
    rejects(`\r\n\r\n\r\n${get()}`, BAD, 400);
    rejects(`\n${get()}`, BAD, 400);
  });

  test('bytes that cannot start a request are refused at once (e.g. TLS to a plain port)', () => {
    const partial = parse(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    assert.deepStrictEqual(partial.error, { code: BAD, status: 400 });
  });
});

describe('line endings', T, () => {
  test('bare LF is 400 wherever it ends a line', () => {
    rejects('GET / HTTP/1.1\nHost: a\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\nHost: a\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\nHost: a\r\n\n', BAD, 400);
    rejects('GET / HTTP/1.1\nHost: a\n\n', BAD, 400);
    rejects(chunked('5\nhello\r\n0\r\n\r\n'), BAD, 400);
    rejects(chunked('5\r\nhello\r\n0\r\nX: 1\n\r\n'), BAD, 400);
  });

  test('a CR that does not end a line is 400', () => {
    rejects('GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\nHost: a\r\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\r\nHost: a\r\n\r\n', BAD, 400);
  });
});

describe('field lines', T, () => {
  test('names are lower-cased, values trimmed of OWS, order and duplicates kept', () => {
    const m = one('GET / HTTP/1.1\r\nHOST: a\r\nX-Dup: 1\r\nx-dup:2\r\nX-Sp: \t a  b \t\r\nX-Empty:\r\nX-Blank:   \r\n\r\n');
    assert.deepStrictEqual(headers(m), ['host', 'a', 'x-dup', '1', 'x-dup', '2', 'x-sp', 'a  b', 'x-empty', '', 'x-blank', '']);
  });

  test('common names are recognised in any case, and near misses are not mistaken for them', () => {
    const names = ['ACCEPT', 'Content-Type', 'content-TYPE', 'SEC-CH-UA-PLATFORM', 'X-Forwarded-For', 'cOnNeCtIoN', 'Content_Type', 'Content-Typf',
      'Sec-Ch-Ua-Platform0', 'x-forwarded-fo', 'Accept-Language', 'Upgrade-Insecure-Requests', 'If-Modified-Since', 'X-Real-Ip'];
    const m = one(`GET / HTTP/1.1\r\nHost: a\r\n${names.map((n) => `${n}: v`).join('\r\n')}\r\n\r\n`);
    const got = headers(m).filter((_, i) => i % 2 === 0).slice(1);
    assert.deepStrictEqual(got, names.map((n) => n.toLowerCase()));
  });

  test('obs-fold (a line starting with SP or HTAB) is 400, also before the first field', () => {
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\n Host: a\r\n\r\n', BAD, 400);
  });

  test('whitespace between field name and colon is 400', () => {
    rejects('GET / HTTP/1.1\r\nHost : a\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n', BAD, 400);
  });

  test('field names must be tokens', () => {
    one('GET / HTTP/1.1\r\nHost: a\r\nX-!#$%&\'*+.^_`|~09: v\r\n\r\n');
    for (const name of ['X(y)', 'X\x00', 'F\xf6o', 'X"y', 'X/y', 'X@y', 'X[y]', '']) rejects(`GET / HTTP/1.1\r\nHost: a\r\n${name}: v\r\n\r\n`, BAD, 400);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', BAD, 400);
  });

  test('field values: controls (NUL, CR, LF, DEL, ESC...) are 400; HTAB and obs-text are allowed', () => {
    assert.deepStrictEqual(headers(one('GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\tau\xffl\x80t\r\n\r\n')).slice(2), ['x', 'caf\xe9\tau\xffl\x80t']);
    for (const bad of ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f']) {
      rejects(`GET / HTTP/1.1\r\nHost: a\r\nX: a${bad}b\r\n\r\n`, BAD, 400);
    }
    // Long values go through the four-bytes-at-a-time scan: a bad byte at every offset.
    const long = 'v'.repeat(37);
    for (let at = 0; at < long.length; at++) {
      rejects(`GET / HTTP/1.1\r\nHost: a\r\nX: ${long.slice(0, at)}\x00${long.slice(at)}\r\n\r\n`, BAD, 400);
      rejects(`GET / HTTP/1.1\r\nHost: a\r\nX: ${long.slice(0, at)}\x7f${long.slice(at)}\r\n\r\n`, BAD, 400);
    }
  });

  test('more than maxHeaderCount fields is 431', () => {
    const small = limits({ maxHeaderCount: 3 });
    one('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n', small);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'ERR_HTTP_HEADERS_TOO_LARGE', 431, small);
  });

  test('a field line longer than maxHeaderFieldSize is 431, even before its end arrives', () => {
    const small = limits({ maxHeaderFieldSize: 64 });
    const field = (length: number) => `X: ${'v'.repeat(length - 3)}`;
    one(`GET / HTTP/1.1\r\nHost: a\r\n${field(64)}\r\n\r\n`, small);
    rejects(`GET / HTTP/1.1\r\nHost: a\r\n${field(65)}\r\n\r\n`, 'ERR_HTTP_HEADERS_TOO_LARGE', 431, small);
    const partial = parse(bytes(`GET / HTTP/1.1\r\nHost: a\r\n${field(500)}`), undefined, small);
    assert.deepStrictEqual(partial.error, { code: 'ERR_HTTP_HEADERS_TOO_LARGE', status: 431 });
  });

  test('the header section as a whole is bounded (431)', () => {
    const small = limits({ maxHeaderFieldSize: 64, maxHeaderCount: 100_000 });
    const bound = headerSectionLimit(small);
    assert.equal(bound, 256 * 1024);
    const line = `X: ${'v'.repeat(61)}\r\n`; // 66 bytes with CRLF
    const count = Math.floor(bound / line.length);
    one(`GET / HTTP/1.1\r\nHost: a\r\n${line.repeat(count - 2)}\r\n`, small);
    rejects(`GET / HTTP/1.1\r\nHost: a\r\n${line.repeat(count + 1)}\r\n`, 'ERR_HTTP_HEADERS_TOO_LARGE', 431, small);
  });
});

describe('Host', T, () => {
  test('HTTP/1.1 without Host is 400; HTTP/1.0 may omit it', () => {
    rejects('GET / HTTP/1.1\r\nX: 1\r\n\r\n', BAD, 400);
    assert.deepStrictEqual(headers(one('GET / HTTP/1.0\r\n\r\n')), []);
  });

  test('an empty Host is accepted (RFC 9112 3.2: sent when the target has no authority)', () => {
    assert.deepStrictEqual(headers(one('GET / HTTP/1.1\r\nHost:\r\n\r\n')), ['host', '']);
  });

  test('a repeated Host is 400, even with the same value', () => {
    rejects('GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n', BAD, 400);
    rejects('GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n', BAD, 400);
  });
});

describe('Content-Length', T, () => {
  test('plain digits give length framing and exactly that many body bytes', () => {
    const m = one('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    assert.deepStrictEqual(m.head.framing, { kind: 'length', length: 5 });
    assert.equal(m.body, 'hello');
    assert.deepStrictEqual(one('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n').head.framing, { kind: 'length', length: 0 });
    assert.equal(one('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc').body, 'abc');
    assert.deepStrictEqual(one(get()).head.framing, { kind: 'none' });
  });

  test('anything but plain digits is 400', () => {
    for (const value of ['+1', '-1', '0x1', '1, 1', '1,1', '', '1 1', '1.0', '1e3', '١', '12345678901234567', '9007199254740992']) {
      rejects(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${value}\r\n\r\n`, BAD, 400);
    }
  });

  test('the largest safe integer is a valid length (no body limit)', () => {
    const outcome = parseBoth('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740991\r\n\r\nabc', limits({ maxBodySize: 0 }));
    assert.equal(outcome.error, null);
    assert.deepStrictEqual(outcome.messages[0]!.head.framing, { kind: 'length', length: Number.MAX_SAFE_INTEGER });
    assert.equal(outcome.messages[0]!.complete, false);
  });

  test('a repeated Content-Length is 400, even with equal values', () => {
    rejects('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na', BAD, 400);
    rejects('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\na', BAD, 400);
  });

  test('Content-Length over maxBodySize is 413 at head time', () => {
    const small = limits({ maxBodySize: 10 });
    assert.equal(one('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789', small).body, '0123456789');
    const outcome = rejects('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n', 'ERR_HTTP_BODY_TOO_LARGE', 413, small);
    assert.equal(outcome.messages.length, 0, 'no onHead for a refused request');
  });
});

describe('Transfer-Encoding', T, () => {
  const te = (value: string, version = '1.1', more = '') => `POST / HTTP/${version}\r\nHost: a\r\nTransfer-Encoding: ${value}\r\n${more}\r\n0\r\n\r\n`;

  test('chunked (any case, with OWS, after identity) gives chunked framing', () => {
    for (const value of ['chunked', 'Chunked', 'CHUNKED', '\tchunked ', 'identity, chunked', 'identity ,chunked']) {
      assert.deepStrictEqual(one(te(value)).head.framing, { kind: 'chunked' }, value);
    }
    assert.deepStrictEqual(one(te('identity', '1.1', 'Transfer-Encoding: chunked\r\n')).head.framing, { kind: 'chunked' });
  });

  test('a known coding last (chunked not final) is 400', () => {
    for (const value of ['gzip', 'chunked, gzip', 'deflate', 'identity', 'chunked, identity']) rejects(te(value), BAD, 400);
  });

  test('unknown codings, and any coding but identity before chunked, are 501', () => {
    for (const value of ['foo', 'gzip, chunked', 'deflate, chunked', 'x-gzip, chunked', 'chunked, foo', 'foo, chunked']) {
      rejects(te(value), 'ERR_HTTP_NOT_IMPLEMENTED', 501);
    }
    rejects(te('gzip', '1.1', 'Transfer-Encoding: chunked\r\n'), 'ERR_HTTP_NOT_IMPLEMENTED', 501);
  });

  test('chunked twice is 400 (in one field or across fields)', () => {
    rejects(te('chunked, chunked'), BAD, 400);
    rejects(te('chunked', '1.1', 'Transfer-Encoding: chunked\r\n'), BAD, 400);
  });

  test('empty list elements, parameters on chunked, and non-SP/HTAB whitespace are 400', () => {
    for (const value of ['chunked,', ', chunked', 'identity,,chunked', '', ',', 'chunked;q=1', 'chunked ;a=b', 'identity, \x0bchunked', 'chunked\x0c', 'chu nked', '"chunked"']) {
      rejects(te(value), BAD, 400);
    }
  });

  test('Transfer-Encoding in an HTTP/1.0 request is 400', () => {
    rejects(te('chunked', '1.0'), BAD, 400);
  });

  test('Content-Length together with Transfer-Encoding is 400, in either order', () => {
    rejects(te('chunked', '1.1', 'Content-Length: 5\r\n'), BAD, 400);
    rejects('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', BAD, 400);
  });
});

describe('chunked body', T, () => {
  test('chunks are decoded; sizes are hex in any case, leading zeros allowed', () => {
    assert.equal(one(chunked('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n')).body, 'hello world');
    assert.equal(one(chunked(`A\r\n${'x'.repeat(10)}\r\na\r\n${'y'.repeat(10)}\r\n0005\r\nhello\r\n000\r\n\r\n`)).body, `${'x'.repeat(10)}${'y'.repeat(10)}hello`);
  });

  test('chunk-size must be plain hex, at most 16 digits and a safe integer', () => {
    for (const size of ['', 'x', '0x5', '-5', '+5', ' 5', '5 ', '5\t', 'g', '00000000000000005', '20000000000000', 'ffffffffffffffff']) {
      rejects(chunked(`${size}\r\nhello\r\n0\r\n\r\n`), BAD, 400);
    }
    const outcome = parseBoth(chunked('1fffffffffffff\r\nabc'), limits({ maxBodySize: 0 }));
    assert.equal(outcome.error, null, 'MAX_SAFE_INTEGER is a valid chunk size');
    assert.equal(outcome.messages[0]!.body, 'abc');
  });

  test('chunk extensions follow their grammar (token or quoted-string values), without BWS (as llhttp)', () => {
    for (const ext of [';a', ';a=b', ';a=b;c', ';a="q \\" \\\\ \xe9"', ';a="";b=c', ';!#$%&\'*+-.^_`|~=x']) {
      assert.equal(one(chunked(`5${ext}\r\nhello\r\n0${ext}\r\n\r\n`)).body, 'hello', JSON.stringify(ext));
    }
    for (const ext of [';', ';=b', ';a=', ';a b', ';a=b c', ';a="open', ';a="bad\x01"', ';a=b ', ' ', ';a=(', ',a', ';a="x"y', ';a="\\\x01"', ';a=\x7f',
      ' ;a', '\t;a', '; a', ';a =b', ';a= b', '\t; a = b']) {
      rejects(chunked(`5${ext}\r\nhello\r\n0\r\n\r\n`), BAD, 400);
    }
  });

  test('a chunk-size line longer than maxChunkLine is 400, even before its end arrives', () => {
    const small = limits({ maxChunkLine: 16 });
    const line = (length: number) => `5;a=${'b'.repeat(length - 4)}`;
    assert.equal(one(chunked(`${line(16)}\r\nhello\r\n0\r\n\r\n`), small).body, 'hello');
    rejects(chunked(`${line(17)}\r\nhello\r\n0\r\n\r\n`), BAD, 400, small);
    const partial = parse(bytes(chunked(line(100))), undefined, small);
    assert.deepStrictEqual(partial.error, { code: BAD, status: 400 });
  });

  test('chunk data must be followed by CRLF', () => {
    for (const body of ['5\r\nhelloX\r\n0\r\n\r\n', '5\r\nhello\n0\r\n\r\n', '5\r\nhello\r0\r\n\r\n', '5\r\nhello0\r\n\r\n', '3\r\nhello\r\n0\r\n\r\n']) {
      rejects(chunked(body), BAD, 400);
    }
  });

  test('the last chunk needs its final CRLF: until then the message is not complete; garbage is 400', () => {
    const waiting = parseBoth(chunked('5\r\nhello\r\n0\r\n'));
    assert.equal(waiting.error, null);
    assert.equal(waiting.messages[0]!.complete, false);
    for (const tail of ['0\r\nX\r\n\r\n', '0\r\n\rX\r\n\r\n', '0\r\n\n', '0\r\nGET / HTTP/1.1\r\n\r\n']) rejects(chunked(`5\r\nhello\r\n${tail}`), BAD, 400);
  });

  test('trailers are reported; Content-Length, Transfer-Encoding and Host in trailers are 400', () => {
    const m = one(chunked('5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Two: 2\r\n\r\n'));
    assert.deepStrictEqual(m.trailers, ['x-checksum', 'abc', 'x-two', '2']);
    assert.equal(one(chunked('5\r\nhello\r\n0\r\n\r\n')).trailers, null);
    for (const name of ['Content-Length', 'Transfer-Encoding', 'Host', 'content-length']) {
      rejects(chunked(`5\r\nhello\r\n0\r\n${name}: 5\r\n\r\n`), BAD, 400);
    }
    rejects(chunked('5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n'), BAD, 400);
    rejects(chunked('5\r\nhello\r\n0\r\nX: a\x00\r\n\r\n'), BAD, 400);
    rejects(chunked('5\r\nhello\r\n0\r\nX : a\r\n\r\n'), BAD, 400);
  });

  test('trailers obey the header limits (431)', () => {
    const small = limits({ maxHeaderCount: 2 });
    one(chunked('0\r\nA: 1\r\nB: 2\r\n\r\n'), small);
    rejects(chunked('0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'), 'ERR_HTTP_HEADERS_TOO_LARGE', 431, small);
  });

  test('a chunked body past maxBodySize is 413 as soon as a chunk-size takes it there', () => {
    const small = limits({ maxBodySize: 10 });
    assert.equal(one(chunked('5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n'), small).body, 'helloworld');
    const outcome = rejects(chunked('5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n'), 'ERR_HTTP_BODY_TOO_LARGE', 413, small);
    assert.equal(outcome.messages[0]!.body, 'hello', 'the chunks before the limit were delivered');
  });
});

describe('connection semantics', T, () => {
  const keepAlive = (text: string) => one(text).head.keepAlive;

  test('HTTP/1.1 keeps alive unless Connection has close (comma list, any case)', () => {
    assert.equal(keepAlive(get()), true);
    assert.equal(keepAlive(get('Host: a\r\nConnection: close\r\n')), false);
    assert.equal(keepAlive(get('Host: a\r\nConnection: Keep-Alive, CLOSE\r\n')), false);
    assert.equal(keepAlive(get('Host: a\r\nConnection: foo\r\nConnection: close\r\n')), false);
    assert.equal(keepAlive(get('Host: a\r\nConnection: closed, x-close\r\n')), true);
    assert.equal(keepAlive(get('Host: a\r\nConnection: ,\tclose ,\r\n')), false);
  });

  test('HTTP/1.0 keeps alive only with keep-alive (and no close)', () => {
    assert.equal(keepAlive('GET / HTTP/1.0\r\n\r\n'), false);
    assert.equal(keepAlive('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'), true);
    assert.equal(keepAlive('GET / HTTP/1.0\r\nConnection: foo, Keep-Alive\r\n\r\n'), true);
    assert.equal(keepAlive('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n'), false);
  });

  test('expectContinue only for HTTP/1.1 with Expect: 100-continue (any case)', () => {
    assert.equal(one(get('Host: a\r\nExpect: 100-continue\r\n')).head.expectContinue, true);
    assert.equal(one(get('Host: a\r\nExpect: 100-Continue\r\n')).head.expectContinue, true);
    assert.equal(one(get('Expect: 100-continue\r\n', 'GET / HTTP/1.0')).head.expectContinue, false);
    assert.equal(one(get('Host: a\r\nExpect: 200-ok\r\n')).head.expectContinue, false);
    assert.equal(one(get()).head.expectContinue, false);
  });

  test('upgrade only with an Upgrade field and the upgrade connection option', () => {
    assert.equal(one(get('Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n')).head.upgrade, true);
    assert.equal(one(get('Host: a\r\nUpgrade: websocket\r\n')).head.upgrade, false);
    assert.equal(one(get('Host: a\r\nConnection: upgrade\r\n')).head.upgrade, false);
  });
});

describe('message boundaries and parser state', T, () => {
  test('pipelined requests: execute stops after each message, the next call starts the next one', () => {
    const first = 'POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc';
    const second = 'POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ndef\r\n0\r\n\r\n';
    const third = 'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n';
    const input = bytes(first + second + third);
    const seen: string[] = [];
    const parser = new RequestParser(LIMITS, {
      onHead: (head) => seen.push(`head ${head.target}`),
      onBody: (chunk) => seen.push(`body ${Buffer.from(chunk).toString('latin1')}`),
      onMessageComplete: () => seen.push('complete'),
    });
    assert.equal(parser.idle, true);
    assert.equal(parser.execute(input), first.length);
    assert.deepStrictEqual(seen, ['head /1', 'body abc', 'complete']);
    assert.equal(parser.idle, true);
    assert.equal(parser.execute(input, first.length), second.length);
    assert.equal(parser.execute(input, first.length + second.length), third.length);
    assert.deepStrictEqual(seen.slice(3), ['head /2', 'body def', 'complete', 'head /3', 'complete']);
    assert.equal(parser.error, null);
  });

  test('the whole pipeline parses the same at every split', () => {
    const text = `\r\n${get()}POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi${get('', 'GET /x HTTP/1.0')}`;
    const outcome = parseBoth(text);
    assert.equal(outcome.error, null);
    assert.deepStrictEqual(outcome.messages.map((m) => [m.head.target, m.body, m.complete]), [['/', '', true], ['/', 'hi', true], ['/x', '', true]]);
  });

  test('idle is true only between messages', () => {
    const parser = new RequestParser(LIMITS, { onHead() {}, onBody() {}, onMessageComplete() {} });
    assert.equal(parser.idle, true);
    parser.execute(bytes('GET / HT'));
    assert.equal(parser.idle, false);
    parser.execute(bytes('TP/1.1\r\nHost: a\r\n\r\n'));
    assert.equal(parser.idle, true);
    parser.execute(bytes('\r\n'));
    assert.equal(parser.idle, false, 'a stray CRLF starts the next message');
  });

  test('after an error the parser is dead: error stays set and nothing more is consumed', () => {
    const parser = new RequestParser(LIMITS, { onHead() {}, onBody() {}, onMessageComplete() {} });
    parser.execute(bytes('GET / HTTP/1.1\r\nHost : a\r\n\r\n'));
    assert.equal(parser.error?.code, BAD);
    assert.equal(parser.error?.status, 400);
    assert.equal(parser.execute(bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 0);
    assert.equal(parser.error?.code, BAD);
    assert.equal(parser.idle, false);
  });

  test('offset and end bound what execute reads', () => {
    const seen: string[] = [];
    const parser = new RequestParser(LIMITS, { onHead: (h) => seen.push(h.target), onBody() {}, onMessageComplete() {} });
    const input = bytes(`xxxx${get()}GET /after HTTP/1.1`);
    const end = 4 + get().length;
    assert.equal(parser.execute(input, 4, end), get().length);
    assert.deepStrictEqual(seen, ['/']);
    assert.equal(parser.execute(input, end, end), 0);
  });

  test('plain Uint8Array input works as well as Buffer', () => {
    const seen: string[] = [];
    const parser = new RequestParser(LIMITS, { onHead: (h) => seen.push(h.rawHeaders.join()), onBody() {}, onMessageComplete() {} });
    const u8 = new Uint8Array(bytes(get('Host: a\r\nX: é\r\n')));
    assert.equal(parser.execute(u8), u8.length);
    assert.deepStrictEqual(seen, ['host,a,x,é']);
  });
});
