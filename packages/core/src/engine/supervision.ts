/*
 * The supervision policy every engine applies to its units (worker processes, app threads):
 * when to beat, when a unit is overdue, when to recycle it, how long to wait before
 * replacing one that died while booting, and what to count. It decides; it never acts. No
 * timers, no processes, no threads: the supervisor (the prefork arbiter, the thread pool)
 * owns those, calls in with what it saw, and does what it is told. Time comes from an
 * injectable clock, so the rules are tested with a fake one.
 *
 * Liveness follows Gunicorn's `--timeout`: a unit silent for `timeout` is stuck and is
 * replaced, and 0 turns the check off (units still beat, to report memory). The supervisor
 * itself can be frozen (SIGSTOP of the process group, a VM pause, a debugger): then its units
 * were frozen too, or at least could not be heard, so when its own passes come late it
 * restarts every unit's clock instead of blaming them for time it lost.
 */
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';

/** Milliseconds from a monotonic origin. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();

export type RestartCause = 'crash' | 'timeout' | 'max-requests' | 'memory' | 'reload';
export type RestartCounts = Record<RestartCause, number>;

/** The restart record of EngineStats, every cause at zero. */
export function restartCounts(): RestartCounts {
  return { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: 0 };
}

/** Beats are at most this far apart, so memory figures stay fresh even with a long timeout. */
const MAX_HEARTBEAT_MS = 1000;
/** Beats are at least this far apart: a tiny timeout must not turn beats into a busy loop. */
const MIN_HEARTBEAT_MS = 50;

/** How often a unit beats (and its supervisor looks): a quarter of the timeout, within 50 ms..1 s; 1 s when liveness is off. */
export function heartbeatInterval(timeoutSeconds: number): number {
  if (!(timeoutSeconds > 0)) return MAX_HEARTBEAT_MS;
  return Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, Math.floor((timeoutSeconds * 1000) / 4)));
}

export interface LivenessOptions {
  /** --timeout in seconds; 0 = no liveness check. */
  readonly timeoutSeconds: number;
  /** A unit that has not been ready yet gets at least this long (start-up of a runtime on a busy machine). */
  readonly bootTimeoutMs?: number;
  readonly clock?: Clock;
}

interface Watch { lastSign: number; ready: boolean }

/**
 * The liveness clocks of a supervisor's units. The supervisor calls `overdue()` on every pass
 * (at least every `intervalMs`); a gap between passes (or before the first, counted from
 * construction) longer than `stallMs` means the supervisor itself did not run, and every clock
 * restarts. Only passes count as the supervisor running: after a freeze, one unit's beat may
 * be read before the pass, while the others' are still on their way.
 */
export class Liveness<Unit> {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** A pass later than this after the previous one: the supervisor was frozen. */
  readonly stallMs: number;
  readonly #bootTimeoutMs: number;
  readonly #clock: Clock;
  readonly #units = new Map<Unit, Watch>();
  /** The previous pass, or construction: a freeze before the first pass is a freeze too. */
  #lastPass: number;
  #stalls = 0;

  constructor(options: LivenessOptions) {
    this.timeoutMs = options.timeoutSeconds > 0 ? options.timeoutSeconds * 1000 : 0;
    this.intervalMs = heartbeatInterval(options.timeoutSeconds);
    // Half the timeout: a healthy unit is at most about an interval (a quarter) behind, so a
    // freeze shorter than this cannot push it past the timeout, and a longer one is forgiven.
    this.stallMs = Math.max(2 * this.intervalMs, this.timeoutMs / 2);
    this.#bootTimeoutMs = Math.max(this.timeoutMs, options.bootTimeoutMs ?? 0);
    this.#clock = options.clock ?? monotonicClock;
    this.#lastPass = this.#clock();
  }

  /** False with --timeout 0: no unit is ever overdue. */
  get enabled(): boolean {
    return this.timeoutMs > 0;
  }

  /** How many times the supervisor found itself frozen and restarted the clocks. */
  get stalls(): number {
    return this.#stalls;
  }

  /** Starts a unit's clock (it is booting). */
  watch(unit: Unit): void {
    this.#units.set(unit, { lastSign: this.#clock(), ready: false });
  }

  /** A sign of life: a beat, or any message from the unit. */
  beat(unit: Unit): void {
    const watch = this.#units.get(unit);
    if (watch) watch.lastSign = this.#clock();
  }

  /** The unit is ready: from now on it has `timeout`, not the boot allowance. */
  ready(unit: Unit): void {
    const watch = this.#units.get(unit);
    if (watch) { watch.ready = true; watch.lastSign = this.#clock(); }
  }

  forget(unit: Unit): void {
    this.#units.delete(unit);
  }

  /** Milliseconds since the unit's last sign of life (0 for a unit not watched). */
  silentFor(unit: Unit): number {
    const watch = this.#units.get(unit);
    return watch ? this.#clock() - watch.lastSign : 0;
  }

  /**
   * One supervisor pass: the units silent past their limit, to be killed. Empty when liveness
   * is off, and when this pass came so late that the supervisor itself was frozen (every clock
   * restarts from now instead).
   */
  overdue(): Unit[] {
    const now = this.#clock();
    const previous = this.#lastPass;
    this.#lastPass = now;
    if (now - previous > this.stallMs) {
      this.#stalls++;
      for (const watch of this.#units.values()) watch.lastSign = now;
      return [];
    }
    if (!this.enabled) return [];
    const late: Unit[] = [];
    for (const [unit, watch] of this.#units) {
      if (now - watch.lastSign > (watch.ready ? this.timeoutMs : this.#bootTimeoutMs)) late.push(unit);
    }
    return late;
  }
}

/** The requests after which one unit is recycled: drawn once per unit in [max, max + jitter]; Infinity when max is 0. */
export function recycleAfter(maxRequests: number, jitter: number, random: (maxExclusive: number) => number = (n) => randomInt(0, n)): number {
  if (!(maxRequests > 0)) return Infinity;
  return maxRequests + (jitter > 0 ? random(Math.floor(jitter) + 1) : 0);
}

/** Fraction of a memory limit at which a unit is recycled, before the hard limit kills it. */
export const MEMORY_RECYCLE_FRACTION = 0.9;

/** The usage past which a unit is recycled; Infinity when there is no limit. */
export function memoryRecycleMark(limitBytes: number): number {
  return limitBytes > 0 ? limitBytes * MEMORY_RECYCLE_FRACTION : Infinity;
}

export function shouldRecycleForMemory(usedBytes: number, limitBytes: number): boolean {
  return usedBytes > memoryRecycleMark(limitBytes);
}

export const BOOT_BACKOFF_BASE_MS = 1000;
export const BOOT_BACKOFF_MAX_MS = 30_000;

/**
 * Back-off for early crashes (a unit that dies before it is ready): the first waits 1 s, each
 * one after doubles the wait, up to 30 s; a unit that comes up resets it. Never a respawn loop.
 */
export class BootBackoff {
  readonly #clock: Clock;
  readonly #baseMs: number;
  readonly #maxMs: number;
  #crashes = 0;
  #delayMs = 0;
  #until = 0;

  constructor(options: { clock?: Clock; baseMs?: number; maxMs?: number } = {}) {
    this.#clock = options.clock ?? monotonicClock;
    this.#baseMs = options.baseMs ?? BOOT_BACKOFF_BASE_MS;
    this.#maxMs = options.maxMs ?? BOOT_BACKOFF_MAX_MS;
  }

  /** Early crashes in a row since a unit last came up. */
  get crashes(): number {
    return this.#crashes;
  }

  /** The wait the last early crash imposed (0 after a reset). */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** Records an early crash; returns how long to wait before the next spawn. */
  crashed(): number {
    this.#crashes++;
    this.#delayMs = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#crashes - 1, 30));
    this.#until = this.#clock() + this.#delayMs;
    return this.#delayMs;
  }

  /** A unit came up: the next early crash waits the base delay again. */
  reset(): void {
    this.#crashes = 0;
    this.#delayMs = 0;
    this.#until = 0;
  }

  /** Milliseconds until a spawn is allowed; 0 = now. */
  wait(): number {
    return Math.max(0, this.#until - this.#clock());
  }
}

/** How long identical log lines are folded into one before the line is written again. */
const REPEAT_WINDOW_MS = 60_000;

/**
 * Folds a line that keeps repeating (a unit that cannot boot, every back-off) into one line a
 * minute: the first is written as is, the same key again within the window is counted and
 * dropped, and the next one written says how many times it happened, "(repeated N times)".
 */
export class RepeatedLine {
  readonly #clock: Clock;
  readonly #windowMs: number;
  #key: string | null = null;
  #count = 0;
  #writtenAt = 0;

  constructor(options: { clock?: Clock; windowMs?: number } = {}) {
    this.#clock = options.clock ?? monotonicClock;
    this.#windowMs = options.windowMs ?? REPEAT_WINDOW_MS;
  }

  /** The line to write for this occurrence of `key`, or null to stay quiet. */
  next(key: string, line: string = key): string | null {
    const now = this.#clock();
    if (key !== this.#key) {
      this.#key = key;
      this.#count = 1;
      this.#writtenAt = now;
      return line;
    }
    this.#count++;
    if (now - this.#writtenAt < this.#windowMs) return null;
    this.#writtenAt = now;
    return `${line} (repeated ${this.#count} times)`;
  }

  /** Forgets the last key: the next line is written whatever it is. */
  reset(): void {
    this.#key = null;
    this.#count = 0;
  }
}
