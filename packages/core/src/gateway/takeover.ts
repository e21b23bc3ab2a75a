/*
 * The seam under UpgradeOffer: how a response takes its connection away from the protocol
 * layer. A response that carries TAKEOVER is not written by the server at all; the connection
 * stops speaking HTTP and hands its socket, with any bytes that arrived after the request
 * head, to the takeover function, which writes whatever comes next (a 101 from `ws`, a node
 * app's own handshake, a CONNECT tunnel's 200).
 *
 * Every engine gives the connection the same kind of response: where the app runs on the
 * socket's own loop it is the app's; where the app runs elsewhere (an app thread) the engine's
 * dispatcher makes one whose takeover carries the bytes across to the app and back. So the
 * protocol layer knows nothing of threads, and the engines nothing of WebSocket.
 *
 * The key is registered (Symbol.for), so a response made by a second copy of core (an app
 * thread that loaded it through tsx, a test importing the sources) is still recognised.
 */
import type { Duplex } from 'node:stream';
import type { GatewayRequest, GatewayResponse } from './types.js';

export const TAKEOVER: unique symbol = Symbol.for('gatehouse.takeover') as never;

/** What the server keeps of a taken connection, to end it when the unit stops. */
export interface TakenConnection {
  /**
   * The unit is stopping (its graceful timeout is near): end the protocol's own way, a
   * WebSocket close 1001, so the client reconnects elsewhere. The socket's 'close' follows;
   * the server destroys it if it does not come in time.
   */
  goingAway(): void;
}

/**
 * How long before a stopping unit's graceful timeout its upgraded connections are told to go
 * away: a second (a quarter of a shorter timeout), time for a WebSocket close handshake to
 * finish, so the client sees 1001 rather than a reset.
 */
export function goingAwayLead(timeoutMs: number): number {
  return Math.min(1000, Math.max(0, timeoutMs) / 4);
}

/**
 * Takes the connection: `socket` carries raw bytes both ways from now on, `head` holds the
 * bytes that arrived after the request head (often the first frames). Returns what the server
 * keeps to end it, or nothing when there is no protocol way to end it (it is destroyed then).
 */
export type Takeover = (socket: Duplex, head: Buffer) => TakenConnection | void;

export interface TakeoverResponse extends GatewayResponse {
  readonly [TAKEOVER]: Takeover;
}

export function takeoverOf(response: GatewayResponse): Takeover | null {
  const take = (response as Partial<TakeoverResponse>)[TAKEOVER];
  return typeof take === 'function' ? take : null;
}

/** A response that takes the connection; `status` is what the access log shows (101, or 200 for CONNECT). */
export function takeoverResponse(status: number, take: Takeover): TakeoverResponse {
  return { status, [TAKEOVER]: take };
}

/**
 * The protocol a request asks to switch to, or null: the first token of `Upgrade` when
 * `Connection` lists `upgrade` on HTTP/1.1 (RFC 9110 §7.8), 'connect' for CONNECT. HTTP/1.0
 * and HTTP/2 requests never switch here.
 */
export function requestedUpgrade(request: Pick<GatewayRequest, 'method' | 'httpVersion' | 'headers'>): string | null {
  if (request.httpVersion === '2.0') return null;
  if (request.method === 'CONNECT') return 'connect';
  if (request.httpVersion !== '1.1') return null;
  const upgrade = request.headers.get('upgrade');
  if (upgrade === null) return null;
  const connection = request.headers.getAll('connection');
  if (!connection.some((value) => value.split(',').some((token) => token.trim().toLowerCase() === 'upgrade'))) return null;
  const first = upgrade.split(',')[0]!.trim().toLowerCase();
  const slash = first.indexOf('/');
  return slash === -1 ? first : first.slice(0, slash);
}
