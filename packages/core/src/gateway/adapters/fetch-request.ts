/*
 * The `Request` a fetch handler receives: an object whose prototype chain is the global
 * Request's (so `instanceof Request` holds), built cheaply and made real only when needed.
 *
 * Constructing an undici Request per call costs URL parsing, a Headers copy and a linked
 * AbortSignal, most of which a router never looks at. So `method` and `url` are plain
 * properties (what routers read), `headers` is a Headers built on first access, `signal` is
 * the GatewayRequest's own signal, and text()/json()/arrayBuffer()/bytes()/blob() read the
 * GatewayRequest body directly (one copy fewer than going through a ReadableStream). `body`
 * is a ReadableStream pulled from request.body only when asked for. Anything else (clone(),
 * formData(), cache, mode, ...) builds the real Request once, with a streamed body, and
 * delegates to it from then on.
 */
import type { GatewayRequest } from '../types.js';
import { forwardToNative, nativeFetch } from './native-fetch.js';

const kMaterialize = Symbol('gatehouse.materialize');
const decoder = new TextDecoder();

/** undici normalizes these (and only these) methods to upper case; others stay as sent. */
const NORMALIZED_METHODS: Record<string, string> = { delete: 'DELETE', get: 'GET', head: 'HEAD', options: 'OPTIONS', post: 'POST', put: 'PUT' };

export class GatewayFetchRequest {
  readonly method: string;
  readonly url: string;
  readonly #request: GatewayRequest;
  #headers: Headers | null = null;
  #stream: ReadableStream<Uint8Array> | null = null;
  #real: Request | null = null;

  constructor(request: GatewayRequest) {
    if (!linked) linkToRequestPrototype();
    this.#request = request;
    const method = request.method;
    this.method = NORMALIZED_METHODS[method.toLowerCase()] ?? method;
    this.url = requestUrl(request);
  }

  get headers(): Headers {
    if (this.#real !== null) return this.#real.headers;
    if (this.#headers === null) {
      const headers = new Headers();
      const raw = this.#request.headers.raw;
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
      this.#headers = headers;
    }
    return this.#headers;
  }

  get signal(): AbortSignal {
    return this.#request.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#real !== null) return this.#real.body;
    if (!this.#hasBody()) return null;
    this.#stream ??= bodyStream(this.#request);
    return this.#stream;
  }

  get bodyUsed(): boolean {
    if (this.#real !== null) return this.#real.bodyUsed;
    return this.#request.body.used;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.#real !== null || this.#stream !== null) return new Uint8Array(await this[kMaterialize]().arrayBuffer());
    if (!this.#hasBody()) return new Uint8Array(0);
    this.#claim();
    return this.#request.body.bytes();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#real !== null || this.#stream !== null) return this[kMaterialize]().arrayBuffer();
    const bytes = await this.bytes();
    // A chunk from the parser may be a view into a larger (shared) buffer: hand out only ours.
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
    return bytes.slice().buffer as ArrayBuffer;
  }

  async text(): Promise<string> {
    if (this.#real !== null || this.#stream !== null) return this[kMaterialize]().text();
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    // JSON.parse's SyntaxError, as undici's Request.json() throws.
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    if (this.#real !== null || this.#stream !== null) return this[kMaterialize]().blob();
    return new Blob([await this.bytes()], { type: this.#request.headers.get('content-type') ?? '' });
  }

  formData(): Promise<FormData> {
    return this[kMaterialize]().formData();
  }

  clone(): Request {
    return this[kMaterialize]().clone();
  }

  /** The undici Request this stands for, built once: the body moves into it as a stream. */
  [kMaterialize](): Request {
    if (this.#real !== null) return this.#real;
    const request = this.#request;
    const body = this.#hasBody() && !request.body.used ? (this.#stream ?? bodyStream(request)) : null;
    const init: RequestInit & { duplex?: 'half' } = { method: this.method, headers: this.headers, signal: request.signal };
    if (body !== null) { init.body = body; init.duplex = 'half'; }
    this.#real = new Request(this.url, init);
    return this.#real;
  }

  #hasBody(): boolean {
    return this.method !== 'GET' && this.method !== 'HEAD' && this.#request.body.length !== 0;
  }

  #claim(): void {
    // undici's wording, so code that matches on it keeps working.
    if (this.#request.body.used) throw new TypeError('Body is unusable: Body has already been read');
  }
}

let linked = false;

/**
 * Everything of Request.prototype not defined above goes to the real Request. Done at the first
 * request, not at import: reading the global Request loads undici (native-fetch.ts).
 */
function linkToRequestPrototype(): void {
  linked = true;
  forwardToNative(GatewayFetchRequest, nativeFetch().Request.prototype, (request) => request[kMaterialize]());
}

/**
 * scheme://host + target. The Host header names the origin (RFC 9110 7.2); when the target
 * names an authority the protocol layer has already put it there (RFC 9112 3.2.2). With an
 * empty Host, or none (HTTP/1.0), the address the request arrived on stands in. An absolute-form
 * target is already a URL; the asterisk-form (OPTIONS *) becomes the path "/*", authority-form
 * (CONNECT) "/".
 */
export function requestUrl(request: GatewayRequest): string {
  const target = request.target;
  const first = target.charCodeAt(0);
  if (first !== 47 /* / */ && (target.startsWith('http://') || target.startsWith('https://'))) return target;
  let host = request.headers.get('host');
  if (host === null || host === '') {
    const { address, port } = request.server;
    host = (address.includes(':') ? `[${address}]` : address) + `:${port}`;
  }
  const origin = `${request.scheme}://${host}`;
  if (first === 47) return origin + target;
  return origin + (target === '*' ? '/*' : '/');
}

/** A byte stream pulled from the request body: one GatewayRequest chunk per pull. */
function bodyStream(request: GatewayRequest): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= request.body[Symbol.asyncIterator]();
      const result = await iterator.next();
      if (result.done) controller.close();
      else controller.enqueue(result.value);
    },
    async cancel() {
      await iterator?.return?.();
    },
  }, { highWaterMark: 0 });
}
