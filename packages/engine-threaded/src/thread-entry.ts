/*
 * APP THREAD entry point. Each app thread is its own small server without sockets: it runs
 * the setup modules (the CLI's logging), loads the app module itself (closures cannot cross
 * threads), runs startup(), then serves REQUEST messages from the main thread until told to
 * shut down. Several requests may be in flight at once (the main thread bounds how many).
 * It imports core's lean `app-runtime` entry, not the whole public surface (the engine
 * container and its DI library would cost every thread's isolate memory and start-up time).
 * An app that answers synchronously is answered within the same message handler, so the
 * replies to a whole batch of requests leave in one postMessage.
 *
 * A response that takes its connection (TAKEOVER) crosses as TAKE; once the main thread
 * opens the tunnel the app's takeover runs here with a bridge socket (bridge-socket.ts) whose
 * bytes cross this port, so the app's protocol work (`ws` framing) runs on this thread. The
 * bridge sockets open here are counted in each heartbeat.
 *
 * A heartbeat timer posts `beat` every heartbeatMs, with the heap used and the share of the
 * interval this thread's event loop was busy (its utilization gauge): if this thread's event loop is stuck,
 * the beats stop and the main thread terminates and replaces it. An uncaught exception here
 * ends this thread (Node's default for workers): the main thread answers its in-flight
 * requests 500 and starts a replacement. Nothing here tries to survive that.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import {
  HeaderList, acceptsTrailers, channels, importableSpecifier, loadApp, memoryRecycleMark, takeoverOf, trailerFields, upgradeOptionsFrom, GatehouseError,
  type GatewayResponse, type LoadedApp, type Takeover, type TakenConnection,
} from '@gatehouse/core/app-runtime';
import {
  ABORT, ACK, BEAT, BODY, BODY_CANCEL, BODY_END, BODY_ERROR, BOOT_FAILED, CHUNK, DONE, END, ERROR, INTERIM, PULL, READY, REOPEN_LOGS,
  REQUEST, RESPONSE, RESPONSE_STREAM, SHUTDOWN, STOPPED, BODY_WINDOW, SMALL_BYTES, smallBytesToWire, wireBytes,
  TAKE, OPEN_TUNNEL, TUNNEL_IN, TUNNEL_IN_END, TUNNEL_ACK, TUNNEL_CLOSED, GOING_AWAY,
  TAG, ID, RequestField, BYTES_FIELD, CHUNK_FIELD, ERROR_FIELD,
  type FromThread, type RequestMessage, type ThreadData, type ToThread,
} from './messages.js';
import { PortBodySource } from './port-body-source.js';
import { InlineBody, ThreadRequest, type InterimSink } from './thread-request.js';
import { Outbox, unbatch } from './outbox.js';
import { BridgeSocket, type BridgeHost } from './bridge-socket.js';
import { deserializeError, serializeError } from './wire-errors.js';

const data = workerData as ThreadData;
const port = parentPort!;

const outbox = new Outbox<FromThread>(port);
const post = (message: FromThread): void => outbox.send(message);

// The heap figure from V8 directly: process.memoryUsage() also reads RSS from /proc, which
// throws EMFILE when the process has no descriptor left, and a heartbeat must never throw.
let loopAt = performance.eventLoopUtilization();
const heartbeat = setInterval(() => {
  const now = performance.eventLoopUtilization();
  post([BEAT, getHeapStatistics().used_heap_size, performance.eventLoopUtilization(now, loopAt).utilization, bridges.size]);
  loopAt = now;
}, data.heartbeatMs);

/** One request as this thread tracks it. */
interface ThreadExchange {
  readonly id: number;
  readonly request: ThreadRequest;
  readonly body: PortBodySource | null;
  /** Final message sent (or the request aborted): post nothing more for it. */
  closed: boolean;
  /** Response-body bytes posted and not yet taken by the protocol layer. */
  unacked: number;
  wake: (() => void) | null;
}

const exchanges = new Map<number, ThreadExchange>();
let loaded: LoadedApp | null = null;

/** Takeovers answered with TAKE, waiting for the main thread to open their tunnel. */
const takes = new Map<number, { readonly take: Takeover; readonly request: ThreadRequest }>();
/** Upgraded connections open on this thread: the bridge socket and what its takeover returned. */
const bridges = new Map<number, { readonly socket: BridgeSocket; taken: TakenConnection | null }>();
const bridgeHost: BridgeHost = { post, closed: (id) => { bridges.delete(id); } };

/**
 * With --max-thread-memory, the heap is also looked at after every request: a leaking app can
 * fill the gap between the recycle mark and the hard limit faster than one heartbeat, and a
 * beat past the mark lets the pool stop routing here before the limit kills the thread.
 */
const recycleHeapAt = memoryRecycleMark(data.settings.maxThreadMemory);
const upgradeOptions = upgradeOptionsFrom(data.settings);

function finish(exchange: ThreadExchange, message: FromThread): void {
  if (exchange.closed) return;
  exchange.closed = true;
  exchanges.delete(exchange.id);
  post(message);
  if (recycleHeapAt !== Infinity) {
    const heapUsed = getHeapStatistics().used_heap_size;
    if (heapUsed > recycleHeapAt) post([BEAT, heapUsed]);
  }
}

/** Interim responses of requests still in progress here cross to the socket's side. */
const interims: InterimSink = {
  interim(id, status, fields) {
    const exchange = exchanges.get(id);
    if (exchange !== undefined && !exchange.closed) post([INTERIM, id, status, fields]);
  },
};

function serve(message: RequestMessage): void {
  const id = message[ID];
  const bodyLength = message[RequestField.bodyLength];
  const inline = message[RequestField.inline];
  let body: PortBodySource | null = null;
  if (inline === null && bodyLength !== 0) {
    body = new PortBodySource(bodyLength, {
      grant: (bytes) => { if (!exchange.closed) post([PULL, id, bytes]); },
      cancel: () => { if (!exchange.closed) post([BODY_CANCEL, id]); },
    });
  }
  const request = new ThreadRequest(message, inline !== null ? new InlineBody(bodyLength, inline) : body, interims, upgradeOptions);
  const exchange: ThreadExchange = { id, request, body, closed: false, unacked: 0, wake: null };
  exchanges.set(id, exchange);
  let result: GatewayResponse | Promise<GatewayResponse>;
  try {
    result = loaded!.app(request);
  } catch (error) {
    finish(exchange, [ERROR, id, serializeError(error, 'ERR_APP_THREW')]);
    return;
  }
  if (result !== null && typeof result === 'object' && typeof (result as Promise<GatewayResponse>).then === 'function') {
    (result as Promise<GatewayResponse>).then(
      (response) => respond(exchange, response),
      (error: unknown) => finish(exchange, [ERROR, id, serializeError(error, 'ERR_APP_THREW')]),
    );
  } else {
    respond(exchange, result as GatewayResponse);
  }
}

function respond(exchange: ThreadExchange, response: GatewayResponse): void {
  if (exchange.closed) return;
  const id = exchange.id;
  let headers: string[];
  let trailers: Trailers | undefined;
  try {
    if (response === null || typeof response !== 'object' || !Number.isInteger(response.status)) {
      throw new GatehouseError('ERR_APP_BAD_RESPONSE', `expected { status, headers, body }, got ${response === null ? 'null' : typeof response}`);
    }
    headers = HeaderList.from(response.headers).raw as string[];
    if (response.trailers != null) trailers = trailersToSend(exchange, response.status, response.trailers);
  } catch (error) {
    finish(exchange, [ERROR, id, serializeError(error, 'ERR_APP_BAD_RESPONSE')]);
    return;
  }
  const { status } = response;
  const take = takeoverOf(response);
  if (take !== null) {
    takes.set(id, { take, request: exchange.request });
    finish(exchange, [TAKE, id, status]);
    return;
  }
  let payload = response.body;
  // A function's trailers are called once the body has ended, on this thread: a whole body
  // then crosses as a stream, with the trailers in its END.
  if (typeof trailers === 'function' && (payload == null || typeof payload === 'string' || payload instanceof Uint8Array)) payload = wholeAsStream(payload);
  if (payload === null || payload === undefined || typeof payload === 'string') {
    finish(exchange, trailers === undefined ? [RESPONSE, id, status, headers, payload ?? null] : [RESPONSE, id, status, headers, payload ?? null, false, trailers as string[]]);
  } else if (payload instanceof Uint8Array) {
    const small = payload.byteLength <= SMALL_BYTES;
    const wire = small ? smallBytesToWire([payload]) : wireBytes(payload);
    if (trailers === undefined) finish(exchange, small ? [RESPONSE, id, status, headers, wire, true] : [RESPONSE, id, status, headers, wire]);
    else finish(exchange, [RESPONSE, id, status, headers, wire, small, trailers as string[]]);
  } else if (typeof (payload as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    post(trailers === undefined ? [RESPONSE_STREAM, id, status, headers] : [RESPONSE_STREAM, id, status, headers, true]);
    void stream(exchange, payload as AsyncIterable<Uint8Array>, trailers);
  } else {
    finish(exchange, [ERROR, id, serializeError(new GatehouseError('ERR_APP_BAD_RESPONSE', `body of type ${typeof payload}`), 'ERR_APP_BAD_RESPONSE')]);
  }
}

const encoder = new TextEncoder();

/** Trailers on their way: checked fields, or the app's function to call once the body has ended. */
type Trailers = string[] | Extract<GatewayResponse['trailers'], (...args: never[]) => unknown>;

/**
 * The response's trailers, when its request can take them (gateway/trailers.ts) and it has a
 * body to end with them (not HEAD, 204, 304); else none, and a function form is never called.
 * Fields are checked now, so a bad one is a 500 before any of the response is sent, as on the
 * socket's side.
 */
function trailersToSend(exchange: ThreadExchange, status: number, trailers: NonNullable<GatewayResponse['trailers']>): Trailers | undefined {
  if (status === 204 || status === 304 || exchange.request.method === 'HEAD' || !acceptsTrailers(exchange.request)) return undefined;
  return typeof trailers === 'function' ? trailers : trailerFields(trailers);
}

async function* wholeAsStream(body: string | Uint8Array | null | undefined): AsyncIterable<Uint8Array> {
  if (body != null && body.length > 0) yield typeof body === 'string' ? encoder.encode(body) : body;
}

/** Posts the app's body chunk by chunk, pausing whenever a window is unacknowledged; then END, with the trailers when there are any. */
async function stream(exchange: ThreadExchange, body: AsyncIterable<Uint8Array>, trailers?: Trailers): Promise<void> {
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (exchange.closed) break;
      if (exchange.unacked >= BODY_WINDOW) {
        await new Promise<void>((resolve) => { exchange.wake = resolve; });
        continue;
      }
      const step = await iterator.next();
      if (step.done) break;
      if (exchange.closed) break;
      const value = step.value as Uint8Array | string;
      const bytes = typeof value === 'string' ? encoder.encode(value) : value;
      if (!(bytes instanceof Uint8Array)) throw new GatehouseError('ERR_APP_BAD_RESPONSE', `body chunk of type ${typeof value}, expected Uint8Array`);
      if (bytes.byteLength === 0) continue;
      exchange.unacked += bytes.byteLength;
      post([CHUNK, exchange.id, wireBytes(bytes)]);
    }
    if (exchange.closed) await iterator.return?.();
    else if (trailers === undefined) finish(exchange, [END, exchange.id]);
    else finish(exchange, [END, exchange.id, typeof trailers === 'function' ? trailerFields(await trailers()) : trailers]);
  } catch (error) {
    finish(exchange, [ERROR, exchange.id, serializeError(error, 'ERR_APP_THREW')]);
  }
}

/** MAIN THREAD opened the tunnel: the app's takeover gets a bridge socket and the bytes read past the head. */
function openTunnel(id: number, head: Uint8Array): void {
  const pending = takes.get(id);
  if (pending === undefined) return;
  takes.delete(id);
  const { request } = pending;
  const socket = new BridgeSocket(id, bridgeHost, {
    remoteAddress: request.remote.address, remotePort: request.remote.port,
    localAddress: request.server.address, localPort: request.server.port,
    encrypted: request.scheme === 'https',
  });
  const bridge = { socket, taken: null as TakenConnection | null };
  bridges.set(id, bridge);
  try {
    bridge.taken = pending.take(socket, Buffer.from(head.buffer, head.byteOffset, head.byteLength)) ?? null;
  } catch (error) {
    if (channels.requestError.hasSubscribers) channels.requestError.publish({ request, error, phase: 'response' });
    socket.destroy();
  }
}

/** The unit is stopping: the app ends the connection its protocol's way (or it is destroyed). */
function goingAway(id: number): void {
  const bridge = bridges.get(id);
  if (bridge === undefined) return;
  if (bridge.taken === null) { bridge.socket.destroy(); return; }
  try { bridge.taken.goingAway(); } catch { bridge.socket.destroy(); }
}

function abort(id: number, error: GatehouseError): void {
  const exchange = exchanges.get(id);
  if (!exchange) return;
  finish(exchange, [DONE, id]);
  exchange.request.abort(error);
  exchange.body?.fail(error);
  exchange.wake?.();
}

port.on('message', unbatch((message: ToThread) => {
  switch (message[TAG]) {
    case REQUEST: serve(message); break;
    case BODY: exchanges.get(message[ID])?.body?.push(message[CHUNK_FIELD]); break;
    case BODY_END: exchanges.get(message[ID])?.body?.end(); break;
    case BODY_ERROR: exchanges.get(message[ID])?.body?.fail(deserializeError(message[ERROR_FIELD])); break;
    case ACK: {
      const exchange = exchanges.get(message[ID]);
      if (exchange) {
        exchange.unacked -= message[BYTES_FIELD];
        if (exchange.unacked < BODY_WINDOW && exchange.wake) { const wake = exchange.wake; exchange.wake = null; wake(); }
      }
      break;
    }
    case ABORT: abort(message[ID], deserializeError(message[ERROR_FIELD])); break;
    case OPEN_TUNNEL: openTunnel(message[ID], message[CHUNK_FIELD]); break;
    case TUNNEL_IN: bridges.get(message[ID])?.socket.deliver(message[CHUNK_FIELD]); break;
    case TUNNEL_IN_END: bridges.get(message[ID])?.socket.deliverEnd(); break;
    case TUNNEL_ACK: bridges.get(message[ID])?.socket.acknowledge(message[BYTES_FIELD]); break;
    case TUNNEL_CLOSED: takes.delete(message[ID]); bridges.get(message[ID])?.socket.remoteClose(); break;
    case GOING_AWAY: goingAway(message[ID]); break;
    // USR1: the logger the setup module subscribed in this thread reopens its files.
    case REOPEN_LOGS: channels.logsReopen.publish({ reason: 'signal' }); break;
    case SHUTDOWN: void shutdown(); break;
  }
}));

async function shutdown(): Promise<void> {
  clearInterval(heartbeat);
  try {
    await loaded?.shutdown?.();
  } catch (error) {
    channels.engine.publish({ engine: 'threaded', event: 'shutdown-failed', level: 'error', detail: `thread ${data.unit.id}: ${(error as Error)?.stack ?? String(error)}` });
  }
  post([STOPPED]);
  outbox.flush();
  port.close();
}

async function boot(): Promise<void> {
  let phase: 'setup' | 'load' | 'startup' = 'setup';
  try {
    for (const spec of data.setupModules) {
      const setup = await import(importableSpecifier(spec, data.app.cwd)) as { default?: (settings: unknown, unit: unknown) => unknown };
      await setup.default?.(data.settings, data.unit);
    }
    phase = 'load';
    loaded = await loadApp({ kind: 'module', spec: data.app.spec, cwd: data.app.cwd }, { interface: data.settings.interface, fetchGlobals: data.settings.fetchGlobals, cacheBust: data.cacheBust });
    phase = 'startup';
    await loaded.startup?.();
  } catch (error) {
    clearInterval(heartbeat);
    post([BOOT_FAILED, serializeError(error, phase === 'startup' ? 'ERR_APP_STARTUP_FAILED' : 'ERR_APP_IMPORT_FAILED')]);
    outbox.flush();
    port.close();
    return;
  }
  post([READY]);
}

void boot();
