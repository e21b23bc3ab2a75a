/*
 * MAIN THREAD. Reading a request body before the request takes an app-thread slot, as
 * Waitress's I/O thread buffers a body before its task reaches the pool. Without it a client
 * that trickles a body holds one of threads x --thread-concurrency slots for as long as it
 * trickles, and a few hundred such clients starve everyone else until --request-timeout.
 *
 * The main thread reads up to READ_AHEAD_LIMIT bytes of each body. A body that ends within
 * the limit crosses whole, inside the request message (one message, no flow-control round
 * trips); a longer one is dispatched once the limit is read, and its first bytes and the rest
 * stream with flow control as before. Three exceptions stream from the start:
 * - chunked bodies: a client that sends a chunk and waits for the app's answer to it (full
 *   duplex, as the engine parity suite's upload echo does) would wait for ever on a server
 *   that reads ahead, and chunked uploads are mostly such streaming clients. A client that
 *   trickles a chunked body can therefore still hold a slot, until --body-timeout or
 *   --request-timeout;
 * - `Expect: 100-continue`: reading would send `100 Continue` before the app has seen the
 *   request, and the client is waiting for the app's decision (an app that answers without
 *   reading must get no 100);
 * - when READ_AHEAD_BUDGET bytes are already held across the process: the budget bounds what
 *   read-ahead can cost in memory whatever the number of connections.
 * While reading ahead, core's body timeout applies (a pull is waiting), and so do
 * --request-timeout and the client going away.
 */
import type { GatewayRequest } from '@gatehouse/core';

/** Bytes of one request body read before dispatch: a body this size or smaller crosses whole. */
export const READ_AHEAD_LIMIT = 1024 * 1024;
/** Bytes of request bodies held by the main thread across all requests not yet handed to a thread. */
export const READ_AHEAD_BUDGET = 64 * 1024 * 1024;

/** Whether to read this request's body before it takes a slot. */
export function wantsReadAhead(request: GatewayRequest): boolean {
  const length = request.body.length;
  if (length === 0 || length === null) return false;
  const expect = request.headers.get('expect');
  return expect === null || !/100-continue/i.test(expect);
}

/** What read-ahead holds in memory, process-wide. */
export class ReadAheadBudget {
  #available: number;

  constructor(bytes = READ_AHEAD_BUDGET) {
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
