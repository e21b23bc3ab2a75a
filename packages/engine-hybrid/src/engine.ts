/*
 * The `hybrid` engine (Puma's clustered mode, Gunicorn's gthread): P worker processes, each
 * running the threaded engine's pool of T app threads. It is a composition, not a third
 * implementation: the prefork engine's master (binding, forking, supervision of processes,
 * reload, scale, signals) runs unchanged with a different worker body (worker-body.ts), which
 * runs the threaded engine's ThreadedServer on the listeners each worker receives.
 *
 *   serve app.js --engine hybrid --workers 2 --threads 4      # 2 processes x 4 app threads
 *
 * HUP rolls the processes (a new generation boots its threads, reports ready, then the old
 * one drains), so every module of the app is loaded afresh; TTIN/TTOU add or remove a process.
 */
import 'reflect-metadata';
import { inject, injectable } from 'inversify';
import { TOKENS, type Engine, type EngineContext, type EngineStats, type ListenAddress, type Settings, type StopOptions } from '@gatehouse/core';
import { PreforkEngine } from '@gatehouse/engine-prefork';
import type { HybridWorkerData } from './worker-body.js';

/** The worker body module every hybrid worker process imports. */
export const HYBRID_WORKER_BODY = new URL('./worker-body.js', import.meta.url).href;

@injectable()
export class HybridEngine implements Engine {
  readonly name = 'hybrid';
  readonly #master: PreforkEngine;

  constructor(@inject(TOKENS.EngineContext) context: EngineContext) {
    const workerData: HybridWorkerData = { setupModules: context.setupModules ?? [] };
    this.#master = new PreforkEngine(context, { name: this.name, workerEntry: HYBRID_WORKER_BODY, workerData });
  }

  get closed(): Promise<void> {
    return this.#master.closed;
  }

  get addresses(): readonly ListenAddress[] {
    return this.#master.addresses;
  }

  start(): Promise<void> {
    return this.#master.start();
  }

  stop(options?: StopOptions): Promise<void> {
    return this.#master.stop(options);
  }

  reload(settings?: Readonly<Settings>): Promise<void> {
    return this.#master.reload(settings);
  }

  /** Adds or removes worker processes (each with --threads app threads). */
  scale(delta: number): Promise<void> {
    return this.#master.scale(delta);
  }

  reopenLogs(): void {
    this.#master.reopenLogs();
  }

  /** One unit per process; its app threads are the unit's `children`. */
  stats(): EngineStats {
    return this.#master.stats();
  }
}
