/*
 * Response trailers (RFC 9110 §6.5): when they can be sent, and which fields they may carry.
 * One definition for every protocol side that sends them (HTTP/1.1 here and in the
 * connection, HTTP/2 streams, an app thread that evaluates them before they cross).
 *
 * - HTTP/1.1 carries trailers only in a chunked body, and only to a client that said it
 *   accepts them (`TE: trailers`, §10.1.4): a client that did not may drop or misread them,
 *   and an intermediary that cannot pass them on may have to buffer the whole body. HTTP/1.0
 *   has no chunked coding; HTTP/2 always can (gRPC relies on it).
 * - Fields that control framing, routing, authentication, caching or how the content is read
 *   must not travel as trailers (§6.5.1: a recipient would have acted on the header section
 *   already). Such fields are dropped, not refused: the body has normally been sent by the
 *   time trailers are known, and refusing would cut a response that is otherwise whole.
 *   validate() reports them, so a mistake is seen in development.
 */
import { checkedFields } from './field-section.js';
import type { HttpVersion, ResponseHeaders } from './types.js';
import type { HeaderList } from './headers.js';

/** §6.5.1 categories, as the names most used for each. */
export const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  // framing and connection
  'content-length', 'transfer-encoding', 'trailer', 'te', 'connection', 'keep-alive', 'proxy-connection', 'upgrade',
  // routing and request modifiers
  'host', 'expect', 'max-forwards', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range',
  // authentication and cookies
  'authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate', 'set-cookie', 'cookie',
  // response control data and caching
  'age', 'cache-control', 'expires', 'date', 'location', 'retry-after', 'vary', 'pragma', 'warning',
  // how to process the content
  'content-type', 'content-encoding', 'content-range',
]);

const forbidden = (name: string): boolean => FORBIDDEN_TRAILERS.has(name);

/** The checked trailer fields, forbidden ones left out; throws ERR_APP_BAD_HEADER on a field that could split the message. */
export function trailerFields(trailers: ResponseHeaders | null | undefined): string[] {
  return checkedFields(trailers, forbidden);
}

/** Whether trailers for this request can reach its client (see the header). */
export function acceptsTrailers(request: { readonly httpVersion: HttpVersion; readonly headers: HeaderList }): boolean {
  if (request.httpVersion === '2.0') return true;
  if (request.httpVersion !== '1.1') return false;
  // TE = #t-codings; t-codings = "trailers" / ( transfer-coding [ weight ] )   (RFC 9110 §10.1.4)
  for (const value of request.headers.getAll('te')) {
    for (const member of value.split(',')) {
      if (member.trim().toLowerCase() === 'trailers') return true;
    }
  }
  return false;
}
