// The work each built-in scenario does, shared by the Gatehouse scenario apps here and the
// plain node:http peers in ../peers, so an engine and a peer are measured doing the same thing.

/** cpu: a fixed, allocation-free computation of about a millisecond on a laptop core. */
export const CPU_FIB_N = 25;
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
export function cpuWork() {
  return `fib(${CPU_FIB_N}) = ${fib(CPU_FIB_N)}\n`;
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
