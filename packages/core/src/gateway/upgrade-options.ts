/*
 * What an UpgradeOffer needs from the settings: the WebSocket limits (--ws-*) and the Server
 * header a tunnel's 101/2xx carries. Derived once per process or thread from Settings and
 * handed to every request that side builds (core's connection through ProtocolOptions; an
 * engine's app thread from the Settings it was given), so the offer reads no global state.
 * Durations are milliseconds here (settings speak seconds).
 */
import { defaultSettings, type Settings } from '../settings/table.js';

export interface WebSocketLimits {
  /** Largest message (ws maxPayload): a bigger one closes the socket with 1009. */
  readonly maxMessage: number;
  /** Keep-alive ping period; 0 = no pings. */
  readonly pingIntervalMs: number;
  /** A ping unanswered this long ends the socket (terminate, no close frame); 0 = no deadline. */
  readonly pongTimeoutMs: number;
  /** permessage-deflate offered to clients that ask for it. */
  readonly deflate: boolean;
  /** No message either way for this long closes the socket with 1001; 0 = never. */
  readonly idleTimeoutMs: number;
  /** Bytes queued for a client that is not reading past which the socket is ended (terminate). */
  readonly maxBuffered: number;
  /** bufferedAmount under which drained() resolves. */
  readonly drainMark: number;
}

export interface UpgradeOptions {
  readonly webSocket: WebSocketLimits;
  /** Server header of a 101 or CONNECT 2xx that acceptStream writes ('' = none). */
  readonly serverHeader: string;
}

/** The drained() mark: the socket's own write high-water mark for HTTP bodies. */
const DRAIN_MARK = 64 * 1024;

export function upgradeOptionsFrom(settings: Pick<Settings, 'wsMaxMessage' | 'wsPingInterval' | 'wsPongTimeout' | 'wsDeflate' | 'wsIdleTimeout' | 'wsMaxBuffered' | 'serverHeader'>): UpgradeOptions {
  return {
    webSocket: {
      maxMessage: settings.wsMaxMessage,
      pingIntervalMs: settings.wsPingInterval * 1000,
      pongTimeoutMs: settings.wsPongTimeout * 1000,
      deflate: settings.wsDeflate,
      idleTimeoutMs: settings.wsIdleTimeout * 1000,
      maxBuffered: settings.wsMaxBuffered,
      drainMark: Math.min(DRAIN_MARK, settings.wsMaxBuffered),
    },
    serverHeader: settings.serverHeader,
  };
}

let defaults: UpgradeOptions | null = null;

/** The options every setting's default gives, for a request built with none. */
export function defaultUpgradeOptions(): UpgradeOptions {
  return defaults ??= upgradeOptionsFrom(defaultSettings());
}
