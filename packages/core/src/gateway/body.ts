/*
 * The request body as the app sees it: read it once, as bytes, text, JSON, or by async
 * iteration. Reading pulls from a BodySource, so an app that never reads the body never makes
 * the server buffer it (the protocol layer stops reading the socket instead).
 */
import { GatehouseError } from '../errors/index.js';
import type { BodySource } from './body-source.js';

const EMPTY = new Uint8Array(0);

export class RequestBody implements AsyncIterable<Uint8Array> {
  readonly #source: BodySource | null;
  #used = false;

  /** `source` null means the request has no body. */
  constructor(source: BodySource | null) {
    this.#source = source;
  }

  /** Content-Length when known, 0 with no body, null when chunked. */
  get length(): number | null {
    return this.#source === null ? 0 : this.#source.length;
  }

  /** True once any read has begun: the body can be read only once. */
  get used(): boolean {
    return this.#used;
  }

  #claim(): void {
    if (this.#used) throw new GatehouseError('ERR_HTTP_BODY_CONSUMED');
    this.#used = true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.#claim();
    const source = this.#source;
    if (source === null) return;
    let finished = false;
    try {
      for (;;) {
        const chunk = await source.pull();
        if (chunk === null) { finished = true; return; }
        if (chunk.byteLength > 0) yield chunk;
      }
    } finally {
      // A reader that breaks out early tells the source, which then discards the rest.
      if (!finished) source.cancel();
    }
  }

  async bytes(): Promise<Uint8Array> {
    this.#claim();
    const source = this.#source;
    if (source === null) return EMPTY;
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = await source.pull();
      if (chunk === null) break;
      chunks.push(chunk);
      total += chunk.byteLength;
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
    return out;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new GatehouseError('ERR_HTTP_INVALID_JSON', (error as Error).message, { cause: error });
    }
  }

  /** Reads and drops whatever the app left unread (so a keep-alive connection can go on). */
  async discard(): Promise<void> {
    if (this.#used || this.#source === null) return;
    this.#used = true;
    while ((await this.#source.pull()) !== null) { /* drop */ }
  }
}

/** A BodySource over bytes already in memory (tests, the in-process client, small bodies). */
export function bufferedBodySource(data: Uint8Array | string): BodySource {
  let pending: Uint8Array | null = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const length = pending.byteLength;
  return {
    length,
    pull: async () => { const chunk = pending; pending = null; return chunk; },
    cancel: () => { pending = null; },
  };
}
