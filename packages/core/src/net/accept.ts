/*
 * The accept path of a listening server, the same under every engine: who gets a connection
 * accepted before anything serves it, and what happens when accepting runs out of file
 * descriptors.
 *
 * Early connections: libuv accepts from the moment listen() succeeds, and Node hands each
 * accepted socket to the 'connection' listeners, or to nobody. A server bound before its app
 * is loaded (bind first, then load: Gunicorn's order) would otherwise drop sockets accepted in
 * between on the floor, open and never read, with no timeout to end them. So bindListener()
 * holds them, and hands them, in order, to the first 'connection' listener added.
 *
 * Out of descriptors (EMFILE: this process's `ulimit -n`; ENFILE: the system's): libuv keeps
 * one spare descriptor per event loop; when accept() fails for lack of one it closes the
 * spare, accepts and closes every queued connection (their clients see the connection closed
 * at once instead of waiting in the backlog), and opens the spare again. Connections already
 * open are served throughout, and accepting resumes by itself once descriptors are free. What
 * libuv cannot do is say so, and when its spare is gone (another thread took the slot) it
 * reports the failure as an 'error' on the server, which without a listener kills the
 * process, and tries accept() again at once, so that loop turns until a descriptor frees up
 * (libuv's caveat: the spare is not reliable in a process with threads). guardAccept()
 * listens for that error, and checks once a second whether this process can open a
 * descriptor at all: one warning when it cannot, one line when it can again, never more than
 * one line a second however many connections are turned away.
 */
import fs from 'node:fs';
import os from 'node:os';
import type net from 'node:net';
import { channels } from '../diagnostics.js';

/**
 * Keeps the sockets `server` accepts until a 'connection' listener is added (or the server is
 * closed): they are then emitted to it, in arrival order, before any connection accepted later.
 */
export function holdConnections(server: net.Server): void {
  const sockets: net.Socket[] = [];
  const hold = (socket: net.Socket) => {
    sockets.push(socket);
    // A client that gives up while held must not raise an unhandled 'error'.
    socket.on('error', ignore);
    socket.once('close', () => { const at = sockets.indexOf(socket); if (at !== -1) sockets.splice(at, 1); });
  };
  const release = (event: string | symbol, listener: unknown) => {
    if (event !== 'connection' || listener === hold) return;
    server.off('newListener', release);
    server.off('connection', hold);
    delete (server as { close?: unknown }).close; // back to net.Server's own
    // After the listener is added (and any others added in the same turn); before the next
    // accept, which only happens in a later poll phase.
    process.nextTick(() => {
      for (const socket of sockets.splice(0)) {
        socket.off('error', ignore);
        if (!socket.destroyed) server.emit('connection', socket);
      }
    });
  };
  server.on('connection', hold);
  server.on('newListener', release);
  // Closing a server that never served ends its held sockets: its 'close' event cannot do it,
  // since net.Server emits that only once every connection (held ones too) has ended.
  const close = server.close;
  server.close = (callback?: (error?: Error) => void) => {
    for (const socket of sockets.splice(0)) socket.destroy();
    return close.call(server, callback);
  };
}

function ignore(): void { /* the socket's owner-to-be sees it closed */ }

const PROBE_MS = 1000;
const OUT_OF_DESCRIPTORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

let guarded = 0;
let probe: NodeJS.Timeout | null = null;
let engineName = 'gatehouse';
/** The error code while this process is out of descriptors, as last seen. */
let outOf: string | null = null;
/** What the log last said: the lines follow the state, at most one a second. */
let saidExhausted = false;
let lastLineAt = 0;

/** Whether this process was out of descriptors when it last looked (at most a second ago while listening). */
export function descriptorsExhausted(): boolean {
  return outOf !== null;
}

/** Whether `error` says the process (EMFILE) or the system (ENFILE) has no descriptor left. */
function isOutOfDescriptors(error: unknown): boolean {
  return OUT_OF_DESCRIPTORS.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

/**
 * Makes accept errors on `server` a log line instead of an uncaught exception, and watches
 * this process's descriptors while it is listening (see the top of this file).
 */
export function guardAccept(server: net.Server, engine: string): void {
  engineName = engine;
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (isOutOfDescriptors(error)) { outOf = error.code!; report(); }
    else line('accept-failed', 'warn', `accepting a connection failed (${error.code ?? error.message}); the server goes on`);
  });
  guarded++;
  server.once('close', () => {
    if (--guarded === 0 && probe) { clearInterval(probe); probe = null; }
  });
  if (!probe) {
    probe = setInterval(checkDescriptors, PROBE_MS);
    probe.unref();
  }
}

/** Opens and closes one descriptor: the cheapest question "could an accept() succeed now?". */
function checkDescriptors(): void {
  try {
    fs.closeSync(fs.openSync(os.devNull, 'r'));
    outOf = null;
  } catch (error) {
    if (isOutOfDescriptors(error)) outOf = (error as NodeJS.ErrnoException).code!;
  }
  report();
}

/** Logs a change of state the log has not told yet (one held back by the once-a-second rule goes out on a later check). */
function report(): void {
  if ((outOf !== null) === saidExhausted) return;
  if (outOf === null) {
    if (line('descriptors-available', 'info', 'file descriptors are free again: new connections are accepted')) saidExhausted = false;
    return;
  }
  const limit = outOf === 'EMFILE' ? "this process's limit (ulimit -n, systemd LimitNOFILE=)" : 'the system-wide limit (fs.file-max)';
  if (line('descriptors-exhausted', 'warn', `out of file descriptors (${outOf}) in pid ${process.pid}: new connections are closed as they arrive, open ones are still served; raise ${limit}, see docs/deployment.md "File descriptors"`)) saidExhausted = true;
}

/** Publishes one line unless one went out less than a second ago; says whether it did. */
function line(event: string, level: 'info' | 'warn', detail: string): boolean {
  const now = Date.now();
  if (now - lastLineAt < PROBE_MS) return false;
  lastLineAt = now;
  channels.engine.publish({ engine: engineName, event, level, detail });
  return true;
}
