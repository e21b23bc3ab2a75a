/*
 * A raw-socket HTTP/1.1 client for protocol tests: write exactly the bytes you choose, in
 * the pieces you choose, and read back what the server really put on the wire. Responses are
 * parsed minimally (status line, fields, body framed by Content-Length, chunked or close),
 * strictly enough that a test notices a malformed response, and nothing is normalised away:
 * `raw` keeps each response's exact bytes.
 *
 *   const client = await RawClient.connect(port);
 *   await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
 *   const [response] = await client.readResponses(1);
 *   assert.equal(response.status, 200);
 *
 * Interim (1xx) responses are returned like any other, with `interim: true`; readResponses(n)
 * counts final responses only. HEAD responses have no body: pass the request methods in order
 * (`methods`) so the parser knows which responses answer a HEAD.
 */
import net from 'node:net';

export interface RawResponse {
  readonly httpVersion: string;
  readonly status: number;
  readonly reason: string;
  /** Field lines as sent, names lower-cased, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** How the body was framed. */
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
  /** 1xx. */
  readonly interim: boolean;
  /** Trailer fields after the last chunk, names lower-cased, in order (empty when none or not chunked). */
  readonly trailers: ReadonlyArray<readonly [string, string]>;
  /** The exact bytes of this response. */
  readonly raw: Buffer;
  /** First value of a field (case-insensitive), or null. */
  header(name: string): string | null;
  /** Every value of a field. */
  headerAll(name: string): string[];
  text(): string;
}

export interface ParseOptions {
  /** Methods of the requests, in order: answers to HEAD carry no body. */
  readonly methods?: readonly string[];
  /** The connection has closed: a response without length is complete at the end of the data. */
  readonly atEof?: boolean;
}

export interface ParseResult {
  readonly responses: RawResponse[];
  /** Bytes after the last complete response. */
  readonly rest: Buffer;
}

/** Parses every complete response in `data`. Throws on bytes that are not an HTTP/1.1 response. */
export function parseResponses(data: Buffer, options: ParseOptions = {}): ParseResult {
  const responses: RawResponse[] = [];
  let offset = 0;
  let finalIndex = 0;
  for (;;) {
    if (offset >= data.length) break;
    const headEnd = data.indexOf('\r\n\r\n', offset, 'latin1');
    if (headEnd === -1) break;
    const headText = data.toString('latin1', offset, headEnd);
    const lines = headText.split('\r\n');
    const statusLine = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]!);
    if (!statusLine) throw new Error(`not a status line: ${JSON.stringify(lines[0])} at byte ${offset}`);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) throw new Error(`malformed field line: ${JSON.stringify(line)}`);
      headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const status = Number(statusLine[2]);
    const interim = status >= 100 && status < 200;
    const method = interim ? undefined : options.methods?.[finalIndex];
    const get = (name: string) => headers.find(([n]) => n === name)?.[1] ?? null;
    const bodyStart = headEnd + 4;
    let body: Buffer;
    const trailers: Array<[string, string]> = [];
    let framing: RawResponse['framing'];
    let end: number;
    if (interim || status === 204 || status === 304 || method === 'HEAD') {
      framing = 'none';
      body = Buffer.alloc(0);
      end = bodyStart;
    } else if (get('transfer-encoding') !== null) {
      if (!/(^|,)\s*chunked\s*$/i.test(get('transfer-encoding')!)) throw new Error(`unexpected transfer-encoding ${get('transfer-encoding')}`);
      framing = 'chunked';
      const chunks: Buffer[] = [];
      let position = bodyStart;
      let complete = false;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', position, 'latin1');
        if (lineEnd === -1) break;
        const sizeText = data.toString('latin1', position, lineEnd);
        if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size line ${JSON.stringify(sizeText)}`);
        const size = parseInt(sizeText, 16);
        if (size === 0) {
          // last-chunk trailer-section CRLF (RFC 9112 §7.1): field lines up to an empty line.
          let at = lineEnd + 2;
          for (;;) {
            const fieldEnd = data.indexOf('\r\n', at, 'latin1');
            if (fieldEnd === -1) break;
            if (fieldEnd === at) { position = at + 2; complete = true; break; }
            const line = data.toString('latin1', at, fieldEnd);
            const colon = line.indexOf(':');
            if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) throw new Error(`malformed trailer line: ${JSON.stringify(line)}`);
            trailers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
            at = fieldEnd + 2;
          }
          if (!complete) trailers.length = 0;
          break;
        }
        if (data.length < lineEnd + 2 + size + 2) break;
        chunks.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        if (data.toString('latin1', lineEnd + 2 + size, lineEnd + 4 + size) !== '\r\n') throw new Error('chunk data not followed by CRLF');
        position = lineEnd + 4 + size;
      }
      if (!complete) break;
      body = Buffer.concat(chunks);
      end = position;
    } else if (get('content-length') !== null) {
      framing = 'length';
      const length = Number(get('content-length'));
      if (data.length < bodyStart + length) break;
      body = data.subarray(bodyStart, bodyStart + length);
      end = bodyStart + length;
    } else {
      framing = 'close';
      if (!options.atEof) break;
      body = data.subarray(bodyStart);
      end = data.length;
    }
    const raw = data.subarray(offset, end);
    responses.push({
      httpVersion: statusLine[1]!, status, reason: statusLine[3]!, headers, body, framing, interim, raw, trailers,
      header: get,
      headerAll: (name) => headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v),
      text: () => body.toString('utf8'),
    });
    if (!interim) finalIndex++;
    offset = end;
  }
  return { responses, rest: data.subarray(offset) };
}

export interface ReadOptions {
  /** Give up after this long (the error says what had arrived). Default 5000. */
  readonly timeoutMs?: number;
  readonly methods?: readonly string[];
}

export class RawClient {
  readonly socket: net.Socket;
  #received: Buffer[] = [];
  #receivedLength = 0;
  #closed = false;
  #ended = false;
  #error: Error | null = null;
  #waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => { this.#received.push(chunk); this.#receivedLength += chunk.length; this.#wake(); });
    socket.on('end', () => { this.#ended = true; this.#wake(); });
    socket.on('error', (error) => { this.#error = error; this.#wake(); });
    socket.on('close', () => { this.#closed = true; this.#wake(); });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => { socket.off('error', reject); resolve(new RawClient(socket)); });
    });
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.#received.length > 1) this.#received = [Buffer.concat(this.#received)];
    return this.#received[0] ?? Buffer.alloc(0);
  }
  get receivedText(): string { return this.received.toString('latin1'); }
  /** The server closed its side (FIN) or the socket is gone. */
  get ended(): boolean { return this.#ended || this.#closed; }
  get closed(): boolean { return this.#closed; }
  /** A reset or other socket error, if one happened. */
  get error(): Error | null { return this.#error; }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (error) => error ? reject(error) : resolve());
    });
  }

  /**
   * Writes `data` in pieces: `pieces` is a piece size (1 = byte by byte) or the list of
   * offsets to split at; `delayMs` waits between pieces (so each is its own TCP segment).
   */
  async writeInPieces(data: string | Uint8Array, pieces: number | readonly number[], delayMs = 0): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    const cuts = typeof pieces === 'number'
      ? Array.from({ length: Math.ceil(bytes.length / pieces) - 1 }, (_, i) => (i + 1) * pieces)
      : [...pieces];
    let start = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut <= start) continue;
      if (this.ended) return;
      await this.write(bytes.subarray(start, cut));
      start = cut;
      if (delayMs > 0 && start < bytes.length) await new Promise((r) => setTimeout(r, delayMs));
    }
  }

  /** Sends FIN (no more requests). */
  end(): void { this.socket.end(); }
  destroy(): void { this.socket.destroy(); }

  /** Parses what has arrived so far. */
  responses(options: ParseOptions = {}): RawResponse[] {
    return parseResponses(this.received, { ...options, atEof: options.atEof ?? this.ended }).responses;
  }

  /** Waits for `count` final responses; rejects on timeout or when the connection ends first. */
  async readResponses(count: number, options: ReadOptions = {}): Promise<RawResponse[]> {
    const finals = () => this.responses({ methods: options.methods }).filter((r) => !r.interim).length;
    await this.#until(() => finals() >= count || this.ended, options.timeoutMs ?? 5000, `${count} response(s)`);
    const responses = this.responses({ methods: options.methods });
    if (responses.filter((r) => !r.interim).length < count) {
      throw new Error(`connection ended after ${responses.length} response(s), expected ${count}; received: ${JSON.stringify(this.receivedText)}`);
    }
    return responses;
  }

  /** Waits until the server ends the connection; resolves with every response it sent. */
  async readUntilClose(options: ReadOptions = {}): Promise<RawResponse[]> {
    await this.#until(() => this.ended, options.timeoutMs ?? 5000, 'the server to close the connection');
    return this.responses({ methods: options.methods, atEof: true });
  }

  /** Waits until the server ends the connection (FIN or reset). */
  async waitForClose(timeoutMs = 5000): Promise<void> {
    await this.#until(() => this.ended, timeoutMs, 'the server to close the connection');
  }

  /** Waits until at least `bytes` bytes have arrived. */
  async waitForBytes(bytes: number, timeoutMs = 5000): Promise<void> {
    await this.#until(() => this.#receivedLength >= bytes || this.ended, timeoutMs, `${bytes} bytes`);
  }

  #until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.receivedText.slice(0, 2000))}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/**
 * One-shot: connect, write `data`, read until `count` final responses arrived (when given) or
 * until the server closes, then destroy the socket. `client` is returned for inspection.
 */
export async function exchange(port: number, data: string | Uint8Array, options: ReadOptions & { readonly count?: number } = {}): Promise<{ responses: RawResponse[]; client: RawClient }> {
  const client = await RawClient.connect(port);
  try {
    await client.write(data);
    const responses = options.count !== undefined ? await client.readResponses(options.count, options) : await client.readUntilClose(options);
    return { responses, client };
  } finally {
    client.destroy();
  }
}
