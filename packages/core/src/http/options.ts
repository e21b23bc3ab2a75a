/*
 * What the protocol layer needs to know, derived from Settings in one place. Durations here
 * are milliseconds (settings speak seconds, as Gunicorn's do).
 */
import type { Settings } from '../settings/table.js';

export interface ParserLimits {
  readonly maxRequestLine: number;
  readonly maxHeaderCount: number;
  readonly maxHeaderFieldSize: number;
  /** 0 = no limit. */
  readonly maxBodySize: number;
  /** Longest chunk-size line including extensions (a length cap on chunk extensions). */
  readonly maxChunkLine: number;
}

export interface ProtocolOptions {
  readonly limits: ParserLimits;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** 0 = none. */
  readonly requestTimeoutMs: number;
  /** Value of the Server header; '' sends none. */
  readonly serverHeader: string;
  /** Send error stacks to clients (development only). */
  readonly debug: boolean;
  readonly scheme: 'http' | 'https';
  /** Bytes buffered on a socket before the app's body stream is paused. */
  readonly writeHighWaterMark: number;
}

export const DEFAULT_MAX_CHUNK_LINE = 4096;

export function protocolOptionsFrom(settings: Readonly<Settings>): ProtocolOptions {
  return {
    limits: {
      maxRequestLine: settings.limitRequestLine,
      maxHeaderCount: settings.limitRequestFields,
      maxHeaderFieldSize: settings.limitRequestFieldSize,
      maxBodySize: settings.maxBodySize,
      maxChunkLine: DEFAULT_MAX_CHUNK_LINE,
    },
    headersTimeoutMs: settings.headersTimeout * 1000,
    keepAliveTimeoutMs: settings.keepAlive * 1000,
    bodyTimeoutMs: settings.bodyTimeout * 1000,
    requestTimeoutMs: settings.requestTimeout * 1000,
    serverHeader: settings.serverHeader,
    debug: settings.debug,
    scheme: settings.certfile ? 'https' : 'http',
    writeHighWaterMark: 64 * 1024,
  };
}
