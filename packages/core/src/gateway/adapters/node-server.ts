/*
 * An exported http.Server (or https.Server), served as it stands and never listening: its
 * 'request' listeners answer ordinary requests, its 'upgrade' and 'connect' listeners take
 * upgrade and CONNECT requests (node-upgrade.ts). Every event is emitted through the server
 * object itself, at the moment of the request, so libraries that add, wrap or replace the
 * server's listeners after it was built (socket.io replaces the request listeners with its own
 * dispatcher; ws and @hono/node-ws add an upgrade listener) behave as under node:http.
 *
 * As in node:http, an upgrade request the server has no 'upgrade' listener for is an ordinary
 * request. A CONNECT with no 'connect' listener is one too (node:http would destroy the
 * socket; an answer, usually a 404, says more), and its connection closes after the response.
 */
import { requestedUpgrade } from '../takeover.js';
import type { Application, GatewayRequest, GatewayResponse } from '../types.js';
import { serveExchange } from './node.js';
import type { NodeServer } from './node-server-shape.js';
import { upgradeEvent, upgradeResponse } from './node-upgrade.js';
import { markServed } from './upgrade-servers.js';

export function adaptNodeServer(server: NodeServer): Application {
  markServed(server);
  const emitRequest = (req: unknown, res: unknown): void => { server.emit('request', req, res); };
  return function nodeServerApp(request: GatewayRequest): GatewayResponse | Promise<GatewayResponse> {
    const event = upgradeEvent(request, requestedUpgrade(request));
    if (event !== null && server.listenerCount(event) > 0) {
      return upgradeResponse(request, event, (req, socket, head) => { server.emit(event, req, socket, head); });
    }
    return serveExchange(request, emitRequest);
  };
}
