/*
 * An app's response head as HTTP/2 header fields (RFC 9113 §8.3.2, §8.2.2), for
 * ServerHttp2Stream.respond(): `:status`, then the app's fields lower-cased (repeated names as
 * arrays, order kept), then `date` and `server` unless the app sent them. The same validation
 * as on HTTP/1.1 (http/serializer.ts): names are tokens, values field-content, before anything
 * is sent, so a bad field is still a clean 500.
 * Connection-specific fields are dropped, not an error (§8.2.2 makes them malformed on h2, and
 * an app written for HTTP/1.1 may well set them): connection, keep-alive, proxy-connection,
 * transfer-encoding, upgrade, and te. `content-length` is the app's (checked against a body of
 * known length) or the known length; 204 and 1xx never carry one.
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { GatehouseError } from '../errors/index.js';
import { HeaderList } from '../gateway/headers.js';
import type { ResponseHeaders } from '../gateway/types.js';
import { httpDate } from '../http/date.js';
import { checkResponseField, mergeContentLength } from '../http/serializer.js';
import { trailerFields } from '../gateway/trailers.js';

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

export interface H2Head {
  readonly fields: OutgoingHttpHeaders;
  /** The Content-Length the head declares, or -1. */
  readonly contentLength: number;
}

/**
 * `bodyLength`: bytes of a string/bytes/null body, -1 for a stream. `sendsBody`: false for HEAD,
 * 204, 304 (the length the same GET would have is still declared for HEAD, when known).
 */
export function h2ResponseHead(status: number, headers: ResponseHeaders | null | undefined, serverHeader: string, bodyLength: number, sendsBody: boolean, isHead: boolean): H2Head {
  const fields: OutgoingHttpHeaders = { ':status': status };
  const { appLength, hasDate, hasServer } = copyFields(headers, fields);
  let contentLength = -1;
  if (status === 204) {
    // MUST NOT send Content-Length (RFC 9110 §8.6).
  } else if (appLength >= 0) {
    if (sendsBody && bodyLength >= 0 && bodyLength !== appLength) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `content-length ${appLength} but the body has ${bodyLength} bytes`);
    contentLength = appLength;
  } else if (bodyLength >= 0 && (sendsBody || (isHead && status !== 304 && bodyLength > 0))) {
    contentLength = bodyLength;
  }
  if (contentLength >= 0) fields['content-length'] = contentLength;
  if (!hasDate) fields.date = httpDate();
  if (!hasServer && serverHeader !== '') fields.server = serverHeader;
  return { fields, contentLength };
}

/**
 * Trailer fields (RFC 9113 §8.1) by the one rule every protocol side applies
 * (gateway/trailers.ts: checked, the fields §6.5.1 keeps out of trailers dropped), so an h2
 * client gets the same trailers whether the app ran on this loop or on an app thread.
 */
export function h2Trailers(trailers: ResponseHeaders): OutgoingHttpHeaders {
  const fields: OutgoingHttpHeaders = {};
  const flat = trailerFields(trailers);
  for (let i = 0; i < flat.length; i += 2) addField(fields, flat[i]!, flat[i + 1]!);
  return fields;
}

/** Copies the app's fields into `fields` (validated, lower-cased, repeated names as arrays) and reports the server-owned ones. */
function copyFields(headers: ResponseHeaders | null | undefined, fields: OutgoingHttpHeaders): { appLength: number; hasDate: boolean; hasServer: boolean } {
  let appLength = -1;
  let hasDate = false;
  let hasServer = false;
  for (const [rawName, rawValue] of HeaderList.from(headers ?? null)) {
    const value = typeof rawValue === 'string' ? rawValue : String(rawValue);
    checkResponseField(rawName, value);
    const name = rawName.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === 'content-length') { appLength = mergeContentLength(appLength, value); continue; }
    if (name === 'date') hasDate = true;
    else if (name === 'server') hasServer = true;
    addField(fields, name, value);
  }
  return { appLength, hasDate, hasServer };
}

/** A repeated name becomes an array, order kept. */
function addField(fields: OutgoingHttpHeaders, name: string, value: string): void {
  const previous = fields[name];
  if (previous === undefined) fields[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else fields[name] = [previous as string, value];
}
