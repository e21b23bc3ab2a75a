/*
 * While an app loads, a server given an 'upgrade' or 'connect' listener (ws's
 * `new WebSocketServer({ server })`, socket.io's `new Server(server)`, @hono/node-ws's
 * injectWebSocket) is recorded, so an app that exports its request listener instead of that
 * server can be told so at its first upgrade request (gateway/adapters/upgrade-servers.ts).
 * net.Server.prototype gets its own `on`/`addListener` for the load only (http, https and tls
 * servers inherit from it), as listen-guard.ts does with listen(): outside a load, servers use
 * EventEmitter's own methods untouched.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { recordUpgradeServer } from '../gateway/adapters/upgrade-servers.js';

type On = (this: net.Server, event: string | symbol, listener: (...args: unknown[]) => void) => net.Server;

let loadsInFlight = 0;
let watching: On | null = null;

/** Runs `load` with the watch on. */
export async function watchingUpgradeListeners<T>(load: () => Promise<T>): Promise<T> {
  install();
  try {
    return await load();
  } finally {
    uninstall();
  }
}

function install(): void {
  if (loadsInFlight++ > 0) return;
  const on = EventEmitter.prototype.on as unknown as On;
  watching = function watchUpgrade(this: net.Server, event, listener) {
    if (event === 'upgrade' || event === 'connect') recordUpgradeServer(this);
    return on.call(this, event, listener);
  };
  const proto = net.Server.prototype as unknown as Record<string, unknown>;
  proto.on = watching;
  proto.addListener = watching;
}

function uninstall(): void {
  if (--loadsInFlight > 0) return;
  const proto = net.Server.prototype as unknown as Record<string, unknown>;
  // Only ours is removed: what remains is EventEmitter's, inherited.
  if (Object.hasOwn(proto, 'on') && proto.on === watching) delete proto.on;
  if (Object.hasOwn(proto, 'addListener') && proto.addListener === watching) delete proto.addListener;
  watching = null;
}
