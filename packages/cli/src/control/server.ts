/*
 * The server side of the control socket, in the `serve` process (the master under prefork and
 * hybrid). It is claimed before the engine starts, so a second server pointed at the same path
 * refuses before binding anything, and it answers once the server has started.
 *
 * The socket is created under a umask of 0177, so it is 0600 from the moment it exists (a chmod
 * afterwards would leave a window); the umask is process-wide, and is set only around listen(),
 * before any worker or app thread exists. A socket file already at the path is asked for its status:
 * an answer means a live server (an error naming its pid); a refused connection means a server
 * that crashed without removing it (the file is replaced). Anything else at the path is never
 * deleted.
 *
 * Commands go through the server's ActionLoop, the path signals take, so `serve reload` and a
 * HUP are the same reload; a stop is answered first, then enqueued, since the socket closes
 * with the server.
 */
import fs from 'node:fs';
import net from 'node:net';
import { GatehouseError, isGatehouseError, type UnitStats } from '@gatehouse/core';
import { errorLine, logActionFailure, type GatehouseServer } from '../server.js';
import { exchange } from './exchange.js';
import { MAX_REQUEST_BYTES, parseRequest, type ControlRequest, type ControlResponse, type StatusDocument, type StatusUnit } from './protocol.js';

const READ_TIMEOUT_MS = 10_000;
const STALE_PROBE_TIMEOUT_MS = 2000;

export interface ControlSocket {
  readonly path: string;
  /** Starts answering requests for this server. */
  attach(server: GatehouseServer): void;
  /** Removes the socket file if it is still ours (synchronous: called on the way to exit). */
  remove(): void;
}

export async function claimControlSocket(file: string): Promise<ControlSocket> {
  await clearStale(file);
  let target: GatehouseServer | null = null;
  const attached: Array<() => void> = [];
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => { void answer(socket, () => target ?? new Promise<GatehouseServer>((resolve) => attached.push(() => resolve(target!)))); });
  listener.unref(); // the engine keeps the process alive; the control socket must not
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE'
      ? new GatehouseError('ERR_CONTROL_SOCKET_IN_USE', `${file}: another server claimed it just now`)
      : new GatehouseError('ERR_CONTROL_SOCKET', `${file}: ${error.code ?? error.message}`, { cause: error })));
    const previous = process.umask(0o177);
    try {
      listener.listen(file, () => resolve());
    } finally {
      process.umask(previous);
    }
  });
  const inode = (await fs.promises.stat(file, { bigint: true })).ino;
  return {
    path: file,
    attach(server) {
      target = server;
      for (const wake of attached.splice(0)) wake();
    },
    remove() {
      try {
        // BigInt stats: see "Synchronous stats" in docs/engines.md.
        if (fs.statSync(file, { bigint: true }).ino === inode) fs.unlinkSync(file);
      } catch { /* already gone */ }
      listener.close();
    },
  };
}

async function clearStale(file: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.lstat(file);
  } catch {
    return; // nothing there
  }
  if (!stat.isSocket()) throw new GatehouseError('ERR_CONTROL_SOCKET', `${file} exists and is not a socket`);
  try {
    const reply = await exchange(file, { v: 1, command: 'status' }, STALE_PROBE_TIMEOUT_MS);
    const pid = reply.ok && reply.command === 'status' ? reply.status.pid : undefined;
    throw new GatehouseError('ERR_CONTROL_SOCKET_IN_USE', `${file}: ${pid ? `server pid ${pid} is listening on it` : 'a server is listening on it'}`);
  } catch (error) {
    if (isGatehouseError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED') throw new GatehouseError('ERR_CONTROL_SOCKET_IN_USE', `${file}: something holds it (${code ?? (error as Error).message})`);
  }
  await fs.promises.unlink(file); // left by a server that did not exit cleanly
}

async function answer(socket: net.Socket, server: () => GatehouseServer | Promise<GatehouseServer>): Promise<void> {
  let text = '';
  socket.setEncoding('utf8');
  socket.setTimeout(READ_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => { /* the client went away; nothing to answer */ });
  socket.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > MAX_REQUEST_BYTES) reply(socket, failure(new GatehouseError('ERR_CONTROL_REQUEST', `longer than ${MAX_REQUEST_BYTES} bytes`)));
  });
  await new Promise((resolve) => { socket.once('end', resolve); socket.once('close', resolve); });
  if (socket.destroyed || socket.writableEnded) return;
  const request = parseRequest(text);
  if (typeof request === 'string') return reply(socket, failure(new GatehouseError('ERR_CONTROL_REQUEST', request)));
  socket.setTimeout(0); // a reload or a scale may take as long as the app takes to boot
  const target = await server();
  if (request.command === 'stop') {
    target.logger.info({ event: 'control', command: 'stop', graceful: request.graceful }, 'stop requested over the control socket');
    reply(socket, { v: 1, ok: true, command: 'stop', pid: process.pid },
      () => target.actions.enqueue({ kind: 'stop', graceful: request.graceful, timeout: request.timeout }));
    return;
  }
  reply(socket, await perform(target, request).catch(failure));
}

async function perform(server: GatehouseServer, request: Exclude<ControlRequest, { command: 'stop' }>): Promise<ControlResponse> {
  switch (request.command) {
    case 'status':
      return { v: 1, ok: true, command: 'status', status: statusOf(server) };
    case 'reload':
      server.logger.info({ event: 'control', command: 'reload' }, 'reload requested over the control socket');
      try {
        await server.actions.perform({ kind: 'reload' });
      } catch (error) {
        logActionFailure(server.logger, { kind: 'reload' }, error);
        throw error;
      }
      return { v: 1, ok: true, command: 'reload', generation: server.stats().generation };
    case 'scale': {
      const before = liveUnits(server.stats().units);
      const delta = request.to !== undefined ? request.to - before : request.delta!;
      server.logger.info({ event: 'control', command: 'scale', delta }, 'scale requested over the control socket');
      if (delta !== 0) await server.scale(delta);
      return { v: 1, ok: true, command: 'scale', before, units: liveUnits(server.stats().units) };
    }
  }
}

/** Units that serve or are about to: not those draining away after a reload or scale-down. */
function liveUnits(units: readonly UnitStats[]): number {
  return units.filter((u) => u.state === 'booting' || u.state === 'ready').length;
}

function statusOf(server: GatehouseServer): StatusDocument {
  const stats = server.stats();
  const now = Date.now();
  return {
    ...stats,
    now,
    startedAt: Math.round(now - process.uptime() * 1000),
    addresses: server.addresses.map((a) => a.url),
    units: stats.units.map(withoutMetrics),
  };
}

function withoutMetrics({ metrics: _metrics, children, ...unit }: UnitStats): StatusUnit {
  return children ? { ...unit, children: children.map(withoutMetrics) } : unit;
}

function failure(error: unknown): ControlResponse {
  return { v: 1, ok: false, error: { code: isGatehouseError(error) ? error.code : 'ERR_INTERNAL', line: errorLine(error) } };
}

/** Writes the answer and half-closes; `then` runs once it is sent, or once the client is gone. */
function reply(socket: net.Socket, response: ControlResponse, then?: () => void): void {
  if (socket.writableEnded) return;
  if (then) {
    let ran = false;
    const once = () => { if (!ran) { ran = true; then(); } };
    socket.once('finish', once).once('close', once);
  }
  socket.end(JSON.stringify(response));
}
