/*
 * A Fastify instance exported as it is (`export default fastify`). Fastify keeps its request
 * handler as `fastify.routing` (the function it would give http.createServer), and its routes
 * and plugins exist only once `ready()` has resolved; so the instance runs through the
 * node:http listener adapter, `ready()` is the app's startup and `close()` its shutdown.
 * Fastify's own server (`fastify.server`) is never listened on: Gatehouse's settings replace
 * its server options (docs/gateway-interface.md, "Frameworks").
 *
 * Detection is by shape, not by importing fastify: the app's copy is the one that counts, and
 * core does not depend on it.
 */
import type { Application, LifecycleHook } from '../gateway/types.js';

interface FastifyInstance {
  routing(req: unknown, res: unknown): void;
  ready(): PromiseLike<unknown>;
  close(): PromiseLike<unknown>;
}

export interface AdaptedFramework {
  readonly app: Application;
  readonly startup: LifecycleHook;
  readonly shutdown: LifecycleHook;
}

/** routing + ready + close + inject + register: the instance API every Fastify 4 and 5 has. */
export function isFastifyInstance(value: unknown): value is FastifyInstance {
  if (typeof value !== 'object' || value === null) return false;
  const api = value as Record<string, unknown>;
  return ['routing', 'ready', 'close', 'inject', 'register'].every((name) => typeof api[name] === 'function');
}

export async function adaptFastify(instance: FastifyInstance): Promise<AdaptedFramework> {
  const { adaptNodeListener } = await import('../gateway/adapters/node.js');
  const listener = adaptNodeListener((req, res) => instance.routing(req, res));
  let ready: Promise<void> | null = null;
  let isReady = false;
  const whenReady = (): Promise<void> => ready ??= Promise.resolve(instance.ready()).then(() => { isReady = true; });
  return {
    // Engines run startup() before the first request; an embedder that does not still gets
    // a ready router rather than fastify's 404 for routes it has not registered yet.
    app: (request) => isReady ? listener(request) : whenReady().then(() => listener(request)),
    startup: whenReady,
    shutdown: async () => { await instance.close(); },
  };
}
