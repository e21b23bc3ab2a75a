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
 *
 * The CLI installs the handlers before the engine starts, so no signal meets Node's default
 * (HUP would kill the process) once a connection can be accepted. While the loop is held
 * (hold() until release(), the engine starting), actions wait: a stop waits for the start to
 * finish and then stops, a second INT/TERM still forces the exit at once.
 */
import type { Engine } from './engine.js';
import type { Settings } from '../settings/table.js';

export type EngineAction =
  | { readonly kind: 'stop'; readonly graceful: boolean; readonly timeout?: number }
  /** `settings`: what the new units start with (a reload that re-read the config). */
  | { readonly kind: 'reload'; readonly settings?: Readonly<Settings> }
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
    case 'reload': return action.settings ? engine.reload(action.settings) : engine.reload();
    case 'scale': return engine.scale(action.delta);
    case 'reopen-logs': return engine.reopenLogs();
  }
}

export interface ActionLoopHooks {
  /**
   * Before an action runs (the CLI logs it, runs on_reload, reopens its own logs, re-reads the
   * config for a reload). What it returns is the action that runs; if it throws, the action
   * fails without reaching the engine.
   */
  readonly before?: (action: EngineAction, signal?: HandledSignal) => void | EngineAction | Promise<void | EngineAction>;
  /** An action finished. */
  readonly done?: (action: EngineAction, signal?: HandledSignal) => void;
  /** An action failed (a reload whose new code does not load): logged; the loop goes on. */
  readonly failed?: (action: EngineAction, error: unknown) => void;
  /** A second INT/TERM during a stop: exit now. */
  readonly force?: (signal: HandledSignal) => void;
}

/** Watches every action, however it was asked for (signal, API, --reload): the systemd notifier. Called synchronously; must not throw. */
export interface ActionObserver {
  readonly begin?: (action: EngineAction) => void;
  /** The action finished (error undefined) or failed. */
  readonly settled?: (action: EngineAction, error?: unknown) => void;
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
  readonly #observers: ActionObserver[] = [];
  #running = false;
  #stopping: Promise<void> | null = null;
  #held = false;
  #heldStop: QueuedAction | null = null;

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

  observe(observer: ActionObserver): void {
    this.#observers.push(observer);
  }

  /** Until release(): actions queue (at most one stop, which then drops the rest) and none runs. */
  hold(): void {
    this.#held = true;
  }

  /** Runs what queued while held: the stop if one came, else the queue in order. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    const stop = this.#heldStop;
    this.#heldStop = null;
    if (stop) this.#stopping = this.#run(stop);
    else if (this.#queue.length > 0 && !this.#running) void this.#drain();
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
      if (this.#heldStop) {
        if (signal === 'SIGINT' || signal === 'SIGTERM') this.#hooks.force?.(signal);
        if (waiter) this.#heldStop.waiters.push(waiter);
        return;
      }
      if (this.#stopping) {
        if (signal === 'SIGINT' || signal === 'SIGTERM') this.#hooks.force?.(signal);
        if (waiter) this.#stopping.then(waiter.resolve, waiter.resolve);
        return;
      }
      for (const dropped of this.#queue.splice(0)) for (const w of dropped.waiters) w.resolve();
      const item: QueuedAction = { action, signal, waiters: waiter ? [waiter] : [] };
      if (this.#held) this.#heldStop = item;
      else this.#stopping = this.#run(item);
      return;
    }
    if (this.#stopping || this.#heldStop) { waiter?.resolve(); return; }
    const last = this.#queue[this.#queue.length - 1];
    if (action.kind === 'reload' && last?.action.kind === 'reload') { // one pending reload covers them all
      if (waiter) last.waiters.push(waiter);
      return;
    }
    if (!waiter && this.#queue.length >= MAX_QUEUED) return;
    this.#queue.push({ action, signal, waiters: waiter ? [waiter] : [] });
    if (!this.#running && !this.#held) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#stopping && !this.#held) await this.#run(this.#queue.shift()!);
    } finally {
      this.#running = false;
    }
  }

  async #run(item: QueuedAction): Promise<void> {
    let failure: { readonly error: unknown } | null = null;
    try {
      const action = (await this.#hooks.before?.(item.action, item.signal)) ?? item.action;
      for (const observer of this.#observers) observer.begin?.(action);
      await applyAction(this.#engine, action);
      this.#hooks.done?.(item.action, item.signal);
    } catch (error) {
      failure = { error };
    }
    for (const observer of this.#observers) observer.settled?.(item.action, failure?.error);
    if (!failure) {
      for (const w of item.waiters) w.resolve();
      return;
    }
    if (item.waiters.length === 0) this.#hooks.failed?.(item.action, failure.error);
    for (const w of item.waiters) w.reject(failure.error);
  }
}
