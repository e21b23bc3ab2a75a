/*
 * validate(app): both sides of the Gateway Interface checked at run time, in the spirit of
 * Python's wsgiref.validate. Wrap an app with it in development and in tests: it checks that
 * the request the server built is well-formed, and that the response the app returned is one
 * every conforming server can send, and it fails LOUDLY (GatehouseError ERR_APP_CONTRACT, which
 * the server answers with a 500) with the exact rule that was broken. It never repairs.
 * docs/gateway-interface.md, "The validator", lists the checks; each has a test.
 */
import { GatehouseError } from '../errors/index.js';
import { RequestBody } from './body.js';
import { HeaderList } from './headers.js';
import { splitTarget } from './request.js';
import { requestedUpgrade, takeoverOf } from './takeover.js';
import { FORBIDDEN_TRAILERS } from './trailers.js';
import type { Application, GatewayRequest, GatewayResponse, ResponseHeaders } from './types.js';

/** RFC 9110 5.6.2: token = 1*tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters that would split or corrupt a response: CR, LF, NUL. */
const SPLITTING = /[\r\n\0]/;
/** Other controls RFC 9110 5.5 excludes from field values (HTAB is allowed). */
const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** Header values are bytes; a string carries them as latin1, so nothing above U+00FF fits. */
const BEYOND_LATIN1 = /[^\x00-\xff]/;
/** Request-target: visible ASCII (and obs-text), no whitespace or controls (RFC 9112 3.2). */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/**
 * Hop-by-hop fields (RFC 9110 7.6.1) describe the connection, which belongs to the server.
 * `connection: close` is the one exception: it asks the server to close after this response.
 */
const SERVER_OWNED = new Set(['transfer-encoding', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection']);

function fail(message: string): GatehouseError {
  return new GatehouseError('ERR_APP_CONTRACT', message);
}

export function validate(app: Application): Application {
  if (typeof app !== 'function') throw fail(`validate(app) needs a Gateway application (a function), got ${typeof app}`);
  return async function validated(request: GatewayRequest): Promise<GatewayResponse> {
    checkRequest(request);
    const answered = watchInterim(request);
    try {
      const response = await app(request);
      return checkResponse(request, response);
    } finally {
      answered();
    }
  };
}

// ---- the server's side: the request ----------------------------------------------------

export function checkRequest(request: GatewayRequest): void {
  if (typeof request !== 'object' || request === null) throw fail(`request is ${request === null ? 'null' : typeof request}, not an object`);
  const { method, target, path, query, httpVersion, headers, scheme, remote, server, body, signal } = request;
  if (typeof method !== 'string' || !TOKEN.test(method)) throw fail(`request.method ${JSON.stringify(method)} is not a token`);
  if (typeof target !== 'string' || !TARGET.test(target)) throw fail(`request.target ${JSON.stringify(target)} is empty or contains whitespace or control characters`);
  const expected = splitTarget(target);
  if (path !== expected.path) throw fail(`request.path is ${JSON.stringify(path)} but target ${JSON.stringify(target)} decodes to ${JSON.stringify(expected.path)}`);
  if (query !== expected.query) throw fail(`request.query is ${JSON.stringify(query)} but target ${JSON.stringify(target)} has query ${JSON.stringify(expected.query)}`);
  if (httpVersion !== '1.0' && httpVersion !== '1.1' && httpVersion !== '2.0') throw fail(`request.httpVersion is ${JSON.stringify(httpVersion)}, not "1.0", "1.1" or "2.0"`);
  if (!(headers instanceof HeaderList)) throw fail('request.headers is not a HeaderList');
  for (const [name, value] of headers) {
    if (!TOKEN.test(name) || name !== name.toLowerCase()) throw fail(`request header name ${JSON.stringify(name)} is not a lower-case token`);
    if (typeof value !== 'string' || SPLITTING.test(value)) throw fail(`request header ${name} has a value with CR, LF or NUL`);
  }
  if (scheme !== 'http' && scheme !== 'https') throw fail(`request.scheme is ${JSON.stringify(scheme)}, not "http" or "https"`);
  checkAddress('request.remote', remote);
  checkAddress('request.server', server);
  if (!(body instanceof RequestBody)) throw fail('request.body is not a RequestBody');
  if (body.used) throw fail('request.body was already read before the app was called');
  if (!(signal instanceof AbortSignal)) throw fail('request.signal is not an AbortSignal');
  checkUpgradeOffer(request);
  if (request.sendInterim !== undefined && typeof request.sendInterim !== 'function') throw fail('request.sendInterim is present but not a function');
}

/** 1.1: an offer exactly when the request asks to switch protocols, naming that protocol. */
function checkUpgradeOffer(request: GatewayRequest): void {
  const offer = request.upgrade;
  const asked = requestedUpgrade(request);
  if (offer === undefined || offer === null) {
    if (offer === null && asked !== null) throw fail(`the request asks to switch to ${JSON.stringify(asked)} but request.upgrade is null`);
    return;
  }
  if (asked === null) throw fail('request.upgrade is an offer but the request asks for no upgrade');
  if (offer.protocol !== asked) throw fail(`request.upgrade.protocol is ${JSON.stringify(offer.protocol)} but the request asks for ${JSON.stringify(asked)}`);
  if (typeof offer.acceptWebSocket !== 'function' || typeof offer.acceptStream !== 'function') throw fail('request.upgrade lacks acceptWebSocket() or acceptStream()');
}

/**
 * Puts a checking sendInterim on the request (an own property over the server's): a status
 * that is not a 1xx, 100 or 101, fields that are not valid, or a call after the app has
 * returned its response, fail. Returns what to call once the app has answered.
 */
function watchInterim(request: GatewayRequest): () => void {
  const send = request.sendInterim;
  if (typeof send !== 'function') return () => {};
  let answered = false;
  Object.defineProperty(request, 'sendInterim', {
    configurable: true, enumerable: false, writable: true,
    value(status: number, headers: ResponseHeaders): void {
      if (answered) throw fail(`request.sendInterim(${status}) after the app returned its response: an interim response comes before the final one`);
      if (!Number.isInteger(status) || status < 100 || status > 199) throw fail(`request.sendInterim(${JSON.stringify(status)}): the status of an interim response is a 1xx`);
      if (status === 100 || status === 101) throw fail(`request.sendInterim(${status}): 100 Continue is the server's (sent when the body is first read), 101 an accepted upgrade's`);
      checkFields(headerPairs(headers, 'interim headers'), 'interim header', false);
      send.call(request, status, headers);
    },
  });
  return () => { answered = true; };
}

function checkAddress(name: string, value: unknown): void {
  const address = value as { address?: unknown; port?: unknown } | null;
  if (typeof address !== 'object' || address === null || typeof address.address !== 'string' ||
      !Number.isInteger(address.port) || (address.port as number) < 0 || (address.port as number) > 65535) {
    throw fail(`${name} is not { address: string, port: 0..65535 }`);
  }
}

// ---- the app's side: the response ------------------------------------------------------

export function checkResponse(request: GatewayRequest, response: GatewayResponse): GatewayResponse {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) {
    throw fail(`the app returned ${response === null ? 'null' : Array.isArray(response) ? 'an array' : typeof response}; return { status, headers, body }`);
  }
  // By its tag, not `instanceof Response`: reading that global loads undici (adapters/native-fetch.ts).
  if (Object.prototype.toString.call(response) === '[object Response]') {
    throw fail('the app returned a fetch Response; a Gateway app returns { status, headers, body } (for the fetch form, export { fetch(request) })');
  }
  // 1.1: a response from request.upgrade.accept*() takes the connection; the server writes it.
  if (takeoverOf(response) !== null) {
    if (requestedUpgrade(request) === null) throw fail('the app returned an accepted upgrade (request.upgrade.accept*()) for a request that asked for none; request.upgrade is null there, so the response came from another request');
    return response;
  }
  const { status, body } = response;
  if (!Number.isInteger(status)) throw fail(`response.status is ${JSON.stringify(status)}, not an integer`);
  if (status >= 100 && status <= 199) {
    throw fail(`response.status ${status}: an app returns a final response (200-599); 100 Continue is the server's, a 101 is the response request.upgrade.acceptWebSocket() or acceptStream() returns, and early hints (103) go through request.sendInterim()`);
  }
  if (status < 200 || status > 599) throw fail(`response.status ${status} is outside 200-599`);

  const pairs = headerPairs(response.headers);
  checkFields(pairs, 'response header', false);
  const trailers = checkTrailers(response.trailers);
  let contentLength: number | null = null;
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (SERVER_OWNED.has(lower)) throw fail(`response header ${lower} is hop-by-hop and belongs to the server; remove it`);
    if (lower === 'connection' && value.trim().toLowerCase() !== 'close') {
      throw fail(`response header connection: ${JSON.stringify(value)}; the only value an app may send is "close"`);
    }
    if (lower === 'content-length') {
      if (contentLength !== null) throw fail('response has more than one content-length header');
      if (!/^\d+$/.test(value)) throw fail(`response content-length ${JSON.stringify(value)} is not a decimal number`);
      contentLength = Number(value);
    }
  }

  const noBody = request.method === 'HEAD' ? 'a response to HEAD' : status === 204 ? 'a 204 response' : status === 304 ? 'a 304 response' : null;
  if (status === 204 && contentLength !== null) throw fail('a 204 response must not have a content-length header (RFC 9110 8.6)');
  if (body === undefined || body === null) {
    if (noBody === null && contentLength !== null && contentLength !== 0) throw fail(`response content-length is ${contentLength} but the body is ${body}`);
    return trailers === response.trailers ? response : { ...response, trailers };
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
    if (noBody !== null && length > 0) throw fail(`${noBody} must not have a body (got ${length} bytes)`);
    if (noBody === null && contentLength !== null && contentLength !== length) {
      throw fail(`response content-length is ${contentLength} but the body is ${length} bytes${typeof body === 'string' ? ' (strings are sent as UTF-8)' : ''}`);
    }
    return trailers === response.trailers ? response : { ...response, trailers };
  }
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
    throw fail(`response.body is ${describeBody(body)}; it must be a string, a Uint8Array, an async iterable of Uint8Array, or null`);
  }
  if (noBody !== null) throw fail(`${noBody} must not have a body (got an async iterable)`);
  return { status, headers: response.headers, body: checkedStream(body as AsyncIterable<Uint8Array>, contentLength), trailers };
}

/** Names are tokens; values have no CR, LF, NUL, other controls, or characters beyond latin1. `what` names the section in messages. */
function checkFields(pairs: ReadonlyArray<readonly [string, string]>, what: string, trailer: boolean): void {
  for (const [name, value] of pairs) {
    if (!TOKEN.test(name)) throw fail(`${what} name ${JSON.stringify(name)} is not a token (RFC 9110 5.6.2)`);
    if (SPLITTING.test(value)) throw fail(`${what} ${name}: value ${JSON.stringify(value)} contains CR, LF or NUL`);
    if (CONTROL.test(value)) throw fail(`${what} ${name}: value ${JSON.stringify(value)} contains a control character`);
    if (BEYOND_LATIN1.test(value)) throw fail(`${what} ${name}: value ${JSON.stringify(value)} has a character above U+00FF; header values are bytes (percent-encode, or use RFC 8187 for filenames)`);
    if (trailer && FORBIDDEN_TRAILERS.has(name.toLowerCase())) {
      throw fail(`trailer ${name.toLowerCase()} is not allowed in trailers (RFC 9110 6.5.1: framing, routing, authentication, caching and content-processing fields); servers drop it, send it in the headers`);
    }
  }
}

/** response.trailers: fields checked now; a function's result checked when the server calls it. */
function checkTrailers(trailers: GatewayResponse['trailers']): GatewayResponse['trailers'] {
  if (trailers === undefined || trailers === null) return trailers;
  if (typeof trailers === 'function') {
    return async () => {
      const given = await trailers();
      checkFields(headerPairs(given, 'the trailers function result'), 'trailer', true);
      return given;
    };
  }
  checkFields(headerPairs(trailers, 'response.trailers'), 'trailer', true);
  return trailers;
}

function headerPairs(headers: ResponseHeaders | undefined | null, what = 'response.headers'): Array<[string, string]> {
  if (headers === undefined || headers === null) return [];
  if (headers instanceof HeaderList) return [...headers];
  if (Array.isArray(headers)) {
    return headers.map((pair: unknown, index) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw fail(`${what}[${index}] is ${JSON.stringify(pair)}; each pair must be [name, value], two strings`);
      }
      return [pair[0], pair[1]];
    });
  }
  const proto = typeof headers === 'object' ? Object.getPrototypeOf(headers) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    const kind = typeof headers === 'object' ? (headers as object).constructor?.name ?? 'object' : typeof headers;
    throw fail(`${what} is ${kind === 'Headers' ? 'a fetch Headers object' : `a ${kind}`}; use an array of [name, value] pairs, a plain object, or a HeaderList`);
  }
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (typeof item === 'string') pairs.push([name, item]);
      else if (typeof item === 'number' && Number.isFinite(item) && !Array.isArray(value)) pairs.push([name, String(item)]);
      else throw fail(`${what}: ${name} has value ${JSON.stringify(item) ?? String(item)}; values are strings (or a finite number, or an array of strings)`);
    }
  }
  return pairs;
}

function describeBody(body: unknown): string {
  if (Array.isArray(body)) return 'an array (join the chunks, or yield them from an async generator)';
  if (typeof body === 'object' && body !== null) return `an object (${(body as object).constructor?.name ?? 'no prototype'})`;
  return `a ${typeof body}`;
}

/**
 * Passes the app's stream through, checking each chunk is a Uint8Array, that the total
 * matches content-length, and that the server iterates it once and forwards return().
 */
function checkedStream(body: AsyncIterable<Uint8Array>, contentLength: number | null): AsyncIterable<Uint8Array> {
  let iterated = false;
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      if (iterated) throw fail('the server iterated the response body twice');
      iterated = true;
      const inner = body[Symbol.asyncIterator]();
      let total = 0;
      const stop = async (message: string): Promise<never> => {
        await inner.return?.();
        throw fail(message);
      };
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          const result = await inner.next();
          if (result.done) {
            if (contentLength !== null && total !== contentLength) throw fail(`response content-length is ${contentLength} but the body yielded ${total} bytes`);
            return result;
          }
          const chunk: unknown = result.value;
          if (!(chunk instanceof Uint8Array)) return stop(`the response body yielded ${typeof chunk === 'string' ? 'a string' : describeBody(chunk)}; chunks must be Uint8Array (encode strings with TextEncoder or Buffer.from)`);
          total += chunk.byteLength;
          if (contentLength !== null && total > contentLength) return stop(`response content-length is ${contentLength} but the body yielded more (${total} bytes so far)`);
          return result;
        },
        async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
          if (inner.return) return inner.return(value);
          return { done: true, value: undefined };
        },
      };
    },
  };
}
