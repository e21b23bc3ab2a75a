import type { CatalogueEntry } from './entry.js';

/** Protocol errors: each answers the client with its status, then the connection closes. */
export const HTTP_ERRORS = {
  ERR_HTTP_BAD_REQUEST: { status: 400, message: 'Malformed request', hint: 'The client sent bytes that are not valid HTTP/1.1 (RFC 9112).' },
  ERR_HTTP_URI_TOO_LONG: { status: 414, message: 'Request-line too long', hint: 'Raise --limit-request-line if such targets are legitimate.' },
  ERR_HTTP_HEADERS_TOO_LARGE: { status: 431, message: 'Request header fields too large', hint: 'Raise --limit-request-fields or --limit-request-field-size if such headers are legitimate.' },
  ERR_HTTP_BODY_TOO_LARGE: { status: 413, message: 'Request body too large', hint: 'Raise --max-body-size if such bodies are legitimate.' },
  ERR_HTTP_VERSION: { status: 505, message: 'HTTP version not supported', hint: 'Gatehouse speaks HTTP/1.0 and HTTP/1.1.' },
  ERR_HTTP_NOT_IMPLEMENTED: { status: 501, message: 'Transfer-Encoding not implemented', hint: 'Only chunked transfer-coding is accepted on requests.' },
  ERR_HTTP_HEADERS_TIMEOUT: { status: 408, message: 'Request headers not received in time', hint: 'Raise --headers-timeout for slow clients.' },
  ERR_HTTP_BODY_TIMEOUT: { status: 408, message: 'Request body not received in time', hint: 'Raise --body-timeout for slow uploads.' },
  ERR_HTTP_CLIENT_GONE: { status: 499, message: 'Client closed the connection', hint: 'Nothing to fix on the server: the client went away before the response was complete.' },
  ERR_HTTP_BODY_CONSUMED: { status: 500, message: 'Request body already read', hint: 'Read the body once (bytes(), text(), json() or iteration), keep the result.' },
  ERR_HTTP_INVALID_JSON: { status: 400, message: 'Request body is not valid JSON', hint: 'The client must send a JSON body.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 504, message: 'Request exceeded its deadline', hint: 'Raise --request-timeout, or make the handler faster.' },
  ERR_PROXY_PROTOCOL: { status: 400, message: 'Invalid or missing PROXY protocol header', hint: 'With --proxy-protocol, every connection must start with a PROXY v1/v2 header from the load balancer; the connection was closed.' },
  ERR_PROXY_NOT_ALLOWED: { status: 403, message: 'PROXY protocol header from a peer not on --proxy-allow-ips', hint: 'Add the load balancer\'s address or network (CIDR) to --proxy-allow-ips ("*" believes every peer); the connection was closed.' },
  ERR_HTTP_SERVICE_UNAVAILABLE: { status: 503, message: 'Server is too busy', hint: 'Raise --max-queue or add workers/threads.' },
} as const satisfies Record<string, CatalogueEntry>;
