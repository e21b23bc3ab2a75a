/*
 * The runtime's own fetch classes, read on first use and never before.
 *
 * Node defines Response, Request and Headers as lazy globals: the first read of any of them
 * compiles its undici bundle, about 10 MiB of RSS in every isolate that does it. A prefork
 * worker or an app thread serving a Gateway or node:http app never needs them, so nothing in
 * core may read them when a module is imported, only when a fetch app is adapted or served.
 *
 * Read once, and before installFetchGlobals() puts the lightweight Response in place of the
 * global: from then on "native" still means undici's class, not ours.
 */
export interface NativeFetch {
  readonly Response: typeof Response;
  readonly Request: typeof Request;
  readonly Headers: typeof Headers;
  readonly ReadableStream: typeof ReadableStream;
}

let natives: NativeFetch | null = null;

export function nativeFetch(): NativeFetch {
  natives ??= { Response: globalThis.Response, Request: globalThis.Request, Headers: globalThis.Headers, ReadableStream: globalThis.ReadableStream };
  return natives;
}
