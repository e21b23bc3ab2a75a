/*
 * The load generator seam: for HTTP/1.1 wrk (when on PATH) or autocannon (embedded), for h2c
 * h2load (when on PATH) or node-h2 (embedded), behind one interface,
 * so the rest of the tool never knows which one measured. Both run as child processes, so
 * their CPU time is theirs alone and can be reported: on a 2-core machine the load generator
 * competes with the server, and a reader must know by how much.
 */
export interface LoadRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array;
}

export interface LoadSpec {
  /** http://HOST:PORT, no path. */
  readonly origin: string;
  /** Sent in turn on each connection (one entry for most scenarios). */
  readonly requests: readonly LoadRequest[];
  readonly connections: number;
  /** Concurrent streams on each connection (HTTP/2 generators; HTTP/1.1 sends one at a time). */
  readonly streams: number;
  readonly durationSec: number;
  /** Load-generator threads (wrk -t); autocannon is one thread. */
  readonly threads: number;
  /** A request slower than this counts as an error (timeout). */
  readonly timeoutSec: number;
}

export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadResult {
  /** Completed responses, any status. */
  readonly requests: number;
  readonly durationSec: number;
  readonly rps: number;
  readonly latencyMs: LatencyMs;
  /** Connect/read/write errors and timeouts. */
  readonly errors: number;
  /** Responses outside 2xx (wrk counts 3xx too: it has one counter for "non-2xx or 3xx"). */
  readonly non2xx: number;
  /** CPU seconds the load generator itself used (user + sys). */
  readonly loadgenCpuSec: number;
}

export interface LoadGenerator {
  readonly name: 'wrk' | 'autocannon' | 'h2load' | 'node-h2';
  readonly version: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}
