/*
 * Stopping a socket's reads at the libuv handle, for a socket about to be passed to another
 * process. `socket.pause()` is not enough: a paused stream goes on reading into its own buffer
 * up to its high-water mark, and bytes read here are lost to the process that gets the
 * descriptor. With reading stopped on the handle, whatever the client sends next waits in the
 * kernel for the next owner. (node:cluster's primary does the same with pauseOnConnect.)
 */
import type { Socket } from 'node:net';

interface ReadableHandle { reading?: boolean; readStop?: () => number }

/** Stops reading on the socket's handle; false when there is no handle to stop. */
export function stopReading(socket: Socket): boolean {
  const handle = (socket as unknown as { _handle?: ReadableHandle | null })._handle;
  if (!handle || typeof handle.readStop !== 'function') return false;
  handle.reading = false;
  handle.readStop();
  return true;
}
