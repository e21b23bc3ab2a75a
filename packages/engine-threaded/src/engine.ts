/*
 * The `threaded` engine (Waitress's model, with a supervisor Waitress lacks): one process;
 * the main thread binds the listeners and does all socket I/O and HTTP through core's
 * HttpService; a pool of worker threads runs the app. Reload rolls the threads onto fresh
 * code without closing a socket, because the sockets never leave the main thread.
 */
import 'reflect-metadata';
import { injectable, inject } from 'inversify';
import { TOKENS, bindAll, channels, prepareToListen, dropPrivileges, GatehouseError, type Engine, type EngineContext, type EngineStats, type ListenAddress, type Settings, type StopOptions } from '@gatehouse/core';
import { delayStop, restartCounts } from '@gatehouse/core/internal';
import { ThreadedServer } from './server.js';

@injectable()
export class ThreadedEngine implements Engine {
  readonly name: string = 'threaded';
  #server: ThreadedServer | null = null;
  #addresses: ListenAddress[] = [];
  #closed!: () => void;
  readonly closed: Promise<void> = new Promise((resolve) => { this.#closed = resolve; });

  constructor(@inject(TOKENS.EngineContext) private readonly context: EngineContext) {}

  async start(): Promise<void> {
    const { settings, app } = this.context;
    if (app.kind !== 'module') throw new GatehouseError('ERR_APP_NEEDS_MODULE', 'the threaded engine loads the app in each thread');
    const targets = prepareToListen(settings);
    // Bind first: a bind error is one clear line before any thread starts.
    const { listeners, addresses } = await bindAll(targets, { backlog: settings.backlog, https: Boolean(settings.certfile), engine: this.name });
    const server = new ThreadedServer({ settings, app, setupModules: this.context.setupModules, engineName: this.name });
    // Connections that arrive while the threads boot wait in the dispatcher's queue.
    for (const listener of listeners) server.attach(listener);
    try {
      dropPrivileges(settings);
      await server.start();
    } catch (error) {
      await server.close(false, 0);
      throw error;
    }
    this.#server = server;
    this.#addresses = addresses;
    channels.engine.publish({ engine: this.name, event: 'ready', detail: `${addresses.map((a) => a.url).join(', ')} (${settings.threads} threads x ${settings.threadConcurrency})` });
  }

  async stop(options: StopOptions = {}): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) {
      const graceful = options.graceful ?? true;
      channels.engine.publish({ engine: this.name, event: 'stopping', detail: graceful ? 'graceful' : 'fast' });
      if (graceful) await delayStop(this.name, this.context.settings.stopDelay, () => { server.service.health.draining = true; });
      await server.close(graceful, (options.timeout ?? this.context.settings.gracefulTimeout) * 1000);
    }
    this.#closed();
  }

  async reload(settings?: Readonly<Settings>): Promise<void> {
    if (!this.#server) throw new GatehouseError('ERR_ENGINE_NOT_STARTED');
    await this.#server.reload(settings);
  }

  async scale(delta: number): Promise<void> {
    if (!this.#server) throw new GatehouseError('ERR_ENGINE_NOT_STARTED');
    await this.#server.scale(delta);
  }

  reopenLogs(): void {
    this.#server?.reopenLogs();
  }

  get addresses(): readonly ListenAddress[] {
    return this.#addresses;
  }

  stats(): EngineStats {
    const server = this.#server;
    return {
      engine: this.name,
      pid: process.pid,
      generation: server?.pool.generation ?? 0,
      units: server?.units() ?? [],
      restarts: { ...(server?.pool.restarts ?? restartCounts()) },
      queueDepth: server?.dispatcher.queueDepth ?? 0,
    };
  }
}
