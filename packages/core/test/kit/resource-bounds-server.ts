/*
 * Child process for resource-bounds.test.ts: runs the `single` engine on 127.0.0.1:0 with the
 * settings given as JSON in argv[2], so the test can measure this process's memory alone
 * (its RSS from /proc/PID/status) while it attacks it. IPC, typed:
 *   child -> parent  { type: 'ready', port, pid }
 *   parent -> child  { type: 'gc' }      child -> parent  { type: 'gc-done', rss, heapUsed }
 *   parent -> child  { type: 'stop' }    (the child stops the engine and exits)
 * Run with --expose-gc so a baseline can be taken after a full collection.
 *
 * The app: GET / -> "ok"; POST /count reads the body as a stream and answers how many bytes and
 * chunks it saw, never keeping them (so the test measures the server, not the app).
 */
import { SingleEngine } from '../../src/engine/single.js';
import { defaultSettings, type Settings } from '../../src/settings/table.js';
import type { GatewayRequest, GatewayResponse } from '../../src/gateway/types.js';

export type ParentMessage = { type: 'gc' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; port: number; pid: number }
  | { type: 'gc-done'; rss: number; heapUsed: number };

async function app(request: GatewayRequest): Promise<GatewayResponse> {
  if (request.path === '/count') {
    let bytes = 0;
    let chunks = 0;
    for await (const chunk of request.body) { bytes += chunk.byteLength; chunks++; }
    return { status: 200, headers: [['content-type', 'application/json']], body: JSON.stringify({ bytes, chunks }) };
  }
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'ok' };
}

const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<Settings>;
const settings: Settings = { ...defaultSettings(), logLevel: 'fatal', ...overrides, engine: 'single', bind: ['127.0.0.1:0'] };
const engine = new SingleEngine({ settings, app: { kind: 'inline', app: { app, interface: 'gateway' } } });
await engine.start();

const send = (message: ChildMessage): void => { process.send?.(message); };
process.on('message', (message: ParentMessage) => {
  if (message.type === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    const usage = process.memoryUsage();
    send({ type: 'gc-done', rss: usage.rss, heapUsed: usage.heapUsed });
  } else if (message.type === 'stop') {
    void engine.stop({ graceful: false, timeout: 0 }).finally(() => process.exit(0));
  }
});
// The parent went away (crashed test): do not outlive it.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port: engine.addresses[0]!.port!, pid: process.pid });
