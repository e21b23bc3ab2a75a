/*
 * What the request parser reports. The parser is a push parser with no I/O (Waitress's
 * `received(bytes)`): the connection feeds it bytes, it calls these handlers synchronously
 * and returns how many bytes it consumed. It never touches a socket, a timer or a thread.
 */

export type BodyFraming =
  | { readonly kind: 'none' }                         // no body (no Content-Length, no Transfer-Encoding)
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

export interface ParsedHead {
  readonly method: string;
  /** The request-target exactly as received. */
  readonly target: string;
  readonly httpVersion: '1.0' | '1.1';
  /**
   * Flat [name, value, ...]: names lower-cased, values with surrounding OWS removed, arrival
   * order. One exception: when the target carries an authority (absolute- or authority-form),
   * the Host value is that authority, whatever was sent (appended when no Host was sent).
   */
  readonly rawHeaders: string[];
  readonly framing: BodyFraming;
  /** Connection semantics after this request: 1.1 unless `close`, 1.0 only with `keep-alive`. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` was sent (1.1 only). */
  readonly expectContinue: boolean;
  /** An `Upgrade` header together with `Connection: upgrade` (not served; reported so the connection can refuse it). */
  readonly upgrade: boolean;
}

export interface ParserHandlers {
  onHead(head: ParsedHead): void;
  /** A view of body bytes (dechunked). It may share memory with the input buffer: copy to keep past the next execute(). */
  onBody(chunk: Uint8Array): void;
  /** Trailer fields of a chunked body (flat, lower-cased names), when any were sent. */
  onTrailers?(rawTrailers: string[]): void;
  onMessageComplete(): void;
}
