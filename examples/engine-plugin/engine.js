/*
 * `lanes`: an example of a third-party Gatehouse engine, written in plain JavaScript against
 * @gatehouse/core's public API only (and inversify, to declare what the container injects).
 * Gatehouse knows nothing about it; serve through it with
 *
 *   serve app.js --engine ./examples/engine-plugin/engine.js --threads 3
 *   createServer({ app: 'app.js', engine: '/abs/path/to/engine.js', threads: 3 })
 *
 * (or `--engine @gatehouse-examples/engine-plugin` once the package is installed).
 *
 * What it does: one process and one event loop, like the `single` engine, but the app is
 * loaded once per lane (`--threads N` lanes, default 4), each copy with its own module state
 * and its own startup()/shutdown(), and accepted connections are dealt to the lanes in turn.
 * It serves no faster than `single`; it is a cheap way to catch, in development, an app that
 * assumes its module state is shared by every request, which breaks under prefork, threaded
 * and hybrid, where every unit has its own.
 *
 * The contract it implements (Engine in @gatehouse/core): start, stop, reload, scale,
 * reopenLogs, addresses, stats, closed, and a constructor that takes the EngineContext. The DI
 * container constructs it as it does the built-in engines: the class is injectable and its
 * constructor's parameter is injected with TOKENS.EngineContext (the decorators at the end of
 * this file; TypeScript spells them @injectable() and @inject(TOKENS.EngineContext)).
 * HTTP is core's: each lane is an InLoopServer whose HttpService takes the sockets.
 */
import { GatehouseError, InLoopServer, TOKENS, bindAll, channels, prepareToListen } from '@gatehouse/core';
import { decorate, inject, injectable } from 'inversify';

export default class LanesEngine {
  name = 'lanes';
  /** @type {InLoopServer[]} lanes serving new connections */
  #lanes = [];
  #listeners = [];
  #addresses = [];
  #turn = 0;
  #imports = 0;
  #generation = 0;
  #reloads = 0;
  #running = false;
  #resolveClosed;
  closed = new Promise((resolve) => { this.#resolveClosed = resolve; });

  /** @param {import('@gatehouse/core').EngineContext} context */
  constructor(context) {
    this.context = context;
  }

  async start() {
    const { settings } = this.context;
    const targets = prepareToListen(settings); // a bad --bind (or TLS, --user...) fails before the app loads
    this.#lanes = await this.#bootLanes(Math.max(1, settings.threads));
    try {
      ({ listeners: this.#listeners, addresses: this.#addresses } = await bindAll(targets, { backlog: settings.backlog, https: Boolean(settings.certfile) }));
    } catch (error) {
      await Promise.all(this.#lanes.map((lane) => lane.close(false, 0)));
      throw error;
    }
    for (const listener of this.#listeners) listener.on('connection', (socket) => this.#deal(socket));
    this.#generation = 1;
    this.#running = true;
    this.#publish('ready', `${this.#addresses.map((a) => a.url).join(', ')} (${this.#lanes.length} lanes)`);
  }

  async stop({ graceful = true, timeout } = {}) {
    this.#running = false;
    for (const listener of this.#listeners.splice(0)) listener.close();
    const lanes = this.#lanes.splice(0);
    await Promise.all(lanes.map((lane) => lane.close(graceful, (timeout ?? this.context.settings.gracefulTimeout) * 1000)));
    this.#resolveClosed();
  }

  /** New lanes load the current code; only when all of them are up do they take new connections. */
  async reload() {
    this.#mustRun();
    const next = await this.#bootLanes(this.#lanes.length);
    const previous = this.#lanes;
    this.#lanes = next;
    this.#generation++;
    this.#reloads++;
    await Promise.all(previous.map((lane) => lane.close(true, this.context.settings.gracefulTimeout * 1000)));
  }

  async scale(delta) {
    this.#mustRun();
    if (delta > 0) this.#lanes.push(...await this.#bootLanes(delta));
    for (let i = delta; i < 0 && this.#lanes.length > 1; i++) {
      await this.#lanes.pop().close(true, this.context.settings.gracefulTimeout * 1000);
    }
  }

  reopenLogs() { /* no files of its own: the CLI reopens its logs */ }

  get addresses() {
    return this.#addresses;
  }

  stats() {
    return {
      engine: this.name,
      pid: process.pid,
      generation: this.#generation,
      units: this.#lanes.map((lane, id) => {
        const { requests, inFlight } = lane.service.stats();
        return { id, kind: 'process', pid: process.pid, state: 'ready', generation: this.#generation, requests, inFlight, memory: process.memoryUsage.rss(), startedAt: lane.startedAt };
      }),
      restarts: { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: this.#reloads },
    };
  }

  #deal(socket) {
    this.#lanes[this.#turn++ % this.#lanes.length].service.handle(socket);
  }

  /** Each lane imports the app module under its own cache key, so each has its own module state. */
  async #bootLanes(count) {
    const lanes = [];
    try {
      for (let i = 0; i < count; i++) {
        const lane = new InLoopServer({ settings: this.context.settings, app: this.context.app });
        const key = this.#imports++;
        await lane.boot(key === 0 ? undefined : `lane-${key}`);
        lane.startedAt = Date.now();
        lanes.push(lane);
      }
    } catch (error) {
      await Promise.all(lanes.map((lane) => lane.close(false, 0)));
      throw error;
    }
    return lanes;
  }

  #mustRun() {
    if (!this.#running) throw new GatehouseError('ERR_ENGINE_NOT_STARTED');
  }

  #publish(event, detail) {
    channels.engine.publish({ engine: this.name, event, detail });
  }
}

decorate(injectable(), LanesEngine);
decorate(inject(TOKENS.EngineContext), LanesEngine, 0);
