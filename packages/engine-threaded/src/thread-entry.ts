/*
 * APP THREAD entry point. Each app thread is its own small server without sockets: it runs
 * the setup modules (the CLI's logging), loads the app module itself (closures cannot cross
 * threads), runs startup(), then serves `request` messages from the main thread until told to
 * shut down. Several requests may be in flight at once (the main thread bounds how many).
 *
 * A heartbeat timer posts `beat` every heartbeatMs: if this thread's event loop is stuck,
 * the beats stop and the main thread terminates and replaces it. An uncaught exception here
 * ends this thread (Node's default for workers): the main thread answers its in-flight
 * requests 500 and starts a replacement. Nothing here tries to survive that.
 */
import { parentPort, workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HeaderList, channels, createRequest, loadApp, GatehouseError, type GatewayResponse, type LoadedApp, type RequestHead } from '@gatehouse/core';
import { BODY_WINDOW, wireBytes, type FromThread, type ThreadData, type ToThread } from './messages.js';
import { PortBodySource } from './port-body-source.js';
import { Outbox, unbatch } from './outbox.js';
import { deserializeError, serializeError } from './wire-errors.js';

const data = workerData as ThreadData;
const port = parentPort!;

const outbox = new Outbox<FromThread>(port);
const post = (message: FromThread): void => outbox.send(message);

const heartbeat = setInterval(() => post({ t: 'beat', heapUsed: v8.getHeapStatistics().used_heap_size }), data.heartbeatMs);

/** One request as this thread tracks it. */
interface ThreadExchange {
  readonly id: number;
  readonly controller: AbortController;
  readonly body: PortBodySource | null;
  /** Final message sent (or the request aborted): post nothing more for it. */
  closed: boolean;
  /** Response-body bytes posted and not yet taken by the protocol layer. */
  unacked: number;
  wake: (() => void) | null;
}

const exchanges = new Map<number, ThreadExchange>();
let loaded: LoadedApp | null = null;

function finish(exchange: ThreadExchange, message: FromThread): void {
  if (exchange.closed) return;
  exchange.closed = true;
  exchanges.delete(exchange.id);
  post(message);
}

async function serve(id: number, head: RequestHead): Promise<void> {
  const controller = new AbortController();
  const body = head.bodyLength === 0 ? null : new PortBodySource(head.bodyLength, {
    grant: (bytes) => { if (!exchange.closed) post({ t: 'pull', id, bytes }); },
    cancel: () => { if (!exchange.closed) post({ t: 'body-cancel', id }); },
  });
  const exchange: ThreadExchange = { id, controller, body, closed: false, unacked: 0, wake: null };
  exchanges.set(id, exchange);
  let response: GatewayResponse;
  try {
    response = await loaded!.app(createRequest(head, body, controller.signal));
  } catch (error) {
    finish(exchange, { t: 'error', id, error: serializeError(error, 'ERR_APP_THREW') });
    return;
  }
  if (exchange.closed) return;
  let headers: string[];
  try {
    if (response === null || typeof response !== 'object' || !Number.isInteger(response.status)) {
      throw new GatehouseError('ERR_APP_BAD_RESPONSE', `expected { status, headers, body }, got ${response === null ? 'null' : typeof response}`);
    }
    headers = HeaderList.from(response.headers).raw as string[];
  } catch (error) {
    finish(exchange, { t: 'error', id, error: serializeError(error, 'ERR_APP_BAD_RESPONSE') });
    return;
  }
  const { status } = response;
  const payload = response.body;
  if (payload === null || payload === undefined || typeof payload === 'string') {
    finish(exchange, { t: 'response', id, status, headers, body: payload ?? null, stream: false });
  } else if (payload instanceof Uint8Array) {
    finish(exchange, { t: 'response', id, status, headers, body: wireBytes(payload), stream: false });
  } else if (typeof (payload as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    post({ t: 'response', id, status, headers, body: null, stream: true });
    await stream(exchange, payload as AsyncIterable<Uint8Array>);
  } else {
    finish(exchange, { t: 'error', id, error: serializeError(new GatehouseError('ERR_APP_BAD_RESPONSE', `body of type ${typeof payload}`), 'ERR_APP_BAD_RESPONSE') });
  }
}

const encoder = new TextEncoder();

/** Posts the app's body chunk by chunk, pausing whenever a window is unacknowledged. */
async function stream(exchange: ThreadExchange, body: AsyncIterable<Uint8Array>): Promise<void> {
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
      post({ t: 'chunk', id: exchange.id, chunk: wireBytes(bytes) });
    }
    if (exchange.closed) await iterator.return?.();
    else finish(exchange, { t: 'end', id: exchange.id });
  } catch (error) {
    finish(exchange, { t: 'error', id: exchange.id, error: serializeError(error, 'ERR_APP_THREW') });
  }
}

function abort(id: number, error: GatehouseError): void {
  const exchange = exchanges.get(id);
  if (!exchange) return;
  finish(exchange, { t: 'done', id });
  exchange.controller.abort(error);
  exchange.body?.fail(error);
  exchange.wake?.();
}

port.on('message', unbatch((message: ToThread) => {
  switch (message.t) {
    case 'request': void serve(message.id, message.head); break;
    case 'body': exchanges.get(message.id)?.body?.push(message.chunk); break;
    case 'body-end': exchanges.get(message.id)?.body?.end(); break;
    case 'body-error': exchanges.get(message.id)?.body?.fail(deserializeError(message.error)); break;
    case 'ack': {
      const exchange = exchanges.get(message.id);
      if (exchange) {
        exchange.unacked -= message.bytes;
        if (exchange.unacked < BODY_WINDOW && exchange.wake) { const wake = exchange.wake; exchange.wake = null; wake(); }
      }
      break;
    }
    case 'abort': abort(message.id, deserializeError(message.error)); break;
    case 'reopen-logs': channels.engine.publish({ engine: 'threaded', event: 'reopen-logs' }); break;
    case 'shutdown': void shutdown(); break;
  }
}));

async function shutdown(): Promise<void> {
  clearInterval(heartbeat);
  try {
    await loaded?.shutdown?.();
  } catch (error) {
    channels.engine.publish({ engine: 'threaded', event: 'shutdown-failed', level: 'error', detail: `thread ${data.unit.id}: ${(error as Error)?.stack ?? String(error)}` });
  }
  post({ t: 'stopped' });
  outbox.flush();
  port.close();
}

function toImportable(spec: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return pathToFileURL(path.resolve(data.app.cwd ?? process.cwd(), spec)).href;
  return spec;
}

async function boot(): Promise<void> {
  let phase: 'setup' | 'load' | 'startup' = 'setup';
  try {
    for (const spec of data.setupModules) {
      const setup = await import(toImportable(spec)) as { default?: (settings: unknown, unit: unknown) => unknown };
      await setup.default?.(data.settings, data.unit);
    }
    phase = 'load';
    loaded = await loadApp({ kind: 'module', spec: data.app.spec, cwd: data.app.cwd }, { interface: data.settings.interface, cacheBust: data.cacheBust });
    phase = 'startup';
    await loaded.startup?.();
  } catch (error) {
    clearInterval(heartbeat);
    post({ t: 'boot-failed', error: serializeError(error, phase === 'startup' ? 'ERR_APP_STARTUP_FAILED' : 'ERR_APP_IMPORT_FAILED') });
    outbox.flush();
    port.close();
    return;
  }
  post({ t: 'ready' });
}

void boot();
