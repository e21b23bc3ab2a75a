/*
 * What the arbiter needs from the outside world, behind two small seams so that it can be run
 * without forking: a WorkerProcess (made by a SpawnWorker factory) and an ArbiterClock. The real
 * factory forks worker/main.ts; tests give fake workers that send ready/heartbeat/exit as told
 * and a clock they advance by hand.
 *
 * The scoreboard: every forked worker gets a small file of its own (unlinked at once, shared
 * as descriptor SCOREBOARD_FD (messages.ts), in the manner of Apache's scoreboard and Gunicorn's WorkerTmp).
 * The worker writes into it synchronously, with one pwrite, the request its event loop is
 * running, as each request starts and as the one named there ends. A heartbeat can only say
 * what was true when it was sent, so a loop that blocks right after would be misnamed; the
 * file still says what was running when the loop stopped, and the master reads it when the
 * worker has gone silent.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SCOREBOARD_BYTES, type RunningRequest, type ToWorker } from './messages.js';
import { STACK_FD, requestStack } from './stack-capture.js';

const WORKER_MAIN = fileURLToPath(new URL('./worker/main.js', import.meta.url));

/** The master's handle on one worker process, real or fake. */
export interface WorkerProcess {
  /** 0 when there is none (fork failed). */
  readonly pid: number;
  readonly connected: boolean;
  /** `done` runs once the message (and its handle) is written or has failed. */
  send(message: ToWorker, handle?: net.Socket | object, keepOpen?: boolean, done?: (error: Error | null) => void): void;
  /** SIGKILL. */
  kill(): void;
  /** The request the worker's scoreboard names as running, if any. */
  running(): RunningRequest | null;
  /** Its main thread's JavaScript stack, asked for before a kill for --timeout (stack-capture.ts); absent on fakes. */
  stack?(timeoutMs: number): Promise<string[] | null>;
}

/** What a worker process reports, as it happens. */
export interface WorkerEvents {
  message(message: unknown, handle?: net.Socket): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  error(error: Error): void;
}

/** Starts one worker process; throws when it cannot (EAGAIN, ENOMEM). Events come later, never during the call. */
export type SpawnWorker = (unit: { readonly id: number; readonly generation: number }, events: WorkerEvents) => WorkerProcess;

/** Monotonic milliseconds and timers; each timer call returns its cancel function. */
export interface ArbiterClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): () => void;
  setInterval(callback: () => void, ms: number): () => void;
}

export const systemClock: ArbiterClock = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
  setInterval(callback, ms) {
    const timer = setInterval(callback, ms);
    return () => clearInterval(timer);
  },
};

/** The real factory: forks worker/main.ts with the master's node flags, a scoreboard and, with --stack-on-timeout, a pipe to ask for its stack. */
export function forkWorker(execArgv: readonly string[], options: { readonly stackPipe?: boolean } = {}): SpawnWorker {
  return (unit, events) => {
    let board = openScoreboard(unit.id);
    // Closed once the worker is gone, and never read after: the descriptor number may be reused.
    const closeBoard = (): void => {
      if (board !== null) fs.close(board, () => {});
      board = null;
    };
    try {
      const child = fork(WORKER_MAIN, [], { execArgv: [...execArgv], stdio: ['inherit', 'inherit', 'inherit', 'ipc', board ?? 'ignore', ...(options.stackPipe ? ['pipe' as const] : [])], serialization: 'json' });
      child.on('message', (message: unknown, handle?: net.Socket) => events.message(message, handle));
      const stackPipe = (child.stdio as unknown[])[STACK_FD] as net.Socket | null | undefined;
      stackPipe?.on('error', () => { /* the worker is gone; a request for its stack finds no answer */ });
      stackPipe?.unref(); // a pending stack request must not keep the master alive
      child.once('exit', (code, signal) => {
        closeBoard();
        events.exit(code, signal);
      });
      child.on('error', (error) => {
        events.error(error);
        // fork() failed after all; without a pid there will be no 'exit'.
        if (child.pid === undefined) { closeBoard(); events.exit(null, null); }
      });
      return {
        get pid() { return child.pid ?? 0; },
        get connected() { return child.connected; },
        send(message, handle, keepOpen = false, done) {
          if (!child.connected) { done?.(new Error('worker channel closed')); return; }
          try {
            child.send(message, handle as net.Server, { keepOpen }, (error) => done?.(error ?? null));
          } catch (error) {
            done?.(error as Error);
          }
        },
        kill() {
          try { child.kill('SIGKILL'); } catch { /* already gone */ }
        },
        running: () => (board === null ? null : readScoreboard(board)),
        ...(stackPipe ? { stack: (timeoutMs: number) => requestStack(stackPipe, timeoutMs) } : {}),
      };
    } catch (error) {
      closeBoard();
      throw error;
    }
  };
}

/** An unlinked file of the master's; null when the temp directory will not have one (the worker then runs without). */
function openScoreboard(id: number): number | null {
  const file = path.join(os.tmpdir(), `gatehouse-${process.pid}-${id}-${Date.now().toString(36)}.board`);
  try {
    const fd = fs.openSync(file, 'wx+', 0o600);
    fs.unlinkSync(file);
    return fd;
  } catch {
    return null;
  }
}

function readScoreboard(fd: number): RunningRequest | null {
  try {
    const buffer = Buffer.alloc(SCOREBOARD_BYTES);
    const length = fs.readSync(fd, buffer, 0, SCOREBOARD_BYTES, 0);
    const line = buffer.subarray(0, length).toString('utf8').split('\n')[0]!;
    if (!line) return null;
    const parsed = JSON.parse(line) as RunningRequest;
    return typeof parsed.method === 'string' && typeof parsed.path === 'string' && typeof parsed.startedAt === 'number' ? parsed : null;
  } catch {
    return null; // closed, or torn by a worker killed mid-write: nothing to say
  }
}
