/*
 * Running the app on this event loop: the code path of the `single` engine and of every
 * prefork worker process. InLoopServer owns listeners + HttpService + the loaded app, and
 * nothing about supervision.
 */
import type net from 'node:net';
import { loadApp } from '../app/loader.js';
import { createHttpService } from '../http/create-service.js';
import { protocolOptionsFrom } from '../http/options.js';
import type { HttpService } from '../http/service.js';
import type { AppSource, Application, Dispatcher, GatewayRequest, GatewayResponse, LoadedApp } from '../gateway/types.js';
import type { Settings } from '../settings/table.js';

/** Calls the app directly; a synchronous throw becomes a rejection for the protocol layer to answer 500. */
export class InLoopDispatcher implements Dispatcher {
  constructor(private readonly app: Application) {}

  dispatch(request: GatewayRequest): Promise<GatewayResponse> {
    try {
      const result = this.app(request);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

export interface InLoopServerOptions {
  readonly settings: Readonly<Settings>;
  readonly app: AppSource;
}

export class InLoopServer {
  #loaded: LoadedApp | null = null;
  #service: HttpService | null = null;
  readonly #servers: net.Server[] = [];
  readonly #options: InLoopServerOptions;

  constructor(options: InLoopServerOptions) {
    this.#options = options;
  }

  /** Loads the app and runs its startup hook. Throws the loader's GatehouseError on failure. */
  async boot(cacheBust?: string): Promise<LoadedApp> {
    const loaded = await loadApp(this.#options.app, { interface: this.#options.settings.interface, fetchGlobals: this.#options.settings.fetchGlobals, cacheBust });
    await loaded.startup?.();
    this.#loaded = loaded;
    this.#service = createHttpService(new InLoopDispatcher(loaded.app), protocolOptionsFrom(this.#options.settings));
    return loaded;
  }

  get service(): HttpService {
    if (!this.#service) throw new Error('InLoopServer.boot() must run first');
    return this.#service;
  }

  /** Starts serving connections accepted by `server`. */
  attach(server: net.Server): void {
    const service = this.service;
    this.#servers.push(server);
    server.on('connection', (socket) => service.handle(socket));
  }

  /** Forgets the listeners without closing them (a reload hands them to the next generation). */
  releaseListeners(): net.Server[] {
    return this.#servers.splice(0);
  }

  /** Stops accepting, drains (graceful) or drops connections, then runs the app's shutdown hook. */
  async close(graceful: boolean, timeoutMs: number): Promise<void> {
    for (const server of this.#servers) server.close();
    this.#servers.length = 0;
    if (this.#service) {
      if (graceful) await this.#service.drain(timeoutMs);
      else this.#service.destroyAll();
    }
    const loaded = this.#loaded;
    this.#loaded = null;
    await loaded?.shutdown?.();
  }
}
