/*
 * A `Response` that costs what the app's answer costs: the class installed as the global
 * Response in a process or thread that runs a fetch-interface app (fetch-globals.ts).
 *
 * undici's `new Response('hi')` builds a Headers, a ReadableStream over the body and a state
 * record, only for the adapter to take them apart again: most of what a small request costs
 * (docs/benchmarks.md, section 'Fetch adapter'). This
 * class keeps what the app gave it (status, the body as a string, bytes or stream, the header
 * fields as a flat [name, value, ...] list) and hands exactly that to the adapter
 * (responseParts()). Everything else a Response offers works on it: `headers` is a real
 * Headers built on first access (and from then on the truth), text()/json()/arrayBuffer()/
 * bytes()/blob() read a string or bytes body directly, and any other member (`body`, clone(),
 * formData(), `type`, ...) builds the real undici Response once and delegates to it.
 *
 * Whatever the fast path does not cover exactly (a Blob, FormData or URLSearchParams body, a
 * status out of range, a header value with surrounding whitespace, a Headers from another
 * implementation ...) is handed to undici's constructor at once, so its result, and its
 * TypeError or RangeError, are undici's own. `x instanceof Response` is true for this class's
 * objects and for undici's; this class's prototype chain is undici's Response.prototype, so
 * Symbol.toStringTag and Object.prototype.toString say "Response".
 */
import { inspect, types } from 'node:util';
import { Readable } from 'node:stream';
import { forwardToNative, nativeFetch } from './native-fetch.js';

// undici's classes, set by linkToNativeResponse() (native-fetch.ts says why not at import).
let NativeResponse: typeof Response;
let NativeHeaders: typeof Headers;
let NativeReadableStream: typeof ReadableStream;
let linked = false;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type FastBody = string | Uint8Array | ReadableStream<Uint8Array> | null;

/** What the adapter sends: `headers` is the flat list, or the Headers the app may have edited. */
export interface ResponseParts {
  readonly status: number;
  readonly headers: readonly string[] | Headers;
  readonly body: FastBody;
}

// RFC 9110 5.1 token (a field name), and a field value undici would keep unchanged (no
// leading or trailing whitespace, no CR/LF/NUL, no code point past U+00FF).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PLAIN_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const TEXT_PLAIN = 'text/plain;charset=UTF-8';

const kPartsOf = Symbol('gatehouse.responseParts');
const kReal = Symbol('gatehouse.realResponse');
const kRealOf = Symbol('gatehouse.realResponseOf');

export class GatewayFetchResponse {
  #status = 200;
  #statusText = '';
  #body: FastBody = null;
  #fields: string[] | null = null;
  #headers: Headers | null = null;
  #used = false;
  #real: Response | null = null;

  static [Symbol.hasInstance](value: unknown): boolean {
    // `Response` (this class, once installed) must still recognise undici's own Responses.
    if (this === GatewayFetchResponse) {
      if (!linked) linkToNativeResponse();
      return value instanceof NativeResponse;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(body?: unknown, init?: unknown) {
    if (!linked) linkToNativeResponse();
    if (!this.#takeFast(body, init)) this.#real = new NativeResponse(body as never, init as ResponseInit);
  }

  /** True when (body, init) is what undici would accept unchanged; false hands both to undici. */
  #takeFast(body: unknown, init: unknown): boolean {
    let status = 200;
    let statusText = '';
    let headersInit: unknown;
    if (init !== undefined && init !== null) {
      if (typeof init !== 'object') return false;
      const { headers, status: s, statusText: t } = init as ResponseInit;
      if (s !== undefined) {
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 200 || s > 599) return false;
        status = s;
      }
      if (t !== undefined) {
        if (typeof t !== 'string' || !REASON_PHRASE.test(t)) return false;
        statusText = t;
      }
      headersInit = headers;
    }
    let fastBody: FastBody;
    if (body === undefined || body === null) fastBody = null;
    else if (typeof body === 'string') fastBody = body;
    else if (body instanceof Uint8Array) fastBody = new Uint8Array(body); // undici copies: later writes by the app do not show
    else if (body instanceof NativeReadableStream && !body.locked && !Readable.isDisturbed(body as never)) fastBody = body as ReadableStream<Uint8Array>;
    else return false;
    if (fastBody !== null && NULL_BODY_STATUS.has(status)) return false;
    const fields = headerFields(headersInit);
    if (fields === null) return false;
    if (typeof fastBody === 'string' && !hasField(fields, 'content-type')) fields.push('content-type', TEXT_PLAIN);
    this.#status = status;
    this.#statusText = statusText;
    this.#body = fastBody;
    this.#fields = fields;
    return true;
  }

  get status(): number { return this.#real !== null ? this.#real.status : this.#status; }
  get statusText(): string { return this.#real !== null ? this.#real.statusText : this.#statusText; }
  get ok(): boolean { const status = this.status; return status >= 200 && status <= 299; }
  get type(): Response['type'] { return this.#real !== null ? this.#real.type : 'default'; }
  get url(): string { return this.#real !== null ? this.#real.url : ''; }
  get redirected(): boolean { return this.#real !== null ? this.#real.redirected : false; }

  get headers(): Headers {
    if (this.#real !== null) return this.#real.headers;
    if (this.#headers === null) {
      const headers = new NativeHeaders();
      const fields = this.#fields!;
      for (let i = 0; i < fields.length; i += 2) headers.append(fields[i]!, fields[i + 1]!);
      this.#headers = headers;
      this.#fields = null;
    }
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this[kReal]().body;
  }

  get bodyUsed(): boolean {
    if (this.#real !== null) return this.#real.bodyUsed;
    if (this.#body instanceof NativeReadableStream) return Readable.isDisturbed(this.#body as never);
    return this.#used;
  }

  async text(): Promise<string> {
    const body = this.#takeWhole();
    if (body === undefined) return this[kReal]().text();
    return typeof body === 'string' ? body : decoder.decode(body);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async bytes(): Promise<Uint8Array> {
    const body = this.#takeWhole();
    if (body === undefined) return new Uint8Array(await this[kReal]().arrayBuffer());
    return typeof body === 'string' ? encoder.encode(body) : body;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#takeable()) return (await this.bytes()).buffer as ArrayBuffer; // our own copy: whole buffer
    return this[kReal]().arrayBuffer();
  }

  async blob(): Promise<Blob> {
    if (!this.#takeable()) return this[kReal]().blob();
    const type = this.headers.get('content-type') ?? '';
    return new Blob([await this.bytes()], { type });
  }

  formData(): Promise<FormData> {
    return this[kReal]().formData();
  }

  clone(): Response {
    return this[kReal]().clone();
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const body = JSON.stringify(data);
    // undici's wording; JSON.stringify(undefined) and functions give undefined.
    if (body === undefined) throw new TypeError('Value is not JSON serializable');
    // Read as undici reads an init dictionary (a Response passed as init works too).
    const headers = init?.headers;
    const response = new GatewayFetchResponse(body, { status: init?.status, statusText: init?.statusText, headers: headers ?? [['content-type', 'application/json']] });
    if (headers !== undefined && headers !== null && !response.headers.has('content-type')) response.headers.set('content-type', 'application/json');
    return response as unknown as Response;
  }

  static redirect(url: string | URL, status = 302): Response {
    let location: string;
    try {
      location = new URL(String(url)).href;
    } catch (cause) {
      throw new TypeError(`Failed to parse URL from ${String(url)}`, { cause });
    }
    if (!REDIRECT_STATUS.has(status)) throw new RangeError(`Invalid status code ${status}`);
    return new GatewayFetchResponse(null, { status, headers: [['location', location]] }) as unknown as Response;
  }

  static error(): Response {
    if (!linked) linkToNativeResponse();
    return NativeResponse.error();
  }

  /** For the adapter: the parts as given, or undefined once the real Response stands in. */
  static [kRealOf](value: unknown): Response | undefined {
    return typeof value === 'object' && value !== null && #real in value ? (value as GatewayFetchResponse)[kReal]() : undefined;
  }

  static [kPartsOf](value: unknown): ResponseParts | undefined {
    return typeof value === 'object' && value !== null && #real in value ? (value as GatewayFetchResponse).#parts() : undefined;
  }

  #parts(): ResponseParts | undefined {
    if (this.#real !== null) return undefined;
    if (this.#body instanceof NativeReadableStream ? Readable.isDisturbed(this.#body as never) : this.#used) return undefined;
    return { status: this.#status, headers: this.#headers ?? this.#fields!, body: this.#body };
  }

  /** The undici Response this stands for, built once with what this one holds. */
  [kReal](): Response {
    if (this.#real !== null) return this.#real;
    const init = { status: this.#status, statusText: this.#statusText, headers: this.#headers ?? pairs(this.#fields!) };
    const body = this.#body;
    if (this.bodyUsed) {
      // Read already: the real one must say so too, so it gets a body and reads it at once.
      const spent = new NativeResponse(NULL_BODY_STATUS.has(this.#status) ? null : '', init);
      void spent.arrayBuffer().catch(() => {});
      this.#real = spent;
    } else {
      this.#real = new NativeResponse(body, init);
    }
    this.#headers = null;
    this.#fields = null;
    this.#body = null;
    return this.#real;
  }

  #takeable(): boolean {
    return this.#real === null && !(this.#body instanceof NativeReadableStream);
  }

  /** The string or bytes body, marked read; undefined when only the real Response can answer. */
  #takeWhole(): string | Uint8Array | undefined {
    if (!this.#takeable()) return undefined;
    // undici's wording, so code that matches on it keeps working.
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    const body = this.#body;
    return body === null ? new Uint8Array(0) : body as string | Uint8Array;
  }
}

// Installed as the global, it is `Response` to the app (Response.name, stack traces).
Object.defineProperty(GatewayFetchResponse, 'name', { value: 'Response' });

/**
 * Reads undici's classes and makes this class inherit from undici's Response, statics included
 * (Response.json()); everything of Response.prototype not defined above goes to the real
 * Response (forwardToNative). Runs at the first
 * construction, `instanceof` or installFetchGlobals(), whichever comes first.
 */
export function linkToNativeResponse(): void {
  if (linked) return;
  linked = true;
  ({ Response: NativeResponse, Headers: NativeHeaders, ReadableStream: NativeReadableStream } = nativeFetch());
  Object.setPrototypeOf(GatewayFetchResponse, NativeResponse);
  forwardToNative(GatewayFetchResponse, NativeResponse.prototype, (response) => response[kReal]());
}

Object.defineProperty(GatewayFetchResponse.prototype, inspect.custom, {
  value(this: GatewayFetchResponse, depth: number, options: object, inspectValue: typeof inspect) {
    const shown = { status: this.status, statusText: this.statusText, headers: this.headers, bodyUsed: this.bodyUsed };
    return `Response ${inspectValue(shown, { ...options, depth: depth < 0 ? 0 : depth - 1 })}`;
  },
});

/** The adapter's way in: the parts of a GatewayFetchResponse, or undefined for anything else. */
export function responseParts(value: unknown): ResponseParts | undefined {
  return GatewayFetchResponse[kPartsOf](value);
}

/** The undici Response behind a GatewayFetchResponse (built now if need be); undefined for anything else. */
export function realResponse(value: unknown): Response | undefined {
  return GatewayFetchResponse[kRealOf](value);
}

/**
 * The header init as a flat [name, value, ...] list of lower-cased names, as undici would hold
 * it; null for anything it might treat differently (undici then decides, and throws).
 */
function headerFields(init: unknown): string[] | null {
  const fields: string[] = [];
  if (init === undefined || init === null) return init === null ? null : fields;
  if (init instanceof NativeHeaders) {
    for (const [name, value] of init) fields.push(name, value);
    return fields;
  }
  if (typeof init !== 'object') return null;
  if (Array.isArray(init)) {
    for (const pair of init as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2 || !addField(fields, pair[0], pair[1])) return null;
    }
    return fields;
  }
  const proto = Object.getPrototypeOf(init);
  if ((proto !== Object.prototype && proto !== null) || types.isProxy(init)) return null;
  for (const name of Object.keys(init)) {
    if (!addField(fields, name, (init as Record<string, unknown>)[name])) return null;
  }
  if (Object.getOwnPropertySymbols(init).length > 0) return null;
  return fields;
}

function addField(fields: string[], name: unknown, value: unknown): boolean {
  if (typeof name !== 'string' || !TOKEN.test(name)) return false;
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
  if (text === null || !PLAIN_VALUE.test(text)) return false;
  fields.push(name.toLowerCase(), text);
  return true;
}

function hasField(fields: readonly string[], name: string): boolean {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return true;
  return false;
}

function pairs(fields: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}
