/*
 * Signals to the master, mapped to engine calls with Gunicorn's meanings:
 *   TERM, QUIT  graceful stop (finish in-flight requests within graceful-timeout)
 *   INT         fast stop
 *   HUP         zero-downtime reload
 *   TTIN, TTOU  one more / one fewer worker or thread
 *   USR1        reopen log files (logrotate)
 * A second INT or TERM while a stop is under way forces the exit.
 *
 * As in Gunicorn's arbiter, a handler only enqueues; one loop dispatches, so a burst of HUPs
 * cannot interleave two reloads and TTIN/TTOU land in order. A stop is not made to wait behind
 * a running reload: it clears the queue and goes straight to the engine (stop() is always
 * allowed, whatever the engine is doing).
 */
import type { Engine } from './engine.js';

export type EngineAction =
  | { readonly kind: 'stop'; readonly graceful: boolean; readonly timeout?: number }
  | { readonly kind: 'reload' }
  | { readonly kind: 'scale'; readonly delta: 1 | -1 }
  | { readonly kind: 'reopen-logs' };

export const SIGNAL_ACTIONS = {
  SIGTERM: { kind: 'stop', graceful: true },
  SIGQUIT: { kind: 'stop', graceful: true },
  SIGINT: { kind: 'stop', graceful: false },
  SIGHUP: { kind: 'reload' },
  SIGTTIN: { kind: 'scale', delta: 1 },
  SIGTTOU: { kind: 'scale', delta: -1 },
  SIGUSR1: { kind: 'reopen-logs' },
} as const satisfies Readonly<Record<string, EngineAction>>;

export type HandledSignal = keyof typeof SIGNAL_ACTIONS;

/** Calls the engine method for one action. */
export async function applyAction(engine: Engine, action: EngineAction): Promise<void> {
  switch (action.kind) {
    case 'stop': return engine.stop({ graceful: action.graceful, timeout: action.timeout });
    case 'reload': return engine.reload();
    case 'scale': return engine.scale(action.delta);
    case 'reopen-logs': return engine.reopenLogs();
  }
}

export interface ActionLoopHooks {
  /** Before an action runs (the CLI logs it and runs on_reload / reopens its own logs). */
  readonly before?: (action: EngineAction, signal?: HandledSignal) => void | Promise<void>;
  /** An action finished. */
  readonly done?: (action: EngineAction, signal?: HandledSignal) => void;
  /** An action failed (a reload whose new code does not load): logged; the loop goes on. */
  readonly failed?: (action: EngineAction, error: unknown) => void;
  /** A second INT/TERM during a stop: exit now. */
  readonly force?: (signal: HandledSignal) => void;
}

const MAX_QUEUED = 5; // Gunicorn's SIG_QUEUE bound: a signal storm beyond this is dropped, not stored

interface QueuedAction {
  readonly action: EngineAction;
  readonly signal?: HandledSignal;
  /** Callers of perform() wait on these; signals have none. */
  readonly waiters: Array<{ resolve(): void; reject(error: unknown): void }>;
}

/** The master's single dispatcher for signals, --reload and the programmatic API. */
export class ActionLoop {
  readonly #engine: Engine;
  readonly #hooks: ActionLoopHooks;
  readonly #queue: QueuedAction[] = [];
  readonly #installed = new Map<HandledSignal, () => void>();
  #running = false;
  #stopping: Promise<void> | null = null;

  constructor(engine: Engine, hooks: ActionLoopHooks = {}) {
    this.#engine = engine;
    this.#hooks = hooks;
  }

  /** Installs process signal handlers that only enqueue. */
  install(signals: readonly HandledSignal[] = Object.keys(SIGNAL_ACTIONS) as HandledSignal[]): void {
    for (const signal of signals) {
      if (this.#installed.has(signal)) continue;
      const handler = () => this.enqueue(SIGNAL_ACTIONS[signal], signal);
      this.#installed.set(signal, handler);
      process.on(signal, handler);
    }
  }

  uninstall(): void {
    for (const [signal, handler] of this.#installed) process.off(signal, handler);
    this.#installed.clear();
  }

  /** The stop in progress, if any. */
  get stopping(): Promise<void> | null {
    return this.#stopping;
  }

  /** From a signal handler: never throws, never waits. */
  enqueue(action: EngineAction, signal?: HandledSignal): void {
    this.#submit(action, signal, null);
  }

  /** From the API (server.reload(), --reload): waits for this action, and rejects if it failed. */
  perform(action: EngineAction): Promise<void> {
    return new Promise((resolve, reject) => this.#submit(action, undefined, { resolve, reject }));
  }

  #submit(action: EngineAction, signal: HandledSignal | undefined, waiter: QueuedAction['waiters'][number] | null): void {
    if (action.kind === 'stop') {
      if (this.#stopping) {
        if (signal === 'SIGINT' || signal === 'SIGTERM') this.#hooks.force?.(signal);
        if (waiter) this.#stopping.then(waiter.resolve, waiter.resolve);
        return;
      }
      for (const dropped of this.#queue.splice(0)) for (const w of dropped.waiters) w.resolve();
      const item: QueuedAction = { action, signal, waiters: waiter ? [waiter] : [] };
      this.#stopping = this.#run(item);
      return;
    }
    if (this.#stopping) { waiter?.resolve(); return; }
    const last = this.#queue[this.#queue.length - 1];
    if (action.kind === 'reload' && last?.action.kind === 'reload') { // one pending reload covers them all
      if (waiter) last.waiters.push(waiter);
      return;
    }
    if (!waiter && this.#queue.length >= MAX_QUEUED) return;
    this.#queue.push({ action, signal, waiters: waiter ? [waiter] : [] });
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#stopping) await this.#run(this.#queue.shift()!);
    } finally {
      this.#running = false;
    }
  }

  async #run(item: QueuedAction): Promise<void> {
    try {
      await this.#hooks.before?.(item.action, item.signal);
      await applyAction(this.#engine, item.action);
      this.#hooks.done?.(item.action, item.signal);
      for (const w of item.waiters) w.resolve();
    } catch (error) {
      if (item.waiters.length === 0) this.#hooks.failed?.(item.action, error);
      for (const w of item.waiters) w.reject(error);
    }
  }
}
