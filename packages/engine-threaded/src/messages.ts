/*
 * The messages between the main thread and an app thread: two tagged unions, one per
 * direction (vitest's WorkerRequest/WorkerResponse; not Puma's one-letter pipe protocol).
 * Every request is multiplexed over the worker's own port by a numeric id, so a request costs
 * no MessageChannel of its own: a body-less request with an in-memory response is exactly two
 * messages, `request` out and `response` back.
 *
 * Bodies stream with credit-based flow control in both directions:
 * - request body: the app thread grants bytes (`pull`) as the app reads; the main thread
 *   reads the socket side of the body only while it holds credit, so an app that never
 *   reads never makes the server buffer, and one that reads slowly holds at most a window.
 * - response body: the main thread acknowledges bytes (`ack`) as the protocol layer takes
 *   them for the socket; the app thread stops iterating the app's body when a window is
 *   unacknowledged, so a slow client holds at most a window per response.
 * Byte chunks travel as exact-size Uint8Arrays by structured clone, not transferred: cloning
 * measured faster (see wireBytes and docs/engines.md, "threaded").
 */
import type { RequestHead, SerializedError, Settings } from '@gatehouse/core';

/** Bytes a side may have in flight per body before the other side grants more. */
export const BODY_WINDOW = 512 * 1024;

/** main -> app thread */
export type ToThread =
  | { readonly t: 'request'; readonly id: number; readonly head: RequestHead }
  /** A request-body chunk. */
  | { readonly t: 'body'; readonly id: number; readonly chunk: Uint8Array }
  | { readonly t: 'body-end'; readonly id: number }
  | { readonly t: 'body-error'; readonly id: number; readonly error: SerializedError }
  /** The protocol layer took `bytes` more of the response body. */
  | { readonly t: 'ack'; readonly id: number; readonly bytes: number }
  /** The client went away, the deadline passed, or the response is no longer wanted. */
  | { readonly t: 'abort'; readonly id: number; readonly error: SerializedError }
  | { readonly t: 'reopen-logs' }
  /** Run the app's shutdown() and exit. */
  | { readonly t: 'shutdown' };

export type WireBody = string | Uint8Array | null;

/** app thread -> main */
export type FromThread =
  | { readonly t: 'ready' }
  | { readonly t: 'boot-failed'; readonly error: SerializedError }
  | { readonly t: 'beat'; readonly heapUsed: number }
  /**
   * The response head. With `stream` false the body is in `body` and the request is finished;
   * with `stream` true `chunk` messages follow, then `end` or `error`.
   */
  | { readonly t: 'response'; readonly id: number; readonly status: number; readonly headers: string[]; readonly body: WireBody; readonly stream: boolean }
  | { readonly t: 'chunk'; readonly id: number; readonly chunk: Uint8Array }
  | { readonly t: 'end'; readonly id: number }
  /** The app failed; before `response` it becomes a rejection (500), after it a broken stream. */
  | { readonly t: 'error'; readonly id: number; readonly error: SerializedError }
  /** The app thread grants `bytes` more of the request body. */
  | { readonly t: 'pull'; readonly id: number; readonly bytes: number }
  /** The app does not want the rest of the request body. */
  | { readonly t: 'body-cancel'; readonly id: number }
  /** The thread has forgotten an aborted request: its concurrency slot is free again. */
  | { readonly t: 'done'; readonly id: number }
  | { readonly t: 'stopped' };

/** What each app thread receives as workerData. */
export interface ThreadData {
  /** Settings with hook functions removed (functions cannot cross threads). */
  readonly settings: Readonly<Settings>;
  readonly app: { readonly spec: string; readonly cwd?: string };
  readonly setupModules: readonly string[];
  readonly unit: { readonly kind: 'thread'; readonly id: number; readonly generation: number };
  readonly cacheBust?: string;
  readonly heartbeatMs: number;
}

/**
 * The form of a byte chunk to post: an exact-size buffer as it is (the structured clone
 * copies it, so the sender may reuse it), a view into a larger buffer copied to its own size
 * first (a clone would copy the whole backing buffer: a 64 KiB slice of a 1 MiB buffer costs
 * 1 MiB). Measured faster than transferring (benchmarks/crossing.bench.mjs).
 */
export function wireBytes(chunk: Uint8Array): Uint8Array {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer)) return chunk;
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return copy;
}
