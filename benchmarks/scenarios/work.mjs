// The work each built-in scenario does, shared by the Gatehouse scenario apps here and the
// plain node:http peers in ../peers, so an engine and a peer are measured doing the same thing.

// cpu: the very computation of examples/cpu (GET /cpu?n=N, primes up to n by trial division),
// imported from it, so the cpu scenario means one thing whichever app or peer serves it.
import { countPrimes, DEFAULT_N as CPU_N } from '../../examples/cpu/app.js';
export { countPrimes, CPU_N };
/** The response body for `?n=...` (absent or invalid n means CPU_N; bench requests are well-formed). */
export function cpuWork(query) {
  const raw = new URLSearchParams(query).get('n');
  const n = raw && /^[0-9]{1,7}$/.test(raw) ? Math.min(Number(raw), 5_000_000) : CPU_N;
  return JSON.stringify({ n, primes: countPrimes(n) });
}

/** io: what a database round trip looks like to the event loop: an await, no CPU. */
export const IO_DELAY_MS = 10;
export function ioWait() {
  return new Promise((resolve) => setTimeout(resolve, IO_DELAY_MS));
}

/** upload: the request body size the load generator sends. */
export const UPLOAD_BYTES = 64 * 1024;

/** stream: a 1 MiB response sent as 16 chunks of 64 KiB (chunked transfer coding). */
export const STREAM_CHUNK_BYTES = 64 * 1024;
export const STREAM_CHUNKS = 16;
export const STREAM_CHUNK = new Uint8Array(STREAM_CHUNK_BYTES).fill(0x61);

export const HELLO_BODY = 'Hello, World!';
