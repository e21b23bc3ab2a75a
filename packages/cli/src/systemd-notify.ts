/*
 * systemd's notify protocol (sd_notify(3)) for Type=notify and Type=notify-reload services:
 * READY=1 once the server is serving, RELOADING=1 / READY=1 around a reload, STOPPING=1 when a
 * stop begins, STATUS= lines for `systemctl status`, and WATCHDOG=1 every half WATCHDOG_USEC.
 *
 * NOTIFY_SOCKET names a unix DATAGRAM socket, and Node has none (node:dgram is UDP only,
 * node:net streams only), so each message is sent by systemd-notify(1), which ships with
 * systemd and so is on every host where NOTIFY_SOCKET is set. It handles every address form
 * systemd uses (paths, abstract `@` names), and it waits (BARRIER=1) until the manager has
 * processed the message before it exits. Messages go one child at a time, in order: the next
 * is spawned only when the previous child has exited, so RELOADING=1 can never overtake the
 * READY=1 before it. The sender is a child of the master, so the unit needs NotifyAccess=all;
 * MAINPID names the master as the service's main process.
 *
 * Watchdog pings are scheduled on the master's event loop: a master whose loop is stuck stops
 * pinging, and systemd restarts it after WatchdogSec.
 *
 * The variables are removed from the environment once read (sd_notify's unset_environment), so
 * that workers and anything the app spawns do not notify as if they were the service.
 */
import { spawn } from 'node:child_process';
import { GatehouseError, type EngineStats } from '@gatehouse/core';
import type { Logger } from 'pino';
import { errorLine, type GatehouseServer } from './server.js';

export interface NotifyTarget {
  /** NOTIFY_SOCKET: a path, or `@name` for an abstract address. */
  readonly socket: string;
  /** WATCHDOG_USEC when it is set for this process (WATCHDOG_PID absent or ours), else null. */
  readonly watchdogUsec: number | null;
}

const VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

/** What systemd asked this process to notify, or null; unsets the variables in `env` either way. */
export function takeNotifyTarget(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): NotifyTarget | null {
  const socket = env.NOTIFY_SOCKET;
  const usecText = env.WATCHDOG_USEC;
  const pidText = env.WATCHDOG_PID;
  for (const name of VARIABLES) delete env[name];
  if (!socket) return null;
  const forUs = pidText === undefined || pidText === '' || Number(pidText) === pid;
  const usec = usecText !== undefined && /^\d{1,15}$/.test(usecText) ? Number(usecText) : 0;
  return { socket, watchdogUsec: forUs && usec > 0 ? usec : null };
}

/** The program that sends one message; its arguments are VARIABLE=VALUE assignments. */
const SENDER = 'systemd-notify';

/** How long close() waits for messages still queued (STOPPING=1) before the process exits. */
const CLOSE_WAIT_MS = 3000;

export class SystemdNotifier {
  readonly #target: NotifyTarget;
  readonly #onError: (error: GatehouseError) => void;
  readonly #queue: string[][] = [];
  #sending = false;
  #failing = false;
  #watchdog: NodeJS.Timeout | null = null;
  #idle: Array<() => void> = [];

  /** onError: a message could not be sent (called once per run of failures). */
  constructor(target: NotifyTarget, onError: (error: GatehouseError) => void) {
    this.#target = target;
    this.#onError = onError;
  }

  /** The first READY=1 names the master as the main process. */
  ready(status: string, first = false): void {
    this.#send(['READY=1', ...(first ? [`MAINPID=${process.pid}`] : []), `STATUS=${status}`]);
  }

  /** MONOTONIC_USEC (CLOCK_MONOTONIC, as process.hrtime is on Linux) lets notify-reload match this to its signal. */
  reloading(status: string): void {
    this.#send(['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, `STATUS=${status}`]);
  }

  status(status: string): void {
    this.#send([`STATUS=${status}`]);
  }

  stopping(status: string): void {
    this.#send(['STOPPING=1', `STATUS=${status}`]);
  }

  /** Pings every half WATCHDOG_USEC (systemd's advice) while the master's loop runs. */
  startWatchdog(): void {
    const usec = this.#target.watchdogUsec;
    if (usec === null || this.#watchdog) return;
    this.#watchdog = setInterval(() => {
      // A ping already waiting covers this one: a slow sender does not pile pings up.
      if (!this.#queue.some((message) => message[0] === 'WATCHDOG=1')) this.#send(['WATCHDOG=1']);
    }, Math.max(1, Math.floor(usec / 2000)));
    this.#watchdog.unref();
  }

  /** Stops pinging and waits (bounded) until the queued messages are sent. */
  async close(): Promise<void> {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    if (!this.#sending) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      this.#idle.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  #send(assignments: string[]): void {
    this.#queue.push(assignments);
    if (!this.#sending) this.#next();
  }

  #next(): void {
    const assignments = this.#queue.shift();
    if (!assignments) {
      this.#sending = false;
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#sending = true;
    let stderr = '';
    let settled = false;
    const finish = (failure: string | null): void => {
      if (settled) return;
      settled = true;
      if (failure !== null && !this.#failing) {
        this.#onError(new GatehouseError('ERR_SYSTEMD_NOTIFY', `${SENDER} ${assignments[0]} to NOTIFY_SOCKET=${this.#target.socket} failed: ${failure}`));
      }
      this.#failing = failure !== null;
      this.#next();
    };
    const child = spawn(SENDER, assignments, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: this.#target.socket },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.on('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ENOENT' ? `${SENDER} is not installed` : error.message));
    child.on('close', (code) => finish(code === 0 ? null : `exit ${code}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
  }
}

export interface SystemdLink {
  /** The first generation serves: READY=1, and the watchdog starts. Reloads and stops are followed from here on. */
  serving(server: GatehouseServer): void;
  /** Waits (bounded) for STOPPING=1 and anything else queued. */
  close(): Promise<void>;
}

/** The master's link to systemd when NOTIFY_SOCKET is set (null otherwise); call before any worker starts. */
export function notifySystemd(env: NodeJS.ProcessEnv, logger: Logger): SystemdLink | null {
  const target = takeNotifyTarget(env);
  if (!target) return null;
  const notifier = new SystemdNotifier(target, (error) => logger.error({ err: error, event: 'systemd-notify-failed' }, error.toLine()));
  return {
    serving(server) {
      notifier.ready(servingStatus(server), true);
      notifier.startWatchdog();
      server.actions.observe({
        begin: (action) => {
          if (action.kind === 'reload') notifier.reloading('reloading');
          if (action.kind === 'stop') notifier.stopping(action.graceful ? 'stopping (graceful)' : 'stopping');
        },
        settled: (action, error) => {
          if (action.kind === 'scale') notifier.status(servingStatus(server));
          if (action.kind !== 'reload') return;
          // READY=1 either way: after a failed reload the previous code serves on.
          notifier.ready(error === undefined ? servingStatus(server) : `reload failed, the previous version is serving: ${errorLine(error)}`);
        },
      });
    },
    close: () => notifier.close(),
  };
}

function servingStatus(server: GatehouseServer): string {
  const stats: EngineStats = server.stats();
  const units = stats.units.filter((unit) => unit.state === 'ready');
  const kind = units[0]?.kind === 'thread' ? 'thread' : 'worker';
  const size = stats.engine === 'single' ? '' : `, ${units.length} ${kind}${units.length === 1 ? '' : 's'}`;
  return `serving on ${server.addresses.map((a) => a.url).join(', ')} (${stats.engine}${size}, generation ${stats.generation})`;
}
