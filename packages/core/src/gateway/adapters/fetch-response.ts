/*
 * A fetch handler's Response, as a GatewayResponse: status, headers (each Set-Cookie its own
 * field, as Headers.getSetCookie() keeps them), and the body streamed chunk by chunk from
 * response.body, so a ReadableStream the app is still producing (server-sent events,
 * hono/streaming) reaches the client as it is written and a client that goes away cancels it.
 *
 * Duck-typed, not `instanceof Response`: an app may bundle its own fetch implementation.
 *
 * Gatehouse's lightweight Response (fetch-light-response.ts, the global Response where the app
 * runs) is read without any of that: its status, flat header list and raw body (string, bytes
 * or the app's own ReadableStream) are taken as the app gave them.
 */
import { GatehouseError } from '../../errors/index.js';
import { HeaderList } from '../headers.js';
import type { GatewayResponse } from '../types.js';
import { isServerOwned } from './server-owned.js';
import { realResponse, responseParts, type ResponseParts } from './fetch-light-response.js';
import { nativeFetch } from './native-fetch.js';

interface ResponseLike {
  readonly status: number;
  readonly type?: string;
  readonly headers: Headers;
  readonly body: ReadableStream<unknown> | null;
}

const encoder = new TextEncoder();

export function toGatewayResponse(value: unknown, method: string): GatewayResponse {
  const parts = responseParts(value);
  if (parts !== undefined) return fromParts(parts, method);
  // A lightweight Response the app made real (it read .body, cloned it...): read the real one.
  const response = realResponse(value) ?? value;
  if (!isResponseLike(response)) {
    throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the fetch handler returned ${describe(response)}; return a Response (new Response(body, { status, headers }))`);
  }
  const status = response.status;
  if (response.type === 'error' || status === 0) {
    throw new GatehouseError('ERR_APP_BAD_RESPONSE', 'the fetch handler returned Response.error(), a network error; a server answers with a status (return a 5xx Response)');
  }
  return withBody(status, headerList(response.headers), wholeBody(response) ?? response.body, method);
}

function fromParts({ status, headers, body }: ResponseParts, method: string): GatewayResponse {
  let list: HeaderList;
  if (Array.isArray(headers)) {
    const flat: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!, value = headers[i + 1]!;
      if (!isServerOwned(name, value)) flat.push(name, value);
    }
    list = new HeaderList(flat);
  } else {
    list = headerList(headers as Headers);
  }
  return withBody(status, list, body, method);
}

/** The Gateway response for a body as the app gave it: whole, a stream, or none. */
function withBody(status: number, headers: HeaderList, body: string | Uint8Array | ReadableStream<unknown> | null | undefined, method: string): GatewayResponse {
  if (body === null || body === undefined) return { status, headers, body: null };
  const sendsNoBody = method === 'HEAD' || status === 204 || status === 304;
  if (typeof body === 'string' || body instanceof Uint8Array) return { status, headers, body: sendsNoBody ? null : body };
  if (sendsNoBody) {
    // No body goes on the wire: stop whatever produces it.
    body.cancel().catch(() => {});
    return { status, headers, body: null };
  }
  return { status, headers, body: streamBody(body) };
}

/**
 * undici keeps the value a Response was built from (`new Response('text')`, Response.json())
 * in its internal state, beside the stream it made of it. Taking that value, when the stream
 * is untouched, skips reading a one-chunk stream (a large share of the adapter's cost:
 * docs/benchmarks.md, section 'Fetch adapter') and
 * lets the protocol layer send a Content-Length. Guarded at every step: any other Response,
 * or an undici that keeps its state differently, takes the streaming path.
 */
let kState: symbol | undefined | null = null; // null: not looked for yet (native-fetch.ts says why)

function wholeBody(response: ResponseLike): string | Uint8Array | undefined {
  const NativeResponse = nativeFetch().Response;
  if (kState === null) kState = Object.getOwnPropertySymbols(new NativeResponse('')).find((s) => s.description === 'state');
  if (kState === undefined || !(response instanceof NativeResponse) || response.bodyUsed) return undefined;
  const body = (response as unknown as Record<symbol, { body?: { stream?: ReadableStream; source?: unknown } | null } | undefined>)[kState]?.body;
  if (body === null || body === undefined || body.stream === undefined || body.stream.locked) return undefined;
  const source = body.source;
  return typeof source === 'string' || source instanceof Uint8Array ? source : undefined;
}

function headerList(headers: Headers): HeaderList {
  const flat: string[] = [];
  let cookies = false;
  for (const [name, value] of headers) {
    // Iteration may join repeated Set-Cookie fields (polyfills do); getSetCookie() does not.
    if (name === 'set-cookie' && typeof headers.getSetCookie === 'function') { cookies = true; continue; }
    if (!isServerOwned(name, value)) flat.push(name, value);
  }
  if (cookies) for (const cookie of headers.getSetCookie()) flat.push('set-cookie', cookie);
  return new HeaderList(flat);
}

/** response.body as the async iterable of Uint8Array the protocol layer pulls from. */
function streamBody(stream: ReadableStream<unknown>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const reader = stream.getReader();
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          const result = await reader.read();
          if (result.done) return { done: true, value: undefined };
          return { done: false, value: toBytes(result.value) };
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          // The client went away or the write failed: tell the producer (its cancel() runs).
          await reader.cancel().catch(() => {});
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  // undici's own body readers reject anything but Uint8Array; a string is accepted here
  // because its meaning is unambiguous.
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new GatehouseError('ERR_APP_BAD_RESPONSE', `the Response body stream produced ${describe(chunk)}; enqueue Uint8Array chunks (TextEncoder for text)`);
}

function isResponseLike(value: unknown): value is ResponseLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<ResponseLike>;
  return typeof candidate.status === 'number' && typeof candidate.headers === 'object' && candidate.headers !== null &&
    typeof (candidate.headers as Headers)[Symbol.iterator] === 'function' && 'body' in candidate;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined (did a route forget to return its Response?)';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  return `a ${typeof value}`;
}
