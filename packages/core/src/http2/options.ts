/*
 * HTTP/2 settings as the protocol layer uses them, and the options handed to Node's http2
 * (nghttp2 does the framing, HPACK and flow control). The defaults that guard a session
 * against a misbehaving peer are chosen here, in one place:
 * - push and the extended CONNECT protocol are off (the Gateway Interface has neither);
 * - a peer that sends many invalid frames, or keeps opening streams past the limit, loses its
 *   session (Node's counters, set explicitly so they are visible);
 * - header pairs are bounded by --limit-request-fields (plus the four pseudo-headers), the
 *   decoded header list by --http2-max-header-list-size: an HPACK bomb (a small block that
 *   decodes huge) resets its stream with ENHANCE_YOUR_CALM, nothing is buffered past the bound;
 * - nghttp2 itself caps CONTINUATION frames per header block (a flood of them is a session
 *   error) and the SETTINGS/PING acknowledgements queued for a peer that does not read;
 * - what Node has no counter for is counted per session in rate.ts: stream resets by the
 *   client (Rapid Reset) and SETTINGS/PING frames per second, and a response stalled on a shut
 *   flow-control window (--http2-send-timeout).
 */
import type { ServerSessionOptions } from 'node:http2';
import type { Settings } from '../settings/table.js';

export interface Http2Options {
  /** h2c with prior knowledge on plain listeners. */
  readonly cleartext: boolean;
  /** h2 on TLS listeners (offered by ALPN). */
  readonly tls: boolean;
  readonly maxConcurrentStreams: number;
  readonly maxHeaderListSize: number;
  readonly maxFrameSize: number;
  readonly initialWindowSize: number;
  /** Most header fields in a request (pseudo-headers aside), as --limit-request-fields. */
  readonly maxHeaderFields: number;
  /** Client stream resets per second on one session before GOAWAY ENHANCE_YOUR_CALM. */
  readonly maxResetsPerSecond: number;
  /** SETTINGS + PING frames per second from one client before GOAWAY ENHANCE_YOUR_CALM. */
  readonly maxControlFramesPerSecond: number;
  /** A response stream that cannot send for this long is reset; 0 = never. */
  readonly sendTimeoutMs: number;
}

export type Http2Settings = Pick<Settings, 'http2' | 'http2MaxConcurrentStreams' | 'http2MaxHeaderListSize' | 'http2MaxFrameSize' | 'http2InitialWindowSize' | 'http2MaxResetsPerSecond' | 'http2MaxControlFramesPerSecond' | 'http2SendTimeout' | 'limitRequestFields'>;

/** Null when --http2 off. */
export function http2OptionsFrom(settings: Readonly<Http2Settings>): Http2Options | null {
  if (settings.http2 === 'off') return null;
  return {
    cleartext: settings.http2 === 'on',
    tls: true,
    maxConcurrentStreams: settings.http2MaxConcurrentStreams,
    maxHeaderListSize: settings.http2MaxHeaderListSize,
    maxFrameSize: settings.http2MaxFrameSize,
    initialWindowSize: settings.http2InitialWindowSize,
    maxHeaderFields: settings.limitRequestFields,
    maxResetsPerSecond: settings.http2MaxResetsPerSecond,
    maxControlFramesPerSecond: settings.http2MaxControlFramesPerSecond,
    sendTimeoutMs: settings.http2SendTimeout * 1000,
  };
}

/** Invalid frames a session may receive before it is destroyed. */
const MAX_INVALID_FRAMES = 100;
/** Streams refused for exceeding the limit before the session is destroyed. */
const MAX_REJECTED_STREAMS = 100;
/** Entries in one SETTINGS frame, and this server's own PINGs left unanswered. */
const MAX_SETTINGS = 32;
const MAX_OUTSTANDING_PINGS = 10;
/** Megabytes nghttp2 may hold for one session (Node's default, stated). */
const MAX_SESSION_MEMORY_MB = 10;
const PSEUDO_HEADERS = 4;

export function sessionOptions(options: Http2Options): ServerSessionOptions {
  return {
    settings: {
      enablePush: false,
      enableConnectProtocol: false,
      maxConcurrentStreams: options.maxConcurrentStreams,
      maxHeaderListSize: options.maxHeaderListSize,
      maxFrameSize: options.maxFrameSize,
      initialWindowSize: options.initialWindowSize,
    },
    maxHeaderListPairs: options.maxHeaderFields + PSEUDO_HEADERS,
    maxSessionInvalidFrames: MAX_INVALID_FRAMES,
    maxSessionRejectedStreams: MAX_REJECTED_STREAMS,
    maxSettings: MAX_SETTINGS,
    maxOutstandingPings: MAX_OUTSTANDING_PINGS,
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
  };
}

/** RFC 9113 §3.4: the client connection preface starts with this line (then "\r\nSM\r\n\r\n"). */
const PREFACE_LINE = Buffer.from('PRI * HTTP/2.0\r\n', 'latin1');

/** Whether these first bytes of a connection begin with the HTTP/2 client preface's request line. */
export function opensWithPreface(input: Buffer): boolean {
  return input.length >= PREFACE_LINE.length && input.compare(PREFACE_LINE, 0, PREFACE_LINE.length, 0, PREFACE_LINE.length) === 0;
}
