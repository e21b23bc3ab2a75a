/*
 * What the protocol layer needs to know, derived from Settings in one place. Durations here
 * are milliseconds (settings speak seconds, as Gunicorn's do).
 */
import type { Settings } from '../settings/table.js';
import { ProxyTrust } from '../net/proxy-headers.js';
import { ProxyAllowList } from '../net/proxy-allow.js';
import type { ProxyProtocolMode } from '../net/proxy-protocol.js';
import { tlsContextFor, type TlsContext } from '../net/tls.js';
import type { HealthPaths } from './health.js';
import { upgradeOptionsFrom, type UpgradeOptions } from '../gateway/upgrade-options.js';
import { http2OptionsFrom, type Http2Options } from '../http2/options.js';

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
  // What happens to a socket before HTTP starts on it (absent = off); see connection-service.ts.
  /** Serve HTTPS: wrap each accepted socket in TLS with this context. */
  readonly tls?: TlsContext | null;
  /** Read a PROXY protocol header first. */
  readonly proxyProtocol?: 'off' | ProxyProtocolMode;
  /** With proxyProtocol on: the peers whose PROXY header is believed (--proxy-allow-ips). */
  readonly proxyAllow?: ProxyAllowList | null;
  /** --proxy-headers on: whose X-Forwarded-* / Forwarded fields to believe (others are removed). null = off. */
  readonly proxyTrust?: ProxyTrust | null;
  /** Open connections past which new ones get 503 (0 = no limit). */
  readonly limitConcurrency?: number;
  /** Paths the server answers itself, before the app (health.ts); absent = none. */
  readonly health?: HealthPaths;
  /** What request.upgrade offers need (WebSocket limits); absent = the settings' defaults. */
  readonly upgrade?: UpgradeOptions;
  /** HTTP/2 on the same sockets (http2/); absent or null = HTTP/1.1 only. */
  readonly http2?: Http2Options | null;
}

export const DEFAULT_MAX_CHUNK_LINE = 4096;

/** Throws ERR_TLS_CONFIG (certificate/key) or ERR_SETTING_INVALID (--forwarded-allow-ips, --proxy-allow-ips). */
export function protocolOptionsFrom(settings: Readonly<Settings>): ProtocolOptions {
  const tls = tlsContextFor(settings);
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
    scheme: tls !== null ? 'https' : 'http',
    writeHighWaterMark: 64 * 1024,
    tls,
    proxyProtocol: settings.proxyProtocol,
    proxyAllow: settings.proxyProtocol !== 'off' ? new ProxyAllowList(settings.proxyAllowIps) : null,
    proxyTrust: settings.proxyHeaders ? ProxyTrust.parse(settings.forwardedAllowIps) : null,
    limitConcurrency: settings.limitConcurrency,
    health: { readiness: settings.healthPath, liveness: settings.livenessPath },
    upgrade: upgradeOptionsFrom(settings),
    http2: http2OptionsFrom(settings),
  };
}
