/*
 * Builds the app-facing GatewayRequest from a RequestHead (plain data that crosses threads)
 * plus the body and abort signal of the side that runs the app.
 */
import { HeaderList } from './headers.js';
import { RequestBody } from './body.js';
import type { BodySource } from './body-source.js';
import type { GatewayRequest, RequestHead } from './types.js';

export function createRequest(head: RequestHead, body: BodySource | null, signal: AbortSignal): GatewayRequest {
  return {
    method: head.method,
    target: head.target,
    path: head.path,
    query: head.query,
    httpVersion: head.httpVersion,
    headers: new HeaderList(head.rawHeaders as string[]),
    scheme: head.scheme,
    remote: head.remote,
    server: head.server,
    body: new RequestBody(body),
    signal,
  };
}

/**
 * Splits a request-target into percent-decoded path and raw query (see percentDecode). No
 * target is ever rejected here: the parser already checked its bytes.
 */
export function splitTarget(target: string): { path: string; query: string } {
  if (target === '*') return { path: '*', query: '' };
  let rest = target;
  if (rest.charCodeAt(0) !== 47 /* / */) {
    // absolute-form: drop scheme://authority; authority-form (CONNECT) has no path.
    const schemeEnd = rest.indexOf('://');
    if (schemeEnd === -1) return { path: '', query: '' };
    const pathStart = rest.indexOf('/', schemeEnd + 3);
    const queryStart = rest.indexOf('?', schemeEnd + 3);
    if (pathStart === -1 || (queryStart !== -1 && queryStart < pathStart)) {
      rest = '/' + (queryStart === -1 ? '' : rest.slice(queryStart));
    } else {
      rest = rest.slice(pathStart);
    }
  }
  const q = rest.indexOf('?');
  const rawPath = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q + 1);
  return { path: percentDecode(rawPath), query };
}

/**
 * Decodes each maximal run of %XX escapes on its own: as UTF-8 when the run is valid UTF-8,
 * else byte by byte as latin1 (so no path is ever rejected here, and one bad escape does not
 * change how the others decode). A '%' not followed by two hex digits stays as it is.
 */
export function percentDecode(raw: string): string {
  if (raw.indexOf('%') === -1) return raw;
  return raw.replace(ESCAPE_RUN, decodeRun);
}

const ESCAPE_RUN = /(?:%[0-9a-fA-F]{2})+/g;

function decodeRun(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    return run.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}
