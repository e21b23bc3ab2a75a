/*
 * Requests built in memory, for testing what consumes a GatewayRequest (adapters, validators)
 * without a socket: gatewayRequest() makes one, manualSource() is a body the test feeds by hand.
 */
import { splitTarget, createRequest } from '../../src/gateway/request.js';
import { bufferedBodySource } from '../../src/gateway/body.js';
import type { BodySource } from '../../src/gateway/body-source.js';
import type { GatewayRequest, SocketAddress } from '../../src/gateway/types.js';

export interface TestRequestOptions {
  readonly method?: string;
  readonly target?: string;
  /** Default: one Host field, example.test. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: BodySource | string | null;
  readonly scheme?: 'http' | 'https';
  readonly httpVersion?: '1.0' | '1.1';
  readonly signal?: AbortSignal;
  /** Default: 203.0.113.7:50123. The server side is always 127.0.0.1:8080. */
  readonly remote?: SocketAddress;
}

export function gatewayRequest(options: TestRequestOptions = {}): GatewayRequest {
  const target = options.target ?? '/';
  const { path, query } = splitTarget(target);
  const raw: string[] = [];
  for (const [name, value] of options.headers ?? [['host', 'example.test']]) raw.push(name, value);
  const body = typeof options.body === 'string' ? bufferedBodySource(options.body) : options.body ?? null;
  return createRequest({
    method: options.method ?? 'GET', target, path, query, httpVersion: options.httpVersion ?? '1.1', rawHeaders: raw,
    scheme: options.scheme ?? 'http', remote: options.remote ?? { address: '203.0.113.7', port: 50123 }, server: { address: '127.0.0.1', port: 8080 },
    bodyLength: body === null ? 0 : body.length,
  }, body, options.signal ?? new AbortController().signal);
}

const encoder = new TextEncoder();

/** A body source the test feeds by hand, counting pulls (each pull is the consumer asking for more). */
export function manualSource(length: number | null = null) {
  const queue: Array<Uint8Array | null | Error> = [];
  let waiting: (() => void) | null = null;
  const log = { pulls: 0, cancelled: false };
  const source: BodySource = {
    length,
    pull() {
      log.pulls++;
      return new Promise<Uint8Array | null>((resolve, reject) => {
        const give = () => { const next = queue.shift()!; if (next instanceof Error) reject(next); else resolve(next); };
        if (queue.length > 0) give(); else waiting = give;
      });
    },
    cancel() { log.cancelled = true; },
  };
  const offer = (item: Uint8Array | null | Error) => {
    queue.push(item);
    const w = waiting; waiting = null; w?.();
  };
  return { source, log, push: (data: string | Uint8Array) => offer(typeof data === 'string' ? encoder.encode(data) : data), end: () => offer(null), fail: (e: Error) => offer(e) };
}
