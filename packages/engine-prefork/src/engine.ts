/*
 * The `prefork` engine (Gunicorn's model): this process is the master. It binds every
 * listener first (a bind error is one clear line before any worker starts), then hands the
 * sockets to an Arbiter that forks and supervises worker processes, which listen and accept
 * on them (under --sticky the master listens and accepts itself and hands each connection
 * on); the master never loads or runs the app. Each worker runs the app on its own event loop through core's
 * InLoopServer, or, for engines built on this one (hybrid), whatever worker body
 * PreforkOptions.workerEntry names.
 *
 * Hooks: the composition root (the CLI, createServer) runs on_starting, when_ready and
 * on_reload for every engine; this engine runs the per-worker ones it alone can: pre_fork and
 * worker_exit in the master, post_fork in each worker (re-read from the config file).
 */
import 'reflect-metadata';
import { inject, injectable, optional } from 'inversify';
import type net from 'node:net';
import {
  GatehouseError, TOKENS, bindAll, channels, prepareToListen,
  type Engine, type EngineContext, type EngineStats, type ListenAddress, type Settings, type StopOptions,
} from '@gatehouse/core';
import { bindForWorkers, delayStop, restartCounts, type HeldListener } from '@gatehouse/core/internal';
import { Arbiter } from './arbiter.js';

/** For engines that reuse this master with another worker body (hybrid). */
export interface PreforkOptions {
  /** Engine name in stats and diagnostics events. Default 'prefork'. */
  readonly name?: string;
  /** Module (file URL or absolute path) whose default export is a WorkerBodyFactory. Default: the in-loop body. */
  readonly workerEntry?: string;
  /** Given to the worker body as `context.data`; must survive JSON. */
  readonly workerData?: unknown;
}

export const PREFORK_OPTIONS = Symbol.for('gatehouse.engine-prefork.Options');

@injectable()
export class PreforkEngine implements Engine {
  readonly name: string;
  readonly #options: PreforkOptions;
  #arbiter: Arbiter | null = null;
  /** This process's copies of the sockets: held for the workers, or (--sticky) accepted on here. */
  #listeners: Array<{ close(): void }> = [];
  #addresses: ListenAddress[] = [];
  #closed!: () => void;
  readonly closed: Promise<void> = new Promise((resolve) => { this.#closed = resolve; });

  constructor(
    @inject(TOKENS.EngineContext) private readonly context: EngineContext,
    @inject(PREFORK_OPTIONS) @optional() options?: PreforkOptions,
  ) {
    this.#options = options ?? {};
    this.name = this.#options.name ?? 'prefork';
  }

  async start(): Promise<void> {
    const { settings, app } = this.context;
    if (app.kind !== 'module') throw new GatehouseError('ERR_APP_NEEDS_MODULE', `the ${this.name} engine loads the app in each worker process`);
    if (this.#arbiter) throw new Error(`${this.name} engine started twice`);
    const { shared, acceptors } = await this.#bind(settings);
    const arbiter = new Arbiter({
      engine: this.name,
      settings,
      app: { spec: app.spec, cwd: app.cwd },
      listeners: shared,
      acceptors,
      workerEntry: this.#options.workerEntry,
      workerData: this.#options.workerData,
      configFile: this.context.configFile,
      setupModules: this.context.setupModules,
    });
    this.#arbiter = arbiter;
    void arbiter.closed.then(() => {
      this.#closeListeners();
      this.#closed();
    });
    try {
      await arbiter.start();
    } catch (error) {
      this.#closeListeners();
      await arbiter.stop(false, 0);
      throw error;
    }
    channels.engine.publish({ engine: this.name, event: 'ready', detail: `${this.#addresses.map((a) => a.url).join(', ')} (${settings.workers} workers)` });
  }

  async stop(options: StopOptions = {}): Promise<void> {
    const graceful = options.graceful ?? true;
    const timeoutMs = (options.timeout ?? this.context.settings.gracefulTimeout) * 1000;
    if (!this.#arbiter) { this.#closeListeners(); this.#closed(); return; }
    channels.engine.publish({ engine: this.name, event: 'stopping', detail: graceful ? 'graceful' : 'fast' });
    const arbiter = this.#arbiter;
    if (graceful) await delayStop(this.name, this.context.settings.stopDelay, () => arbiter.announceDrain());
    // The master's copies go first; the workers close theirs when told to stop.
    this.#closeListeners();
    await this.#arbiter.stop(graceful, timeoutMs);
    await this.closed;
  }

  reload(settings?: Readonly<Settings>): Promise<void> {
    if (!this.#arbiter) return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED'));
    return this.#arbiter.reload(settings);
  }

  scale(delta: number): Promise<void> {
    if (!this.#arbiter) return Promise.reject(new GatehouseError('ERR_ENGINE_NOT_STARTED'));
    return this.#arbiter.scale(delta);
  }

  reopenLogs(): void {
    this.#arbiter?.reopenLogs();
  }

  get addresses(): readonly ListenAddress[] {
    return this.#addresses;
  }

  stats(): EngineStats {
    const stats = this.#arbiter?.stats() ?? { generation: 0, units: [], restarts: restartCounts() };
    return { engine: this.name, pid: process.pid, ...stats };
  }

  /**
   * Without --sticky: bound, not listening here; the workers listen and accept, the master only
   * holds the sockets. With it: listening here, unread (pauseOnConnect), since the master
   * accepts every connection to pick its worker; connections accepted before the first worker
   * is ready are held for it.
   */
  async #bind(settings: Readonly<Settings>): Promise<{ shared: HeldListener[]; acceptors?: net.Server[] }> {
    const https = Boolean(settings.certfile);
    if (settings.sticky) {
      const { listeners, addresses } = await bindAll(prepareToListen(settings), { backlog: settings.backlog, pauseOnConnect: true, https, engine: this.name });
      this.#listeners = listeners;
      this.#addresses = addresses;
      return { shared: [], acceptors: listeners };
    }
    const { listeners, addresses } = await bindForWorkers(prepareToListen(settings), { https });
    this.#listeners = listeners;
    this.#addresses = addresses;
    return { shared: listeners };
  }

  #closeListeners(): void {
    for (const listener of this.#listeners.splice(0)) listener.close();
  }
}
