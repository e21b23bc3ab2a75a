/*
 * MAIN THREAD. A streamed response body as the protocol layer sees it: an async iterable
 * fed by `chunk` messages from the app thread. The protocol layer pulls the next chunk only
 * once the socket has room, and each pull acknowledges bytes back to the app thread, which
 * stops producing when a window is unacknowledged: a slow client costs a window, not the
 * whole body.
 */
import { BODY_WINDOW } from './messages.js';

export class ResponseStream implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #trailers: string[] = [];
  #error: Error | null = null;
  #cancelled = false;
  #taken = 0;
  #waiter: { resolve: (step: IteratorResult<Uint8Array>) => void; reject: (error: Error) => void } | null = null;

  /** `ack(bytes)`: the protocol layer took them. `cancel()`: it stopped reading (client gone). */
  constructor(private readonly ack: (bytes: number) => void, private readonly onCancel: () => void) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.#chunks.shift();
    if (chunk) return Promise.resolve(this.#take(chunk));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended || this.#cancelled) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.#waiter = { resolve, reject }; });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended && !this.#error && !this.#cancelled) {
      this.#cancelled = true;
      this.#chunks = [];
      this.onCancel();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  push(chunk: Uint8Array): void {
    if (this.#cancelled) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      waiter.resolve(this.#take(chunk));
    } else {
      this.#chunks.push(chunk);
    }
  }

  /** `trailers`: the fields END carried (the app thread evaluated and checked them). */
  end(trailers?: string[]): void {
    this.#ended = true;
    if (trailers !== undefined) this.#trailers = trailers;
    const waiter = this.#waiter;
    if (waiter && this.#chunks.length === 0) {
      this.#waiter = null;
      waiter.resolve({ value: undefined, done: true });
    }
  }

  /** The app's stream failed, its thread died, or the deadline passed: the protocol layer cuts the connection. */
  fail(error: Error): void {
    if (this.#ended || this.#cancelled) return;
    this.#error = error;
    this.#chunks = [];
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(error);
  }

  /** The trailer fields END carried; read by the protocol layer once the body has ended. */
  get trailers(): string[] {
    return this.#trailers;
  }

  get finished(): boolean {
    return this.#ended || this.#cancelled || this.#error !== null;
  }

  #take(chunk: Uint8Array): IteratorResult<Uint8Array> {
    this.#taken += chunk.byteLength;
    // Quarter-window batches: the producer (paused at a full window) resumes well before
    // the consumer runs dry.
    if (this.#taken >= BODY_WINDOW / 4 && !this.#ended) {
      this.ack(this.#taken);
      this.#taken = 0;
    }
    return { value: chunk, done: false };
  }
}
