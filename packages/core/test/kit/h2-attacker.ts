/*
 * A raw HTTP/2 client that misbehaves on purpose (the attacker in the HTTP/2 hardening
 * tests): Node's http2 client refuses to send most of these frame sequences, so frames are
 * written by hand over a net socket (RFC 9113 §4.1: 9-byte header, then the payload) and
 * header blocks are encoded by hand (RFC 7541: literals and indexed fields only, no Huffman).
 * What the server sends back is parsed just enough to see GOAWAY, RST_STREAM, SETTINGS and
 * the socket closing. The server side under test stays Node's http2.
 */
import net from 'node:net';

export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const ERROR_CODE = { NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, CANCEL: 0x8, COMPRESSION_ERROR: 0x9, ENHANCE_YOUR_CALM: 0xb } as const;
/** RFC 9113 §6.5.2 */
export const SETTING = { HEADER_TABLE_SIZE: 0x1, INITIAL_WINDOW_SIZE: 0x4 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** RFC 7541 §5.1: an integer with an N-bit prefix; `high` holds the bits above the prefix. */
export function hpackInteger(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  value -= max;
  while (value >= 128) { bytes.push((value % 128) + 128); value = Math.floor(value / 128); }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** §5.2: a string literal, not Huffman-coded. */
function hpackString(text: string | Buffer): Buffer {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

export const hpack = {
  /** §6.2.2: a literal field, name and value new, not indexed. */
  literal: (name: string, value: string | Buffer): Buffer => Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]),
  /** §6.2.1: a literal field with incremental indexing (it enters the dynamic table at index 62). */
  indexedLiteral: (name: string, value: string | Buffer): Buffer => Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]),
  /** §6.1: a field from the tables by index (static 1-61, dynamic from 62). */
  indexed: (index: number): Buffer => hpackInteger(index, 7, 0x80),
  /** GET {path} over http, :authority localhost: static-table fields 2 and 6, literal :path and :authority with indexed names. */
  get: (path: string): Buffer => Buffer.concat([Buffer.from([0x82, 0x86]), hpackInteger(4, 4), hpackString(path), hpackInteger(1, 4), hpackString('localhost')]),
};

export interface Goaway { readonly code: number; readonly lastStreamId: number }

export class H2Attacker {
  readonly socket: net.Socket;
  /** The server's first GOAWAY (its reason), once it came. */
  goaway: Goaway | null = null;
  /** RST_STREAM codes by stream id. */
  readonly resets = new Map<number, number>();
  /** Stream ids the server sent a HEADERS frame on. */
  readonly responses = new Set<number>();
  dataBytes = 0;
  closed = false;
  /** The connection ended with a TCP reset (ECONNRESET, or EPIPE writing after it), not a FIN. */
  reset = false;
  readonly #closedAt: Promise<void>;
  #input: Buffer = Buffer.alloc(0);

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#closedAt = new Promise((resolve) => socket.once('close', () => { this.closed = true; resolve(); }));
    socket.on('error', (error: NodeJS.ErrnoException) => { if (error.code === 'ECONNRESET' || error.code === 'EPIPE') this.reset = true; });
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
  }

  /** Connects and sends the preface and a SETTINGS frame with `settings` ([id, value] pairs). */
  static async connect(port: number, settings: ReadonlyArray<readonly [number, number]> = []): Promise<H2Attacker> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const attacker = new H2Attacker(socket);
    const payload = Buffer.alloc(6 * settings.length);
    settings.forEach(([id, value], i) => { payload.writeUInt16BE(id, i * 6); payload.writeUInt32BE(value, i * 6 + 2); });
    attacker.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0, payload)]));
    return attacker;
  }

  /** Writes unless the socket is gone; resolves once the bytes are taken (false: closed). */
  write(bytes: Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      if (this.socket.write(bytes)) resolve(true);
      else {
        const done = () => { this.socket.off('drain', done); this.socket.off('close', done); resolve(!this.closed); };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      }
    });
  }

  /** Resolves when the server closed the connection, or rejects after `timeoutMs`. */
  closedWithin(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.#closedAt,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`the server kept the attacking connection open for ${timeoutMs} ms (GOAWAY: ${JSON.stringify(this.goaway)})`)), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
  }

  destroy(): void { this.socket.destroy(); }

  #read(chunk: Buffer): void {
    this.#input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
    while (this.#input.length >= 9) {
      const length = this.#input.readUIntBE(0, 3);
      if (this.#input.length < 9 + length) return;
      const type = this.#input[3]!;
      const flags = this.#input[4]!;
      const streamId = this.#input.readUInt32BE(5) & 0x7fffffff;
      const payload = this.#input.subarray(9, 9 + length);
      this.#input = this.#input.subarray(9 + length);
      if (type === FRAME.GOAWAY) this.goaway ??= { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
      else if (type === FRAME.RST_STREAM) this.resets.set(streamId, payload.readUInt32BE(0));
      else if (type === FRAME.HEADERS) this.responses.add(streamId);
      else if (type === FRAME.DATA) this.dataBytes += length;
      else if (type === FRAME.SETTINGS && (flags & FLAG.ACK) === 0) this.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
  }
}
