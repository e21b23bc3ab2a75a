/*
 * A helper thread of every worker process (started by worker/main.ts): it answers the master's
 * requests for the main thread's JavaScript stack, which the main thread cannot answer itself
 * when its event loop is stuck (stack-capture.ts). Requests and answers are lines on the
 * worker's STACK_FD pipe: "stack" in, a JSON StackAnswer out. It imports only node: modules
 * and core's import-free stack-capture, so it costs the process a bare thread.
 */
import { Session } from 'node:inspector';
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { captureStack } from '@gatehouse/core/stack-capture';
import type { StackAnswer, StackThreadData } from '../stack-capture.js';

const { fd, answerTimeoutMs } = workerData as StackThreadData;
const pipe = new net.Socket({ fd, readable: true, writable: true });
pipe.on('error', () => { /* the master went away; the process follows */ });
let pending = '';
pipe.setEncoding('utf8');
pipe.on('data', (chunk: string) => {
  pending += chunk;
  let newline: number;
  while ((newline = pending.indexOf('\n')) >= 0) {
    pending = pending.slice(newline + 1);
    void answer();
  }
});
parentPort?.postMessage('listening');

async function answer(): Promise<void> {
  const session = new Session();
  session.connectToMainThread();
  const frames = await captureStack((expression) => new Promise((resolve, reject) => {
    session.post('Runtime.evaluate', { expression, returnByValue: true }, (error, result) => (error ? reject(error) : resolve(result.result.value)));
  }), answerTimeoutMs);
  session.disconnect();
  const reply: StackAnswer = { frames };
  pipe.write(`${JSON.stringify(reply)}\n`);
}
