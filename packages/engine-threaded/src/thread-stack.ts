/*
 * A stuck app thread says where it was stuck: before the pool terminates a thread for
 * --timeout, the I/O thread (whose loop is free) reads the app thread's JavaScript stack
 * through an inspector session of its own, reaching the app thread with the NodeWorker
 * domain, and logs it. core's stack-capture explains why the inspector can interrupt a busy
 * loop when nothing else can. Bounded: a thread that does not answer within STACK_WAIT_MS
 * (stuck outside JavaScript) is terminated all the same.
 */
import { Session } from 'node:inspector';
import { Worker } from 'node:worker_threads';
import { captureStack } from '@gatehouse/core/stack-capture';
import type { AppThread } from './app-thread.js';

/** How long a stuck thread's termination waits for its stack. */
export const STACK_WAIT_MS = 1000;

const capturing = new WeakSet<AppThread>();

/**
 * Terminates a thread stuck past --timeout, its stack logged first when it gives one. Returns
 * at once; repeated calls while the stack is awaited do nothing. Threads that are not real
 * Workers (a test's fakes) are terminated at once.
 */
export function killStuckThread(thread: AppThread, log: (detail: string) => void): void {
  if (!(thread.worker instanceof Worker)) { thread.kill('timeout'); return; }
  if (capturing.has(thread)) return;
  capturing.add(thread);
  void threadStack(thread.threadId, STACK_WAIT_MS).then((frames) => {
    log(frames
      ? `thread ${thread.id} (thread id ${thread.threadId}) was stuck at:\n    ${frames.join('\n    ')}`
      : `thread ${thread.id} (thread id ${thread.threadId}) gave no JavaScript stack within ${STACK_WAIT_MS} ms (stuck outside JavaScript: a blocking call or native code)`);
    thread.kill('timeout');
  });
}

/** The app thread's stack, from this (the I/O) thread; null if it does not answer in time. */
async function threadStack(threadId: number, timeoutMs: number): Promise<string[] | null> {
  const session = new Session();
  session.connect();
  let sessionId: string | null = null;
  let nextId = 0;
  const answers = new Map<number, (value: unknown, error?: Error) => void>();
  session.on('NodeWorker.receivedMessageFromWorker', (message: { params: { sessionId: string; message: string } }) => {
    if (message.params.sessionId !== sessionId) return;
    const reply = JSON.parse(message.params.message) as { id?: number; result?: { result?: { value?: unknown } }; error?: { message: string } };
    if (reply.id === undefined) return;
    answers.get(reply.id)?.(reply.result?.result?.value, reply.error ? new Error(reply.error.message) : undefined);
    answers.delete(reply.id);
  });
  const attached = new Promise<string>((resolve) => {
    // workerId is the inspector's own numbering; the title is "[worker <threadId>] <name>".
    session.on('NodeWorker.attachedToWorker', (message: { params: { sessionId: string; workerInfo: { title: string } } }) => {
      if (message.params.workerInfo.title.startsWith(`[worker ${threadId}]`)) resolve(message.params.sessionId);
    });
  });
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  try {
    return await captureStack(async (expression) => {
      sessionId = await attached;
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        answers.set(id, (value, error) => (error ? reject(error) : resolve(value)));
        session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }) });
      });
    }, timeoutMs);
  } finally {
    if (sessionId !== null) session.post('NodeWorker.detach', { sessionId });
    session.post('NodeWorker.disable');
    session.disconnect();
  }
}
