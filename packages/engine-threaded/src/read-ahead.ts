/*
 * MAIN THREAD. Reading a request body before the request takes an app-thread slot, as
 * Waitress's I/O thread and Puma's reactor buffer a body before its request reaches a thread.
 * Without it a client that trickles a body holds one of threads x --thread-concurrency slots
 * for as long as it trickles, and a few dozen such clients starve everyone else until
 * --body-timeout or --request-timeout.
 *
 * The main thread reads up to READ_AHEAD_LIMIT bytes of every body, whatever its framing
 * (Content-Length or chunked). A body that ends within the limit crosses whole, inside the
 * request message (one message, no flow-control round trips); a longer one is dispatched once
 * the limit is read, and its first bytes and the rest stream with flow control. Consequences:
 * - `Expect: 100-continue`: reading is what makes the protocol layer send `100 Continue`, so
 *   the 100 goes out at once and the body is read before the app sees the request (RFC 9110
 *   §10.1.1 lets a server send 100 without waiting for the app). An app that would refuse the
 *   body (417, 413, 401) still answers, but only after the client has sent it (up to the limit);
 *   --max-body-size is checked against Content-Length before any 100 is sent.
 * - A client that streams its body and waits for the app's answer to the first part before it
 *   sends the rest (full duplex) waits until --body-timeout on a body shorter than the limit.
 *   Such apps set --read-ahead-budget 0, and slow clients can then hold a slot again.
 * - --read-ahead-budget bounds the bytes held across the process: once it is spent, a new
 *   request is dispatched without reading, and one still reading is dispatched with what it
 *   has read, the rest streaming. Each reading request can pass the budget by at most the one
 *   socket read it already holds.
 * While reading ahead, core's body timeout applies (a pull is waiting), and so do
 * --request-timeout and the client going away.
 */
import type { GatewayRequest } from '@gatehouse/core';

/** Bytes of one request body read before dispatch: a body this size or smaller crosses whole. */
export const READ_AHEAD_LIMIT = 1024 * 1024;

/** Whether this request has a body to read before it takes a slot (length null: chunked). */
export function wantsReadAhead(request: GatewayRequest): boolean {
  return request.body.length !== 0;
}

/** What read-ahead holds in memory, process-wide. */
export class ReadAheadBudget {
  #available: number;

  constructor(bytes: number) {
    this.#available = bytes;
  }

  get available(): number {
    return this.#available;
  }

  /** Counts `bytes` as held (they are read already); false once the budget is spent. */
  hold(bytes: number): boolean {
    this.#available -= bytes;
    return this.#available > 0;
  }

  give(bytes: number): void {
    this.#available += bytes;
  }
}

/** Joins chunks into one exact-size array (one chunk that owns its buffer is used as it is). */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) {
    const only = chunks[0]!;
    if (only.byteOffset === 0 && only.byteLength === only.buffer.byteLength) return only;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
  return out;
}
