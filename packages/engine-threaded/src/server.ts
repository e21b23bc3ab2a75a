/*
 * MAIN THREAD. A threaded server without listeners of its own: core's HttpService in front,
 * the ThreadPoolDispatcher behind it, the ThreadPool under that. The `threaded` engine gives it
 * the listeners it bound; the hybrid engine's worker processes give it the listeners (or
 * sockets) they inherited. It is to the threaded engine what core's InLoopServer is to
 * `single` and prefork workers.
 */
import type net from 'node:net';
import { createHttpService, GatehouseError, type AppSource, type HttpService, type Settings, type UnitStats } from '@gatehouse/core';
import { protocolOptionsFrom } from '@gatehouse/core/internal';
import { ThreadPool } from './pool.js';
import { ThreadPoolDispatcher } from './dispatcher.js';

export interface ThreadedServerOptions {
  readonly settings: Readonly<Settings>;
  /** Must be a module: each thread imports it (inline apps get ERR_APP_NEEDS_MODULE). */
  readonly app: AppSource;
  readonly setupModules?: readonly string[];
  /** Name used in engine events (default 'threaded'). */
  readonly engineName?: string;
}

export class ThreadedServer {
  readonly pool: ThreadPool;
  readonly dispatcher: ThreadPoolDispatcher;
  readonly service: HttpService;
  readonly #servers: net.Server[] = [];

  constructor(options: ThreadedServerOptions) {
    const { settings, app } = options;
    if (app.kind !== 'module') throw new GatehouseError('ERR_APP_NEEDS_MODULE', 'the threaded engine loads the app in each thread');
    this.pool = new ThreadPool({ settings, app: { spec: app.spec, cwd: app.cwd }, setupModules: options.setupModules, engineName: options.engineName });
    this.dispatcher = new ThreadPoolDispatcher(this.pool, {
      maxQueue: settings.maxQueue,
      requestTimeoutMs: settings.requestTimeout * 1000,
      readAheadBudget: settings.readAheadBudget,
      engineName: options.engineName,
      sticky: settings.sticky,
    });
    this.service = createHttpService(this.dispatcher, protocolOptionsFrom(settings));
    // Answered here on the I/O thread, so the health paths answer while every app thread is busy.
    this.service.health.unitsReady = () => this.pool.readyCount > 0;
  }

  /** Boots the app threads; rejects with the app's error if they cannot boot. */
  start(): Promise<void> {
    return this.pool.start();
  }

  /** Serves the connections `server` accepts. */
  attach(server: net.Server): void {
    this.#servers.push(server);
    server.on('connection', (socket: net.Socket) => this.service.handle(socket));
  }

  /** Stops accepting, finishes (graceful) or drops connections, runs shutdown() in every thread, terminates them. */
  async close(graceful: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const server of this.#servers.splice(0)) server.close();
    if (graceful) await this.service.drain(timeoutMs);
    else this.service.destroyAll();
    this.dispatcher.close();
    // Whatever the drain left of the budget, but a moment at least for shutdown() hooks.
    await this.pool.stop(graceful, Math.max(1000, deadline - Date.now()));
  }

  /** New settings reach the app threads; the I/O thread's (protocol, queue) stay as they started. */
  reload(settings?: Readonly<Settings>): Promise<void> {
    return this.pool.reload(settings);
  }

  scale(delta: number): Promise<void> {
    return this.pool.scale(delta);
  }

  reopenLogs(): void {
    this.pool.reopenLogs();
  }

  units(): UnitStats[] {
    return this.pool.stats();
  }
}
