/*
 * The messages between the main thread and an app thread: two tagged unions, one per
 * direction (vitest's WorkerRequest/WorkerResponse; not Puma's one-letter pipe protocol).
 * Each message is a tuple whose first element is its tag, a small integer: a structured clone
 * of a tuple of strings and numbers costs less than the same fields as an object with nested
 * objects (every key is written and read back as a string, every nested object is one more to
 * allocate; docs/benchmarks.md, section 'Crossing between threads'), and a body-less request
 * is on the hot path of every engine benchmark.
 * Messages leave in batches (outbox.ts): one postMessage per thread per event-loop turn.
 *
 * Every request is multiplexed over the worker's own port by a numeric id, so a request costs
 * no MessageChannel of its own: a request whose body is already in memory (none, or one the
 * main thread read ahead, see read-ahead.ts) with an in-memory response is exactly two
 * messages, REQUEST out and RESPONSE back.
 *
 * Larger bodies stream with credit-based flow control in both directions:
 * - request body: the app thread grants bytes (PULL) as the app reads; the main thread
 *   reads the socket side of the body only while it holds credit, so an app that never
 *   reads never makes the server buffer past the read-ahead, and one that reads slowly
 *   holds at most a window.
 * - response body: the main thread acknowledges bytes (ACK) as the protocol layer takes
 *   them for the socket; the app thread stops iterating the app's body when a window is
 *   unacknowledged, so a slow client holds at most a window per response.
 * - upgraded connections (tunnel.ts, bridge-socket.ts): an app's response that takes its
 *   connection (TAKEOVER) crosses as TAKE; the main thread opens the tunnel (OPEN_TUNNEL, with
 *   the bytes read past the request head) and from then on bytes cross both ways under the
 *   same id, each direction under TUNNEL_WINDOW: the main thread reads the socket only while
 *   the app thread has granted credit (TUNNEL_PULL, as the app consumes), and acknowledges
 *   the app's bytes (TUNNEL_ACK, a quarter window at a time) once the socket took them under
 *   its high-water mark.
 * Byte chunks travel as exact-size Uint8Arrays by structured clone, not transferred: the sender
 * may still hold the buffer, which a transfer would detach (see wireBytes). A whole body of at
 * most SMALL_BYTES (a read-ahead request body, an in-memory response body) crosses instead as
 * a latin1 string, one character per byte (see smallBytesToWire).
 *
 * Fields are read by name, never by counting: `message[TAG]`, `message[ID]`, then the
 * message kind's own positions (`message[RequestField.bodyLength]`). The one message with many
 * fields of the same type, REQUEST, is built only by requestMessage() beside its positions.
 */
import type { GatewayRequest, HttpVersion, SerializedError, Settings } from '@gatehouse/core';

/** Bytes a side may have in flight per body before the other side grants more. */
export const BODY_WINDOW = 512 * 1024;
/**
 * Bytes of an upgraded connection in flight per direction before the other side grants more.
 * Smaller than a body's window: a server may hold many thousand WebSockets, and a window is
 * what each may hold in memory on each side when its peer does not read.
 */
export const TUNNEL_WINDOW = 128 * 1024;

// main -> app thread
export const REQUEST = 0;
export const BODY = 1;
export const BODY_END = 2;
export const BODY_ERROR = 3;
export const ACK = 4;
export const ABORT = 5;
export const REOPEN_LOGS = 6;
export const SHUTDOWN = 7;
export const OPEN_TUNNEL = 8;
export const TUNNEL_IN = 9;
export const TUNNEL_IN_END = 10;
export const TUNNEL_ACK = 11;
export const TUNNEL_CLOSED = 12;
export const GOING_AWAY = 13;

/**
 * A request: its RequestHead field by field, then its body when the main thread holds all of
 * it (`inline`: the body is complete, no PULL needed), or null (none, or it streams).
 */
export type RequestMessage = readonly [
  tag: typeof REQUEST, id: number,
  method: string, target: string, path: string, query: string, httpVersion: HttpVersion, rawHeaders: readonly string[],
  scheme: 'http' | 'https', remoteAddress: string, remotePort: number, serverAddress: string, serverPort: number,
  /** Content-Length, null when chunked, 0 when there is no body. */
  bodyLength: number | null,
  /** The whole body: a latin1 string when at most SMALL_BYTES (smallBytesToWire), else bytes. */
  inline: Uint8Array | string | null,
];

/** Every message starts with its tag; every message about one request then names it by id. */
export const TAG = 0;
export const ID = 1;

/** Positions in a REQUEST message (the order requestMessage() writes). */
export const RequestField = {
  method: 2, target: 3, path: 4, query: 5, httpVersion: 6, rawHeaders: 7,
  scheme: 8, remoteAddress: 9, remotePort: 10, serverAddress: 11, serverPort: 12,
  bodyLength: 13, inline: 14,
} as const;

/** MAIN THREAD: a request as it crosses to its app thread; `inline` is its whole body when read ahead. */
export function requestMessage(id: number, request: GatewayRequest, inline: Uint8Array | string | null): RequestMessage {
  return [
    REQUEST, id, request.method, request.target, request.path, request.query, request.httpVersion, request.headers.raw,
    request.scheme, request.remote.address, request.remote.port, request.server.address, request.server.port,
    request.body.length, inline,
  ];
}

export type ToThread =
  | RequestMessage
  /** A request-body chunk. */
  | readonly [tag: typeof BODY, id: number, chunk: Uint8Array]
  | readonly [tag: typeof BODY_END, id: number]
  | readonly [tag: typeof BODY_ERROR, id: number, error: SerializedError]
  /** The protocol layer took `bytes` more of the response body. */
  | readonly [tag: typeof ACK, id: number, bytes: number]
  /** The client went away, the deadline passed, or the response is no longer wanted. */
  | readonly [tag: typeof ABORT, id: number, error: SerializedError]
  | readonly [tag: typeof REOPEN_LOGS]
  /** Run the app's shutdown() and exit. */
  | readonly [tag: typeof SHUTDOWN]
  /** The connection is the app's (answers TAKE): call its takeover with a bridge socket and `head`. */
  | readonly [tag: typeof OPEN_TUNNEL, id: number, head: Uint8Array]
  /** Bytes from the client, within the credit the app thread granted. */
  | readonly [tag: typeof TUNNEL_IN, id: number, chunk: Uint8Array]
  /** The client ended its side (FIN). */
  | readonly [tag: typeof TUNNEL_IN_END, id: number]
  /** The socket took `bytes` more of the app's bytes. */
  | readonly [tag: typeof TUNNEL_ACK, id: number, bytes: number]
  /** The socket closed (or the takeover was never used): forget the tunnel. */
  | readonly [tag: typeof TUNNEL_CLOSED, id: number]
  /** The unit is stopping: end the connection the protocol's way (TakenConnection.goingAway()). */
  | readonly [tag: typeof GOING_AWAY, id: number];

export type WireBody = string | Uint8Array | null;

// app thread -> main
export const READY = 0;
export const BOOT_FAILED = 1;
export const BEAT = 2;
export const RESPONSE = 3;
export const RESPONSE_STREAM = 4;
export const CHUNK = 5;
export const END = 6;
export const ERROR = 7;
export const PULL = 8;
export const BODY_CANCEL = 9;
export const DONE = 10;
export const STOPPED = 11;
export const TAKE = 12;
export const TUNNEL_OUT = 13;
export const TUNNEL_OUT_END = 14;
export const TUNNEL_PULL = 15;
export const TUNNEL_CLOSE = 16;
export const INTERIM = 17;

export type FromThread =
  | readonly [tag: typeof READY]
  | readonly [tag: typeof BOOT_FAILED, error: SerializedError]
  /**
   * `utilization`: the thread's event-loop utilization since its previous timed beat;
   * `bridges`: its open bridge sockets (both absent on a heap-check beat).
   */
  | readonly [tag: typeof BEAT, heapUsed: number, utilization?: number, bridges?: number]
  /**
   * A whole response: the request is finished. `headers` is a HeaderList's flat raw array.
   * `bytesAsString`: the app's body was bytes, sent as a latin1 string (smallBytesToWire);
   * without it a string body is the app's text. `trailers` (checked fields, flat) only when the
   * app gave them as fields and the request accepts them (gateway/trailers.ts).
   */
  | readonly [tag: typeof RESPONSE, id: number, status: number, headers: string[], body: WireBody, bytesAsString?: boolean, trailers?: string[]]
  /**
   * A response head: CHUNK messages follow, then END or ERROR. `trailersFollow`: the app has
   * trailers the request accepts, and END carries them (a function form is called on the app
   * thread once the body has ended).
   */
  | readonly [tag: typeof RESPONSE_STREAM, id: number, status: number, headers: string[], trailersFollow?: true]
  | readonly [tag: typeof CHUNK, id: number, chunk: Uint8Array]
  | readonly [tag: typeof END, id: number, trailers?: string[]]
  /** request.sendInterim: a checked interim response (gateway/interim.ts) for the socket's side to write. */
  | readonly [tag: typeof INTERIM, id: number, status: number, fields: string[]]
  /** The app failed; before a response it becomes a rejection (500), after it a broken stream. */
  | readonly [tag: typeof ERROR, id: number, error: SerializedError]
  /** The app thread grants `bytes` more of the request body. */
  | readonly [tag: typeof PULL, id: number, bytes: number]
  /** The app does not want the rest of the request body. */
  | readonly [tag: typeof BODY_CANCEL, id: number]
  /** The thread has forgotten an aborted request: its concurrency slot is free again. */
  | readonly [tag: typeof DONE, id: number]
  | readonly [tag: typeof STOPPED]
  /** The app's response takes its connection: the request is finished, its slot free, a tunnel opens. */
  | readonly [tag: typeof TAKE, id: number, status: number]
  /** Bytes the app wrote to the connection. */
  | readonly [tag: typeof TUNNEL_OUT, id: number, chunk: Uint8Array]
  /** The app ended its side: the socket sends FIN once its bytes are out. */
  | readonly [tag: typeof TUNNEL_OUT_END, id: number]
  /** The app thread grants `bytes` more from the client. */
  | readonly [tag: typeof TUNNEL_PULL, id: number, bytes: number]
  /** The app destroyed the connection. */
  | readonly [tag: typeof TUNNEL_CLOSE, id: number];

/**
 * Positions in RESPONSE, RESPONSE_STREAM (which has no body, and no trailers but
 * `trailersFollow`) and TAKE (only a status).
 */
export const ResponseField = { status: 2, headers: 3, body: 4, bytesAsString: 5, trailers: 6, trailersFollow: 4 } as const;
/** Position of the trailer fields in END. */
export const END_TRAILERS_FIELD = 2;
/** Positions in INTERIM. */
export const InterimField = { status: 2, fields: 3 } as const;
/** Position of the bytes in BODY, OPEN_TUNNEL, TUNNEL_IN (to the thread) and CHUNK, TUNNEL_OUT (from it). */
export const CHUNK_FIELD = 2;
/** Position of the byte count in ACK, TUNNEL_ACK (to the thread) and PULL, TUNNEL_PULL (from it). */
export const BYTES_FIELD = 2;
/** Position of the error in BODY_ERROR, ABORT (to the thread) and ERROR (from it). */
export const ERROR_FIELD = 2;
/** Position of the heap size in BEAT. */
export const HEAP_USED_FIELD = 1;
/** Position of the event-loop utilization in BEAT. */
export const UTILIZATION_FIELD = 2;
/** Position of the open bridge sockets in BEAT. */
export const BRIDGES_FIELD = 3;
/** Position of the error in BOOT_FAILED (a thread-level message: it has no id). */
export const BOOT_ERROR_FIELD = 1;

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
 * 1 MiB). Not transferred: an exact-size buffer may still be the sender's (the app's, the
 * protocol layer's), and a transfer would detach it; a copy made here could be, which
 * benchmarks/micro/crossing.bench.mjs measures cheaper (docs/benchmarks.md, section 'Crossing
 * between threads').
 */
export function wireBytes(chunk: Uint8Array): Uint8Array {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer)) return chunk;
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return copy;
}

/**
 * Whole bodies of at most this many bytes cross as latin1 strings. A string is cloned into the
 * receiver's heap, where it dies young; a Uint8Array makes each side allocate an ArrayBuffer
 * outside the heap, and for a small body those allocations and the garbage collections they
 * bring cost more than the bytes (docs/benchmarks.md, section 'Crossing between threads').
 * The receiver's Buffer.from(string, 'latin1') of a body this size is a slice of Node's pool.
 * Past it, the copy into a string costs more than the allocation saves.
 */
export const SMALL_BYTES = 4 * 1024;

interface Latin1Buffer extends Buffer { latin1Slice(start: number, end: number): string }

/** A body of at most SMALL_BYTES in its crossing form, one latin1 character per byte. */
export function smallBytesToWire(chunks: readonly Uint8Array[]): string {
  let out = '';
  for (const chunk of chunks) {
    out += (Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) as Latin1Buffer).latin1Slice(0, chunk.byteLength);
  }
  return out;
}

/** The bytes of a body that crossed as smallBytesToWire's string. */
export function smallBytesFromWire(wire: string): Uint8Array {
  return Buffer.from(wire, 'latin1');
}
