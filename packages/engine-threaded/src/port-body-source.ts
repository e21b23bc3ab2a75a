/*
 * APP THREAD. The request body as the app thread sees it: a BodySource fed by `body`
 * messages from the main thread. Nothing is sent until the app first pulls; then the thread
 * grants a window of bytes and tops it up as the app consumes, so the main thread never has
 * more than a window (plus one socket chunk) of this body in flight.
 */
import type { BodySource } from '@gatehouse/core';
import { BODY_WINDOW } from './messages.js';

export interface BodyCreditSink {
  grant(bytes: number): void;
  cancel(): void;
}

export class PortBodySource implements BodySource {
  readonly length: number | null;
  readonly #sink: BodyCreditSink;
  #queue: Uint8Array[] = [];
  #ended = false;
  #cancelled = false;
  #error: Error | null = null;
  #granted = false;
  #consumed = 0;
  #waiter: { resolve: (chunk: Uint8Array | null) => void; reject: (error: Error) => void } | null = null;

  constructor(length: number | null, sink: BodyCreditSink) {
    this.length = length;
    this.#sink = sink;
  }

  pull(): Promise<Uint8Array | null> {
    if (this.#error) return Promise.reject(this.#error);
    if (!this.#granted) {
      this.#granted = true;
      this.#sink.grant(BODY_WINDOW);
    }
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#took(chunk.byteLength);
      return Promise.resolve(chunk);
    }
    if (this.#ended || this.#cancelled) return Promise.resolve(null);
    return new Promise((resolve, reject) => { this.#waiter = { resolve, reject }; });
  }

  cancel(): void {
    if (this.#cancelled || this.#ended) return;
    this.#cancelled = true;
    this.#queue = [];
    this.#sink.cancel();
    this.#wake(null);
  }

  /** A chunk arrived from the main thread. */
  push(chunk: Uint8Array): void {
    if (this.#cancelled || this.#ended) return;
    if (this.#waiter) {
      this.#took(chunk.byteLength);
      this.#wake(chunk);
    } else {
      this.#queue.push(chunk);
    }
  }

  end(): void {
    this.#ended = true;
    if (this.#queue.length === 0) this.#wake(null);
  }

  fail(error: Error): void {
    if (this.#ended && this.#queue.length === 0) return;
    this.#error = error;
    this.#queue = [];
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(error);
  }

  /** Grants consumed bytes back in half-window batches: fewer messages, same bound. */
  #took(bytes: number): void {
    this.#consumed += bytes;
    if (this.#consumed >= BODY_WINDOW / 2 && !this.#ended) {
      this.#sink.grant(this.#consumed);
      this.#consumed = 0;
    }
  }

  #wake(chunk: Uint8Array | null): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.resolve(chunk);
  }
}
