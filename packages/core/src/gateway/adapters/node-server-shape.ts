/*
 * What an exported http.Server looks like, told apart without loading node:http (the app
 * loader asks for every app). http.Server and https.Server both carry node:http's options
 * (headersTimeout); net.Server, a Koa app and http2 servers do not.
 */
import type { EventEmitter } from 'node:events';

export interface NodeServer extends EventEmitter {
  listen(...args: unknown[]): unknown;
}

export function isNodeServer(value: unknown): value is NodeServer {
  if (value === null || typeof value !== 'object') return false;
  const server = value as Partial<NodeServer> & { headersTimeout?: unknown };
  return typeof server.listen === 'function' && typeof server.listeners === 'function' && typeof server.emit === 'function'
    && typeof server.headersTimeout === 'number';
}
