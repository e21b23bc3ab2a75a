/*
 * Listener addresses: parsing `--bind` values and binding them. Used by every engine's
 * supervisor, so a bind error is one clear line before any worker starts. bindAll() is the
 * one way an engine binds: every target prepareToListen() decided, all or none.
 *
 * Unix sockets: a socket file left by a server that died is removed, but only after a
 * connect to it is refused (a live server behind it is an error, not something to steal
 * from); a path that is not a socket is never removed. The file gets the target's mode
 * (prepareToListen sets 0660, or 0666 minus --umask) and owner, and is removed again when the
 * listener closes (libuv unlinks the path it bound).
 */
import net from 'node:net';
import fs from 'node:fs';
import { lookup } from 'node:dns/promises';
import { getSystemErrorName } from 'node:util';
import { GatehouseError } from '../errors/index.js';
import { guardAccept, holdConnections } from './accept.js';

export interface ListenAddress {
  /** 'tcp' (host, port), 'unix' (path) or 'fd' (inherited). */
  readonly kind: 'tcp' | 'unix' | 'fd';
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly fd?: number;
  /** http://127.0.0.1:8000, unix:/run/app.sock, ... */
  readonly url: string;
}

export type ListenTarget =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string; readonly mode?: number; readonly uid?: number; readonly gid?: number }
  | { readonly kind: 'fd'; readonly fd: number };

export function parseBind(value: string): ListenTarget {
  const text = value.trim();
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path) throw new GatehouseError('ERR_BIND_INVALID', `"${value}" has no socket path`);
    return { kind: 'unix', path };
  }
  if (text.startsWith('fd://')) {
    const fd = Number(text.slice(5));
    if (!Number.isInteger(fd) || fd < 0) throw new GatehouseError('ERR_BIND_INVALID', `"${value}" is not fd://N`);
    return { kind: 'fd', fd };
  }
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') throw new GatehouseError('ERR_BIND_INVALID', `"${value}" is not [IPv6]:PORT`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon === -1) { host = text || '127.0.0.1'; portText = '8000'; }
    else { host = text.slice(0, colon) || '0.0.0.0'; portText = text.slice(colon + 1); }
    if (host.includes(':')) throw new GatehouseError('ERR_BIND_INVALID', `"${value}": put IPv6 addresses in brackets, [::1]:8000`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new GatehouseError('ERR_BIND_INVALID', `"${value}" has port "${portText}", expected 0-65535`);
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

export function describeAddress(server: Pick<net.Server, 'address'>, target: ListenTarget, scheme: 'http' | 'https' = 'http'): ListenAddress {
  if (target.kind === 'unix') return { kind: 'unix', path: target.path, url: `unix:${target.path}` };
  const address = server.address();
  if (address && typeof address === 'object') {
    const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
    return target.kind === 'fd'
      ? { kind: 'fd', fd: target.fd, host: address.address, port: address.port, url: `${scheme}://${host}:${address.port}` }
      : { kind: 'tcp', host: address.address, port: address.port, url: `${scheme}://${host}:${address.port}` };
  }
  return { kind: 'fd', fd: (target as { fd: number }).fd, url: `fd://${(target as { fd: number }).fd}` };
}

export interface BindOptions {
  readonly backlog?: number;
  readonly exclusive?: boolean;
  /** For supervisors that hand accepted sockets to another process unread. */
  readonly pauseOnConnect?: boolean;
  /** Names the engine in the descriptor-exhaustion log lines (accept.ts). */
  readonly engine?: string;
}

export interface BoundListeners {
  readonly listeners: net.Server[];
  /** One per listener, in the same order. */
  readonly addresses: ListenAddress[];
}

/**
 * Binds every target in order and describes each address. All or none: when one target
 * fails, the listeners already bound are closed (and their unix socket files removed) before
 * the error is thrown, so a failed start leaves nothing bound.
 */
export async function bindAll(targets: readonly ListenTarget[], options: BindOptions & { readonly https?: boolean } = {}): Promise<BoundListeners> {
  const listeners: net.Server[] = [];
  const addresses: ListenAddress[] = [];
  try {
    for (const target of targets) {
      const listener = await bindListener(target, options);
      listeners.push(listener);
      addresses.push(describeAddress(listener, target, options.https ? 'https' : 'http'));
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    throw error;
  }
  return { listeners, addresses };
}

/**
 * Binds one listening server. `pauseOnConnect` is for supervisors that hand sockets to
 * another process; `engine` names it in accept.ts's log lines. Connections it accepts before
 * a 'connection' listener is added are held for it, and accept errors are logged, not thrown
 * (accept.ts). Rejects with ERR_BIND_FAILED naming the address and the OS reason
 * (ERR_BIND_DENIED for EACCES on a TCP port, whose hint is about privileges).
 */
export async function bindListener(target: ListenTarget, options: BindOptions = {}): Promise<net.Server> {
  if (target.kind === 'unix') await removeStaleSocket(target.path);
  const server = await new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: options.pauseOnConnect ?? false, noDelay: true });
    const onError = (error: NodeJS.ErrnoException) => {
      server.close();
      reject(osBindFailed(target, error.code ?? error.message, error));
    };
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      holdConnections(server);
      guardAccept(server, options.engine ?? 'gatehouse');
      resolve(server);
    };
    const backlog = options.backlog ?? 2048;
    const exclusive = options.exclusive ?? false;
    if (target.kind === 'tcp') server.listen({ host: target.host, port: target.port, backlog, exclusive }, done);
    else if (target.kind === 'unix') server.listen({ path: target.path, backlog, exclusive }, done);
    else server.listen({ fd: target.fd, backlog, exclusive }, done);
  });
  if (target.kind === 'unix') setSocketFileOwner(target, () => server.close());
  return server;
}

/**
 * libuv defers a TCP bind's EADDRINUSE to listen() (another process listening on the port),
 * and this process does not listen: a listen on the same address and port, closed at once,
 * asks the kernel instead, so a port in use is still one clear error before any worker starts.
 */
async function probeListen(handle: RawHandle, address: string, target: Extract<ListenTarget, { kind: 'tcp' }>): Promise<void> {
  const out: Record<string, unknown> = {};
  handle.getsockname?.(out);
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: address, port: Number(out.port ?? target.port), backlog: 1 }, resolve);
    });
  } catch (error) {
    handle.close();
    throw osBindFailed(target, (error as NodeJS.ErrnoException).code ?? (error as Error).message, error);
  } finally {
    probe.close();
  }
}

/** Gives a unix socket's file the target's mode and owner; on failure closes the socket (`close`) and throws. */
function setSocketFileOwner(target: Extract<ListenTarget, { kind: 'unix' }>, close: () => void): void {
  try {
    if (target.mode !== undefined) fs.chmodSync(target.path, target.mode);
    if (target.uid !== undefined || target.gid !== undefined) fs.chownSync(target.path, target.uid ?? -1, target.gid ?? -1);
  } catch (error) {
    close();
    throw bindFailed(target, `setting the socket file's mode/owner: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, error);
  }
}

/** The OS refused to bind or listen (`code`: EADDRINUSE, EACCES, ...). */
function osBindFailed(target: ListenTarget, code: string, cause: unknown): GatehouseError {
  return bindFailed(target, code === 'EADDRINUSE' && target.kind === 'unix' ? 'the path exists and is not a stale socket this process may remove' : code, cause,
    code === 'EACCES' && target.kind === 'tcp' ? 'ERR_BIND_DENIED' : 'ERR_BIND_FAILED');
}

function bindFailed(target: ListenTarget, reason: string, cause: unknown, code: 'ERR_BIND_FAILED' | 'ERR_BIND_DENIED' = 'ERR_BIND_FAILED'): GatehouseError {
  const where = target.kind === 'tcp' ? `${target.host}:${target.port}` : target.kind === 'unix' ? `unix:${target.path}` : `fd://${target.fd}`;
  return new GatehouseError(code, `${where}: ${reason}`, { cause });
}

/**
 * A socket bound in this process and shared with worker processes that listen and accept on
 * it; this process never accepts on it. `handle` is the libuv handle to send to a child
 * (`child.send(message, handle)` passes it as a raw handle, which the child listens on).
 */
export interface HeldListener {
  readonly handle: object;
  /** Closes this process's copy (a unix socket's file is removed with it). */
  close(): void;
}

export interface HeldListeners {
  readonly listeners: HeldListener[];
  readonly addresses: ListenAddress[];
}

interface RawHandle { close(): void; getsockname?(out: Record<string, unknown>): number }
type CreateServerHandle = (address: string | null, port: number | null, addressType: number | null, fd?: number) => RawHandle | number;

/**
 * Binds every target, all or none, like bindAll(), but without listening: the first worker
 * that listens on the shared handle puts the socket in the listening state (its --backlog is
 * the socket's), and only processes that listen accept. A master holding a listening
 * net.Server would be woken by every new connection, accept a share of them and pass each
 * on: under connection churn that costs more than the request itself (docs/benchmarks.md,
 * "Socket sharing"). Until the first worker listens a TCP or unix target refuses
 * connections; afterwards the kernel queues them whenever no worker is accepting. An
 * inherited descriptor (fd://N) is usually listening already.
 *
 * Node has no public call that binds without listening; `net._createServerHandle` is the one
 * node:cluster's primary uses for the same purpose (its SCHED_NONE policy).
 */
export async function bindForWorkers(targets: readonly ListenTarget[], options: { readonly https?: boolean } = {}): Promise<HeldListeners> {
  const listeners: HeldListener[] = [];
  const addresses: ListenAddress[] = [];
  try {
    for (const target of targets) {
      const handle = await bindHandle(target);
      listeners.push({ handle, close: () => handle.close() });
      const address = () => {
        const out: Record<string, unknown> = {};
        return handle.getsockname && handle.getsockname(out) === 0 ? out as unknown as net.AddressInfo : null;
      };
      addresses.push(describeAddress({ address }, target, options.https ? 'https' : 'http'));
    }
  } catch (error) {
    for (const listener of listeners) listener.close();
    throw error;
  }
  return { listeners, addresses };
}

async function bindHandle(target: ListenTarget): Promise<RawHandle> {
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  let result: RawHandle | number;
  if (target.kind === 'fd') {
    result = create(null, null, null, target.fd);
  } else if (target.kind === 'unix') {
    await removeStaleSocket(target.path);
    result = create(target.path, -1, -1);
  } else {
    let address: string;
    let family: number;
    try {
      ({ address, family } = await lookup(target.host));
    } catch (error) {
      throw bindFailed(target, (error as NodeJS.ErrnoException).code ?? (error as Error).message, error);
    }
    result = create(address, target.port, family);
    if (typeof result !== 'number') await probeListen(result, address, target);
  }
  if (typeof result === 'number') {
    const code = getSystemErrorName(result);
    const error = Object.assign(new Error(code), { code, errno: result });
    throw osBindFailed(target, code, error);
  }
  if (target.kind === 'unix') setSocketFileOwner(target, () => (result as RawHandle).close());
  return result;
}

/**
 * A socket file left by a crashed server would make listen fail with EADDRINUSE. It is
 * removed only if nothing answers on it; a server that answers means the address is taken.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let stat: fs.BigIntStats;
  // BigInt stats: Node 20's fs.realpathSync reads the number-stat buffer of the last synchronous
  // stat, and a socket left there makes later imports resolve symlinked packages (pnpm) by the
  // link's path, so they fail; see "Synchronous stats" in docs/engines.md.
  try { stat = fs.statSync(path, { bigint: true }); } catch { return; } // absent: nothing to remove
  if (!stat.isSocket()) return; // listen reports EADDRINUSE; we never delete other files
  const probe = await new Promise<'alive' | 'stale' | 'unknown'>((resolve) => {
    const socket = net.connect({ path });
    socket.once('connect', () => { socket.destroy(); resolve('alive'); });
    // ECONNREFUSED: nobody listens any more. Anything else (EACCES): leave it to listen().
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'stale' : 'unknown'));
  });
  if (probe === 'unknown') return;
  if (probe === 'alive') throw bindFailed({ kind: 'unix', path }, 'a running server is listening on this socket', null);
  try { fs.unlinkSync(path); } catch { /* removed meanwhile */ }
}
