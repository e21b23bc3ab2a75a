/*
 * The `single` engine: one process, the app on the main event loop (Puma's single mode).
 * It is what `serve` runs in development and the baseline other engines are measured against.
 * It cannot scale or reload without a short window (ESM modules cannot be unloaded: reload
 * imports the entry module afresh, its own imports stay cached).
 */
import { injectable, inject } from 'inversify';
import type net from 'node:net';
import { channels } from '../diagnostics.js';
import { GatehouseError } from '../errors/index.js';
import { bindAll } from '../net/listen.js';
import { prepareToListen } from '../net/prepare.js';
import { dropPrivileges } from '../net/privileges.js';
import { InLoopServer } from './in-loop.js';
import { delayStop } from './stop-delay.js';
import { TOKENS } from './tokens.js';
import { restartCounts } from './supervision.js';
import type { Engine, EngineContext, EngineStats, ListenAddress, StopOptions } from './engine.js';

@injectable()
export class SingleEngine implements Engine {
  readonly name = 'single';
  #server: InLoopServer | null = null;
  #listeners: net.Server[] = [];
  #addresses: ListenAddress[] = [];
  #generation = 0;
  #reloads = 0;
  #closed!: () => void;
  readonly closed: Promise<void> = new Promise((resolve) => { this.#closed = resolve; });
  readonly #startedAt = Date.now();

  constructor(@inject(TOKENS.EngineContext) private readonly context: EngineContext) {}

  async start(): Promise<void> {
    const { settings } = this.context;
    const targets = prepareToListen(settings);
    // Bind first, then drop privileges, then load the app (Gunicorn's order): a bind error is
    // one line before any app code runs, a privileged port can be bound as root, and the app's
    // import and startup() run as --user. Connections wait in the backlog until attached.
    let server: InLoopServer | null = null;
    try {
      ({ listeners: this.#listeners, addresses: this.#addresses } = await bindAll(targets, { backlog: settings.backlog, https: Boolean(settings.certfile), engine: this.name }));
      dropPrivileges(settings);
      server = new InLoopServer({ settings, app: this.context.app });
      await server.boot();
      for (const listener of this.#listeners) server.attach(listener);
    } catch (error) {
      await server?.close(false, 0);
      for (const listener of this.#listeners.splice(0)) listener.close();
      this.#addresses = [];
      throw error;
    }
    this.#server = server;
    this.#generation = 1;
    channels.engine.publish({ engine: this.name, event: 'ready', detail: this.#addresses.map((a) => a.url).join(', ') });
  }

  async stop(options: StopOptions = {}): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) {
      const graceful = options.graceful ?? true;
      if (graceful) await delayStop(this.name, this.context.settings.stopDelay, () => { server.service.health.draining = true; });
      await server.close(graceful, (options.timeout ?? this.context.settings.gracefulTimeout) * 1000);
    }
    this.#listeners = [];
    this.#closed();
  }

  async reload(): Promise<void> {
    if (!this.#server) throw new GatehouseError('ERR_ENGINE_NOT_STARTED');
    // Boot the new code first: if it fails to load, the old generation keeps serving.
    const next = new InLoopServer({ settings: this.context.settings, app: this.context.app });
    await next.boot(String(Date.now()));
    const previous = this.#server;
    for (const listener of previous.releaseListeners()) {
      listener.removeAllListeners('connection');
      next.attach(listener);
    }
    this.#server = next;
    this.#generation++;
    this.#reloads++;
    await previous.close(true, this.context.settings.gracefulTimeout * 1000).catch(() => {});
  }

  async scale(_delta: number): Promise<void> {
    channels.engine.publish({ engine: this.name, event: 'scale-ignored', level: 'warn', detail: 'the single engine runs one process; use prefork, threaded or hybrid to scale' });
  }

  reopenLogs(): void { /* logs belong to the CLI, which reopens its own streams */ }

  get addresses(): readonly ListenAddress[] {
    return this.#addresses;
  }

  stats(): EngineStats {
    const service = this.#server?.service.stats();
    return {
      engine: this.name,
      pid: process.pid,
      generation: this.#generation,
      units: [{
        id: 0, kind: 'process', pid: process.pid, state: this.#server ? 'ready' : 'stopped', generation: this.#generation,
        requests: service?.requests ?? 0, inFlight: service?.inFlight ?? 0, upgraded: service?.upgraded ?? 0, memory: residentMemory(), startedAt: this.#startedAt,
      }],
      restarts: { ...restartCounts(), reload: this.#reloads },
    };
  }
}

/** RSS, or 0 when it cannot be read (reading /proc needs a descriptor: EMFILE under a flood). */
function residentMemory(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return 0;
  }
}
