/*
 * A stuck worker says where it was stuck. Before the master kills a worker for --timeout, it
 * asks the worker for its main thread's JavaScript stack, waits at most STACK_WAIT_MS, logs
 * the frames as one record, then kills as before. A worker that does not answer in time
 * (stuck outside JavaScript) is killed all the same. On by default; --no-stack-on-timeout
 * saves the helper thread (docs/engines.md).
 *
 * The stuck loop cannot answer, so a helper thread in the worker does (worker/stack-thread.ts,
 * through core's stack-capture); the request travels on a pipe of its own (STACK_FD), not the
 * IPC channel, whose messages the stuck main thread would have to read. Node's diagnostic
 * report on a signal is no help here: it is written from a JavaScript signal listener, so not
 * until the loop is free.
 */
import type { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { WorkerHandle } from './worker-handle.js';

/** The worker's descriptor for stack requests: fork's stdio slot after the scoreboard (4). */
export const STACK_FD = 5;
/** How long the master waits for a stack before it kills anyway. */
export const STACK_WAIT_MS = 1000;
/** How long the helper thread waits for the main thread to answer (less than the master waits). */
const ANSWER_TIMEOUT_MS = 800;

export interface StackThreadData { readonly fd: number; readonly answerTimeoutMs: number }
/** Null frames: the main thread did not answer in time (stuck outside JavaScript). */
export interface StackAnswer { readonly frames: string[] | null }

const STACK_THREAD = new URL('./worker/stack-thread.js', import.meta.url);

/** The helper has this long to say it is listening before the worker boots without it. */
const THREAD_START_MS = 5000;

/**
 * In the worker, once the app is booted (--stack-on-timeout): starts the helper thread and
 * resolves once it listens (or failed, or took too long), so no request reaches the app
 * while the thread is still starting.
 */
export function startStackThread(): Promise<void> {
  const data: StackThreadData = { fd: STACK_FD, answerTimeoutMs: ANSWER_TIMEOUT_MS };
  const thread = new Worker(STACK_THREAD, { workerData: data, name: 'gatehouse-stack', resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
  thread.unref();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, THREAD_START_MS);
    const done = (): void => { clearTimeout(timer); resolve(); };
    thread.once('message', done);
    thread.once('exit', done);
    // Without it, a stuck worker is killed without its stack.
    thread.on('error', done);
  });
}

/** In the master: the worker's stack over its pipe; null when it does not answer within `timeoutMs`. */
export function requestStack(pipe: Duplex, timeoutMs: number): Promise<string[] | null> {
  return new Promise((resolve) => {
    let received = '';
    const done = (frames: string[] | null): void => {
      clearTimeout(timer);
      pipe.off('data', onData);
      pipe.off('error', onError);
      resolve(frames);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('utf8');
      const newline = received.indexOf('\n');
      if (newline < 0) return;
      try {
        const answer = JSON.parse(received.slice(0, newline)) as StackAnswer;
        done(Array.isArray(answer.frames) ? answer.frames.map(String) : null);
      } catch {
        done(null);
      }
    };
    const onError = (): void => done(null);
    const timer = setTimeout(() => done(null), timeoutMs);
    pipe.on('data', onData);
    pipe.on('error', onError);
    pipe.write('stack\n', (error) => { if (error) done(null); });
  });
}

const capturing = new WeakSet<WorkerHandle>();

/**
 * Kills a worker stuck past --timeout, its stack logged first when it can give one. Returns at
 * once; the kill follows within STACK_WAIT_MS. Repeated calls while the stack is awaited do nothing.
 */
export function killStuck(worker: WorkerHandle, log: (detail: string) => void): void {
  const stack = worker.process.stack;
  if (!stack) { worker.kill('timeout'); return; }
  if (capturing.has(worker)) return;
  capturing.add(worker);
  void stack(STACK_WAIT_MS).then((frames) => {
    log(frames
      ? `${worker.describe()} was stuck at:\n    ${frames.join('\n    ')}`
      : `${worker.describe()} gave no JavaScript stack within ${STACK_WAIT_MS} ms (stuck outside JavaScript: a blocking system call or native code)`);
    worker.kill('timeout');
  });
}
