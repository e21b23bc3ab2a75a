/*
 * --limit-concurrency: a connection past the limit is answered, not ignored and not served.
 * It waits for the client's first bytes (a response before any request confuses clients),
 * then writes a minimal `503 Service Unavailable` with `Connection: close` and `Retry-After`,
 * ends its side, and reads and drops what the client still sends until it closes (so unread
 * bytes do not turn the close into an RST that could eat the 503). Each step is bounded: the
 * wait for the first bytes by the headers timeout, the whole by that plus LINGER_MS. It holds
 * no parser and never reaches the app, so an overloaded server spends almost nothing on it.
 */
import type { Socket } from 'node:net';
import { channels } from '../diagnostics.js';
import { GatehouseError } from '../errors/index.js';
import { LINGER_MS } from './connection.js';
import { newFraming, type ResponseSerializer } from './serializer.js';

/** Wait for the first bytes when no headers timeout is set. */
const DEFAULT_WAIT_MS = 10_000;

export function rejectOverLimit(socket: Socket, serializer: ResponseSerializer, headersTimeoutMs: number, limit: number): void {
  const error = new GatehouseError('ERR_HTTP_SERVICE_UNAVAILABLE', `more than --limit-concurrency ${limit} open connections`);
  if (channels.protocolError.hasSubscribers) {
    channels.protocolError.publish({ code: error.code, status: error.status, remote: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`, detail: error.detail });
  }
  const timer = setTimeout(() => socket.destroy(), (headersTimeoutMs > 0 ? headersTimeoutMs : DEFAULT_WAIT_MS) + LINGER_MS);
  let answered = false;
  socket.on('data', () => {
    if (answered) return; // lingering: drop
    answered = true;
    const response = serializer.simpleResponse(503, `${new GatehouseError(error.code).message}\n`, true, false, false, newFraming());
    socket.end(response.replace('\r\n\r\n', '\r\nRetry-After: 1\r\n\r\n'), 'latin1');
  });
  socket.on('end', () => socket.destroySoon());
  socket.on('error', () => {}); // 'close' follows
  socket.on('close', () => clearTimeout(timer));
  socket.resume();
}
