/*
 * node:http's 'upgrade' and 'connect' events over the takeover seam (gateway/takeover.ts).
 * node:http hands such a request to its listener as (req, socket, head): the listener owns the
 * socket from then on, writes its own 101 (ws, engine.io) or its own refusal, and `head` holds
 * the bytes that arrived after the request head. The takeover model is the same, so an upgrade
 * here is a takeover response whose function builds that `req` on the socket it is given and
 * emits the event: the protocol layer writes nothing.
 *
 * The socket is whatever the engine hands over: the connection's net.Socket where the app runs
 * on the socket's loop, a stream.Duplex bridged from the I/O thread where it runs on an app
 * thread. Nothing here asks more of it than a Duplex.
 *
 * When the server stops, the connection belongs to the app's library, so it is ended the
 * library's way where one is known: a `ws` WebSocket (ws keeps it on the socket under a symbol
 * described 'websocket'; engine.io's and @hono/node-ws's sockets are ws's) is closed with 1001
 * Going Away, so clients reconnect elsewhere; any other socket is ended.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { takeoverResponse, type TakenConnection, type TakeoverResponse } from '../takeover.js';
import type { GatewayRequest } from '../types.js';

export type UpgradeEvent = 'upgrade' | 'connect';
export type UpgradeEmitter = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

type HeaderLines = http.IncomingMessage & { upgrade: boolean; _addHeaderLines(raw: string[], n: number): void };

/** WebSocket close code 1001 (RFC 6455 §7.4.1): the endpoint is going away. */
const GOING_AWAY = 1001;

/** The event node:http emits for this request, or null for an ordinary request. */
export function upgradeEvent(request: GatewayRequest, requested: string | null): UpgradeEvent | null {
  if (requested === null) return null;
  return request.method === 'CONNECT' ? 'connect' : 'upgrade';
}

/**
 * The response that hands the connection to `emit` as node:http would: `req` on the real
 * socket, complete, `req.upgrade` true. A request body (rare for an upgrade) is read first and
 * goes in front of `head`, where node's parser would have left it.
 */
export async function upgradeResponse(request: GatewayRequest, event: UpgradeEvent, emit: UpgradeEmitter): Promise<TakeoverResponse> {
  const body = request.body.length === 0 ? null : Buffer.from(await request.body.bytes());
  return takeoverResponse(event === 'connect' ? 200 : 101, (socket, head) => {
    const req = upgradeRequest(request, socket);
    emit(req, socket, body === null || body.length === 0 ? head : Buffer.concat([body, head]));
    return goingAwayFor(socket);
  });
}

function upgradeRequest(request: GatewayRequest, socket: Duplex): http.IncomingMessage {
  const req = new http.IncomingMessage(socket as never) as HeaderLines;
  req.method = request.method;
  req.url = request.target;
  req.httpVersion = request.httpVersion;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.upgrade = true;
  const raw = request.headers.raw;
  req._addHeaderLines(raw.slice(), raw.length);
  // Ended before anyone reads: IncomingMessage's _read would resume the socket, and the bytes
  // after the head are the listener's (ws attaches its own reader).
  req.complete = true;
  req.push(null);
  return req;
}

function goingAwayFor(socket: Duplex): TakenConnection {
  return {
    goingAway(): void {
      const webSocket = webSocketOf(socket);
      if (webSocket !== null) webSocket.close(GOING_AWAY, 'server going away');
      else socket.end();
    },
  };
}

interface ClosableWebSocket { close(code: number, reason: string): void }

/** The `ws` WebSocket that owns `socket`, if one does (ws's kWebSocket = Symbol('websocket')). */
export function webSocketOf(socket: Duplex): ClosableWebSocket | null {
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description !== 'websocket') continue;
    const value = (socket as unknown as Record<symbol, unknown>)[key] as Partial<ClosableWebSocket> | undefined;
    if (value !== null && typeof value === 'object' && typeof value.close === 'function') return value as ClosableWebSocket;
  }
  return null;
}
