/*
 * Where a request body's bytes come from. The protocol layer implements this over a socket
 * (reading resumes only while somebody pulls: that is the backpressure), the threaded engine
 * implements it over a MessagePort. RequestBody is the app-facing side.
 */
export interface BodySource {
  /** Content-Length when known, null for chunked bodies. */
  readonly length: number | null;
  /**
   * The next chunk, or null at the end of the body. Rejects with a GatehouseError when the
   * body cannot be completed (client gone, framing error, too large, timed out).
   * The first pull is what sends `100 Continue` when the client asked for it.
   */
  pull(): Promise<Uint8Array | null>;
  /** The reader will not pull again; the source discards whatever is left. */
  cancel(reason?: unknown): void;
}
