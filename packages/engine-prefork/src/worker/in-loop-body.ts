/*
 * The prefork engine's default worker body: the app on this process's event loop through
 * core's InLoopServer (the same code path as the `single` engine). The app is loaded here and
 * handed to InLoopServer already loaded, wrapped once so each request is counted and named
 * for the supervisor (the scoreboard, while the app runs it).
 */
import type net from 'node:net';
import { GatehouseError, InLoopServer, isGatehouseError, loadApp, type Application, type ErrorCode, type LoadedApp } from '@gatehouse/core/worker-runtime';
import type { HealthState } from '@gatehouse/core/internal';
import type { WorkerBody, WorkerBodyContext, WorkerBodyFactory, WorkerBodyStats } from './body.js';

class InLoopBody implements WorkerBody {
  #server: InLoopServer | null = null;
  #requests = 0;

  constructor(private readonly context: WorkerBodyContext) {}

  async boot(): Promise<void> {
    const { settings, app } = this.context;
    const loaded = await loadApp({ kind: 'module', spec: app.spec, cwd: app.cwd }, { interface: settings.interface, fetchGlobals: settings.fetchGlobals })
      .catch((error: unknown) => { throw asGatehouseError(error, 'ERR_APP_IMPORT_FAILED'); });
    const server = new InLoopServer({ settings, app: { kind: 'inline', app: this.#instrument(loaded) } });
    await server.boot().catch((error: unknown) => { throw asGatehouseError(error, 'ERR_APP_STARTUP_FAILED'); });
    this.#server = server;
  }

  #instrument(loaded: LoadedApp): LoadedApp {
    const inner = loaded.app;
    const started = this.context.requestStarted;
    const app: Application = (request) => {
      this.#requests++;
      const ended = started(request.method, request.path);
      try {
        const result = inner(request);
        if (result instanceof Promise) result.then(ended, ended);
        else ended();
        return result;
      } catch (error) {
        ended();
        throw error;
      }
    };
    return { ...loaded, app };
  }

  attach(listener: net.Server): void {
    this.#server!.attach(listener);
  }

  handle(socket: net.Socket): void {
    this.#server!.service.handle(socket);
  }

  shed(count: number): net.Socket[] {
    return this.#server?.service.releaseIdle(count) ?? [];
  }

  handOff(release: (socket: net.Socket) => void): void {
    this.#server?.service.handOff(release);
  }

  async close(graceful: boolean, timeoutMs: number): Promise<void> {
    // InLoopServer.close() closes the listeners it was given: our copies of the shared sockets.
    await this.#server?.close(graceful, timeoutMs);
  }

  get lingering(): boolean {
    return this.#server?.service.lingering ?? false;
  }

  get health(): HealthState | undefined {
    return this.#server?.service.health;
  }

  stats(): WorkerBodyStats {
    const service = this.#server?.service.stats();
    const releasable = this.#server?.service.releasable ?? false;
    return { requests: this.#requests, inFlight: service?.inFlight ?? 0, upgraded: service?.upgraded ?? 0, connections: releasable ? service?.connections : undefined };
  }
}

/** The loader already speaks GatehouseError; a startup() that throws, or an import the loader passed through, does not. */
function asGatehouseError(error: unknown, code: ErrorCode): unknown {
  if (isGatehouseError(error)) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const wrapped = new GatehouseError(code, detail, { cause: error });
  if (error instanceof Error && error.stack) wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${error.stack.split('\n').slice(1).join('\n')}`;
  return wrapped;
}

const createInLoopBody: WorkerBodyFactory = (context) => new InLoopBody(context);
export default createInLoopBody;
