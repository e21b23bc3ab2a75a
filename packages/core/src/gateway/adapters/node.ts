/*
 * The node:http listener adapter: runs `(req, res) => void` (Express, Koa's app.callback(),
 * connect, a bare http.createServer handler) as a Gateway Application, unchanged.
 *
 * Each request is one exchange: a socket stand-in, a request and a response built by node's
 * own http classes (see node-request.ts, node-response.ts for what is replaced and why), and
 * the bookkeeping node's http.Server would do around them: 'close' on the response after
 * 'finish', dumping an unread request body, 'aborted'/'close' when the client goes away
 * (request.signal), and what happens when the app throws or destroys its socket.
 *
 * Everything here runs on the event loop that runs the app (the server's in prefork and
 * single, an app thread's in threaded): nothing in it may cross a thread.
 */
import { channels } from '../../diagnostics.js';
import { GatehouseError } from '../../errors/index.js';
import { requestedUpgrade } from '../takeover.js';
import type { Application, GatewayRequest, GatewayResponse, ResponseHeaders } from '../types.js';
import { hasStrandedUpgradeListeners } from './upgrade-servers.js';
import { GatewaySocket, type SocketOwner } from './node-socket.js';
import { GatewayIncomingMessage, abortedError } from './node-request.js';
import { GatewayServerResponse, type ResponseOwner } from './node-response.js';

// `any` on purpose: listeners are typed against node's classes, Express's, Koa's...
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NodeListener = (req: any, res: any, next?: any) => unknown;

export { GatewayIncomingMessage, GatewayServerResponse, GatewaySocket };

export function adaptNodeListener(listener: NodeListener): Application {
  if (typeof listener !== 'function') {
    throw new GatehouseError('ERR_APP_NOT_AN_APP', `adaptNodeListener needs a function (req, res), got ${listener === null ? 'null' : typeof listener}`);
  }
  return function nodeListenerApp(request: GatewayRequest): Promise<GatewayResponse> {
    // A listener has no upgrade path: an upgrade request is an ordinary request here, as in
    // node:http with no 'upgrade' listener. Worth one warning when a server the app built
    // holds upgrade listeners that this leaves unreached.
    if (!strandedWarned && requestedUpgrade(request) !== null) warnIfStranded(request);
    return serveExchange(request, listener);
  };
}

/** One request through a node:http listener: the exchange node's http.Server would run. */
export function serveExchange(request: GatewayRequest, listener: NodeListener): Promise<GatewayResponse> {
  return new Promise<GatewayResponse>((resolve, reject) => {
    new NodeExchange(request, resolve, reject).run(listener);
  });
}

let strandedWarned = false;

function warnIfStranded(request: GatewayRequest): void {
  if (!hasStrandedUpgradeListeners()) return;
  strandedWarned = true;
  if (!channels.appWarning.hasSubscribers) return;
  const error = new GatehouseError('ERR_APP_UPGRADE_UNREACHABLE',
    `${request.method} ${request.target} asks to upgrade, but the app is a request listener and the upgrade listeners (ws, socket.io) are on an http.Server that is not served; `
    + 'export the server you attached them to (export default server), not the app it wraps');
  channels.appWarning.publish({ error });
}

class NodeExchange implements SocketOwner, ResponseOwner {
  readonly #request: GatewayRequest;
  readonly #socket: GatewaySocket;
  readonly #req: GatewayIncomingMessage;
  readonly #res: GatewayServerResponse;
  readonly #resolve: (response: GatewayResponse) => void;
  readonly #reject: (error: unknown) => void;
  #settled = false;
  #finished = false;
  /** The exchange is over (finished, client gone, app failed): later events are ignored. */
  #over = false;
  #listening = false;

  constructor(request: GatewayRequest, resolve: (response: GatewayResponse) => void, reject: (error: unknown) => void) {
    this.#request = request;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#socket = new GatewaySocket(request);
    this.#req = new GatewayIncomingMessage(this.#socket, request);
    this.#res = new GatewayServerResponse(this.#req, this.#socket, this);
    this.#socket.attach(this);
  }

  run(listener: NodeListener): void {
    const signal = this.#request.signal;
    if (signal.aborted) {
      this.#reject(signal.reason);
      return;
    }
    try {
      const result = listener(this.#req, this.#res) as { then?: unknown } | undefined;
      // node:http ignores a listener's return value; a rejected promise there would be an
      // unhandled rejection. Here it counts as the app failing.
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) => this.#appFailed(error));
      }
    } catch (error) {
      this.#appFailed(error);
    }
    // Watching the signal costs more than the rest of the exchange (EventTarget listeners on
    // an AbortSignal are slow in Node 20), and an app that ended its response synchronously
    // (res.send, res.json, res.end) has nothing left to be told: its body is already whole.
    // Everyone else (async handlers, streams, long polls) hears about the client leaving.
    if (!this.#over && !this.#res.writableEnded) {
      if (signal.aborted) {
        this.handleEvent();
      } else {
        // `this` is the listener object (handleEvent): no closure per request.
        signal.addEventListener('abort', this);
        this.#listening = true;
      }
    }
  }

  // ---- ResponseOwner ----

  respond(response: GatewayResponse): void {
    if (this.#over) return;
    this.#settled = true;
    this.#resolve(response);
  }

  finished(): void {
    if (this.#over) return;
    this.#over = true;
    this.#finished = true;
    this.#release();
    process.nextTick(() => {
      closeResponse(this.#res);
      const req = this.#req as GatewayIncomingMessage & { _consuming: boolean; _dump(): void };
      // As node:http does once a response is finished: an unread body is dumped, which ends
      // the request stream ('end', 'close'); the protocol layer discards the bytes. Skipped
      // when nobody listens for those events, which is most requests (the stream work is a
      // measurable part of the exchange).
      if (!req._consuming && !req.readableFlowing && !req.destroyed && (req.listenerCount('end') > 0 || req.listenerCount('close') > 0)) req._dump();
    });
  }

  abandoned(): void {
    this.#clientGone(abortedError());
  }

  interim(status: number, headers: ResponseHeaders): void {
    if (!this.#over) this.#request.sendInterim?.(status, headers);
  }

  // ---- the client went away: request.signal ----

  handleEvent(): void {
    this.#clientGone(this.#request.signal.reason);
  }

  #clientGone(reason: unknown): void {
    if (this.#over) return;
    this.#over = true;
    this.#release();
    this.#socket.gone();
    const error = abortedError();
    if (!this.#req.destroyed && !this.#req.readableEnded) this.#req.destroy(error);
    GatewayServerResponse.abort(this.#res, error);
    closeResponse(this.#res);
    if (!this.#settled) this.#reject(reason ?? error);
  }

  // ---- SocketOwner: the app destroyed the connection, or a socket timeout fired ----

  onSocketDestroyed(error: Error | undefined): void {
    if (this.#over) return;
    this.#over = true;
    this.#release();
    const reason = error ?? Object.assign(new Error('the app destroyed the connection before the response was complete'), { code: 'ECONNRESET' });
    if (!this.#req.destroyed && !this.#req.complete) this.#req.destroy(abortedError());
    GatewayServerResponse.abort(this.#res, reason);
    process.nextTick(closeResponse, this.#res);
    if (!this.#settled) this.#reject(reason);
  }

  onSocketTimeout(): boolean {
    const requestListened = !this.#req.complete && this.#req.emit('timeout', this.#socket);
    const responseListened = this.#res.emit('timeout', this.#socket);
    return requestListened || responseListened;
  }

  // ---- the app threw or its promise rejected ----

  #appFailed(error: unknown): void {
    if (this.#finished) {
      // The response is complete: nobody is left to tell but the log.
      if (channels.requestError.hasSubscribers) channels.requestError.publish({ request: this.#request, error, phase: 'app' });
      return;
    }
    if (this.#over) return;
    this.#over = true;
    this.#release();
    const failure = error instanceof Error ? error : new GatehouseError('ERR_APP_THREW', String(error));
    GatewayServerResponse.abort(this.#res, failure);
    process.nextTick(closeResponse, this.#res);
    if (!this.#settled) this.#reject(error);
  }

  #release(): void {
    if (this.#listening) {
      this.#listening = false;
      this.#request.signal.removeEventListener('abort', this);
    }
    this.#socket.release();
  }
}

/** node's emitCloseNT: the response is over, 'close' once. */
function closeResponse(res: GatewayServerResponse): void {
  const state = res as unknown as { _closed: boolean; destroyed: boolean };
  if (state._closed) return;
  state.destroyed = true;
  state._closed = true;
  res.emit('close');
}
