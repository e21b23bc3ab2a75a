/*
 * Servers that were given 'upgrade' or 'connect' listeners while the app loaded (app/upgrade-
 * watch.ts records them), so the node:http adapter can tell a user who exported the Express
 * app instead of the server their `ws` or socket.io is attached to: the WebSocket requests
 * reach the request listener, which answers them as ordinary requests (usually a 404), and the
 * upgrade listeners are never called. A recorded server that never listened and is not the
 * one being served is the sign. Kept weakly: a server the app dropped is not held here.
 *
 * No node:http import here: the app loader records into this module for every app.
 */
import type { EventEmitter } from 'node:events';

interface ServerLike extends EventEmitter { readonly listening?: boolean }

const recorded: Array<WeakRef<ServerLike>> = [];
const served = new WeakSet<object>();

export function recordUpgradeServer(server: ServerLike): void {
  if (recorded.some((ref) => ref.deref() === server)) return;
  recorded.push(new WeakRef(server));
}

/** The server is the app: its upgrade listeners are reached. */
export function markServed(server: object): void {
  served.add(server);
}

/** True when some server holds upgrade listeners that no request can reach. */
export function hasStrandedUpgradeListeners(): boolean {
  return recorded.some((ref) => {
    const server = ref.deref();
    return server !== undefined && !served.has(server) && server.listening !== true
      && server.listenerCount('upgrade') + server.listenerCount('connect') > 0;
  });
}
