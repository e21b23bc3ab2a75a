/*
 * Builds the app-facing GatewayRequest from a RequestHead (plain data that crosses threads)
 * plus the body and abort signal of the side that runs the app.
 */
import { HeaderList } from './headers.js';
import { RequestBody } from './body.js';
import type { BodySource } from './body-source.js';
import type { GatewayRequest, HttpVersion, RequestHead, SocketAddress, UpgradeOffer } from './types.js';
import { upgradeOfferFor } from './upgrade-offer.js';
import { defaultUpgradeOptions, type UpgradeOptions } from './upgrade-options.js';

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

/**
 * A GatewayRequest whose AbortSignal is created on first use, for the side that owns the
 * request (core's connection; an engine's app thread), which calls abort(reason) when the client
 * goes away or the deadline passes. Creating an AbortController costs more than the rest of a
 * small request's handling (docs/benchmarks.md, section 'Lazy request signals'), and most apps
 * never look at the signal. All fields are own data properties except `signal` and `upgrade`
 * (getters on the prototype), so `{ ...request }` drops them. `upgrade` is built on first read
 * too, from the UpgradeOptions of the side that built the request (the settings' defaults
 * when it gave none).
 */
export class AbortableRequest implements GatewayRequest {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly query: string;
  readonly httpVersion: HttpVersion;
  readonly headers: HeaderList;
  readonly scheme: 'http' | 'https';
  readonly remote: SocketAddress;
  readonly server: SocketAddress;
  readonly body: RequestBody;
  #controller: AbortController | null = null;
  #aborted = false;
  #reason: unknown = undefined;
  #upgrade: UpgradeOffer | null | undefined = undefined;
  readonly #upgradeOptions: UpgradeOptions | undefined;

  /** `rawHeaders` is adopted (names lower-cased), as HeaderList does. */
  constructor(
    method: string, target: string, path: string, query: string, httpVersion: HttpVersion, rawHeaders: string[],
    scheme: 'http' | 'https', remote: SocketAddress, server: SocketAddress, body: BodySource | null,
    upgradeOptions?: UpgradeOptions,
  ) {
    this.#upgradeOptions = upgradeOptions;
    this.method = method;
    this.target = target;
    this.path = path;
    this.query = query;
    this.httpVersion = httpVersion;
    this.headers = new HeaderList(rawHeaders);
    this.scheme = scheme;
    this.remote = remote;
    this.server = server;
    this.body = new RequestBody(body);
  }

  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === null) {
      controller = this.#controller = new AbortController();
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  get upgrade(): UpgradeOffer | null {
    if (this.#upgrade === undefined) this.#upgrade = upgradeOfferFor(this, this.#upgradeOptions ?? defaultUpgradeOptions());
    return this.#upgrade;
  }

  /** The owner's side: the client went away or the request passed its deadline. Idempotent. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
