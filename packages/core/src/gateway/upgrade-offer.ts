/*
 * request.upgrade: how an app accepts an upgrade the client asked for (docs/gateway-interface.md
 * §9). Each accept returns the object the app keeps (a WebSocket, a byte stream) and a
 * takeover response (gateway/takeover.ts) the app returns; the protocol layer then hands the
 * connection, with the bytes read past the request head, to that response's takeover, which
 * writes the 101 (or CONNECT's 2xx) and attaches the object. Nothing is written before the
 * app returns, so an app that accepts and then returns something else has refused.
 *
 * `ws` is loaded on the first accepted WebSocket only (createRequire: the takeover runs
 * synchronously), so an app that never upgrades never loads it.
 */
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type * as Ws from 'ws';
import { GatehouseError } from '../errors/index.js';
import { ResponseSerializer, newFraming } from '../http/serializer.js';
import { HeaderList } from './headers.js';
import { requestedUpgrade, takeoverResponse } from './takeover.js';
import type { GatewayRequest, ResponseHeaders, StreamAcceptOptions, UpgradeOffer, WebSocketAcceptOptions, GatewayWebSocket, UpgradedStream, GatewayResponse } from './types.js';
import type { UpgradeOptions } from './upgrade-options.js';
import { ServerWebSocket } from './websocket.js';
import { DuplexUpgradedStream } from './upgraded-stream.js';

type OfferedRequest = Pick<GatewayRequest, 'method' | 'target' | 'httpVersion' | 'headers'>;

/** The offer for `request`, or null when it asks for no upgrade. */
export function upgradeOfferFor(request: OfferedRequest, options: UpgradeOptions): UpgradeOffer | null {
  const protocol = requestedUpgrade(request);
  return protocol === null ? null : new Offer(request, protocol, options);
}

/** Fields of the handshake that are the server's to write: an app that sets them gets an error. */
const HANDSHAKE_OWNED = /^(?:upgrade|connection|sec-websocket-.*)$/i;

let wsModule: typeof Ws | null = null;
function loadWs(): typeof Ws {
  return wsModule ??= createRequire(import.meta.url)('ws') as typeof Ws;
}

class Offer implements UpgradeOffer {
  readonly protocol: string;
  readonly #request: OfferedRequest;
  readonly #options: UpgradeOptions;
  #accepted = false;

  constructor(request: OfferedRequest, protocol: string, options: UpgradeOptions) {
    this.#request = request;
    this.protocol = protocol;
    this.#options = options;
  }

  acceptWebSocket(options: WebSocketAcceptOptions = {}): { readonly socket: GatewayWebSocket; readonly response: GatewayResponse } {
    this.#acceptOnce('acceptWebSocket');
    if (this.protocol !== 'websocket') throw misuse(`acceptWebSocket() on a request that asks for ${JSON.stringify(this.protocol)}; use acceptStream()`);
    const chosen = options.protocol ?? '';
    if (chosen !== '' && !offeredSubprotocols(this.#request.headers).includes(chosen)) {
      throw misuse(`subprotocol ${JSON.stringify(chosen)} was not offered by the client (sec-websocket-protocol: ${JSON.stringify(this.#request.headers.get('sec-websocket-protocol') ?? '')})`);
    }
    const extra = fieldLines(options.headers);
    const limits = this.#options.webSocket;
    const socket = new ServerWebSocket(chosen, limits);
    const request = this.#request;
    const response = takeoverResponse(101, (duplex: Duplex, head: Buffer) => {
      socket.attach(duplex);
      if (socket.readyState === 3) { duplex.destroy(); return; }
      const { WebSocketServer } = loadWs();
      // One server per accept: it holds only this handshake's options; no client tracking.
      const server = new WebSocketServer({
        noServer: true, clientTracking: false, maxPayload: limits.maxMessage, perMessageDeflate: limits.deflate,
        handleProtocols: () => chosen === '' ? false : chosen,
      });
      if (extra.length > 0) server.on('headers', (lines: string[]) => { lines.push(...extra); });
      server.handleUpgrade(handshakeRequest(request, duplex) as never, duplex as never, head, (ws) => socket.open(ws));
      // The socket itself is what the connection keeps: a closure here would hold this
      // scope (the request, its headers) for the socket's whole life.
      return socket;
    });
    return { socket, response };
  }

  acceptStream(options: StreamAcceptOptions = {}): { readonly stream: UpgradedStream; readonly response: GatewayResponse } {
    this.#acceptOnce('acceptStream');
    const connect = this.protocol === 'connect';
    const status = options.status ?? (connect ? 200 : 101);
    if (connect ? !(status >= 200 && status <= 299) : status !== 101) {
      throw misuse(`status ${status}: ${connect ? 'a CONNECT is accepted with a 2xx' : 'an upgrade is accepted with 101'}`);
    }
    fieldLines(options.headers); // the server-owned check, before anything is decided
    const head = connect ? this.#headOf(status, options.headers) : this.#headOf(status, options.headers, upgradeToken(this.#request.headers));
    const stream = new DuplexUpgradedStream();
    const response = takeoverResponse(status, (duplex: Duplex, rest: Buffer) => {
      duplex.write(head);
      stream.attach(duplex, rest);
      return { goingAway: () => { void stream.end(); } };
    });
    return { stream, response };
  }

  /** A 101 (`upgrade` names the protocol) or CONNECT 2xx head, its fields checked as any response's. */
  #headOf(status: number, headers: ResponseHeaders | undefined, upgrade?: string): string {
    // isHead: the head promises no body (a 2xx to CONNECT must not carry Content-Length, RFC 9110 §9.3.6).
    const head = new ResponseSerializer(this.#options.serverHeader).serializeHead(status, headers, true, true, true, 0, newFraming());
    if (upgrade === undefined) return head;
    const statusEnd = head.indexOf('\r\n') + 2;
    return head.slice(0, statusEnd) + `connection: upgrade\r\nupgrade: ${upgrade}\r\n` + head.slice(statusEnd);
  }

  #acceptOnce(what: string): void {
    if (this.#accepted) throw misuse(`${what}(): this upgrade was already accepted`);
    this.#accepted = true;
  }
}

function misuse(message: string): GatehouseError {
  return new GatehouseError('ERR_APP_BAD_UPGRADE', message);
}

/** Sec-WebSocket-Protocol: 1#token (RFC 6455 §11.3.4), over every field line. */
function offeredSubprotocols(headers: GatewayRequest['headers']): string[] {
  return headers.getAll('sec-websocket-protocol').flatMap((value) => value.split(',').map((token) => token.trim())).filter((token) => token !== '');
}

/** The client's first Upgrade token as it sent it (with any /version), echoed in the 101. */
function upgradeToken(headers: GatewayRequest['headers']): string {
  return headers.get('upgrade')!.split(',')[0]!.trim();
}

let fieldSerializer: ResponseSerializer | null = null;

/**
 * The app's extra handshake fields as `name: value` lines, checked by the response serializer
 * (token names, field-content values), so a 101 cannot be split any more than a 200 can. A
 * sentinel Date field ends them, keeping the serializer's own Date and framing fields out.
 */
function fieldLines(headers: ResponseHeaders | undefined): string[] {
  if (headers === undefined) return [];
  const pairs = [...HeaderList.from(headers)];
  for (const [name] of pairs) {
    if (HANDSHAKE_OWNED.test(name)) throw new GatehouseError('ERR_APP_BAD_HEADER', `${name.toLowerCase()} belongs to the server in a 101 or CONNECT response; remove it`);
  }
  const head = (fieldSerializer ??= new ResponseSerializer('')).serializeHead(101, [...pairs, ['date', '-']], true, true, true, 0, newFraming());
  return head.split('\r\n').slice(1, -3);
}

/** What ws.handleUpgrade reads of node:http's IncomingMessage. */
function handshakeRequest(request: OfferedRequest, socket: Duplex): object {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  return { method: request.method, url: request.target, httpVersion: request.httpVersion, headers, socket };
}
