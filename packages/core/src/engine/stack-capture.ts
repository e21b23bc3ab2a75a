/*
 * Where a stuck event loop is stuck: the JavaScript stack of a thread that is busy (a
 * `while (true)`, a catastrophic regex), read through V8's inspector protocol before the
 * thread is killed for its silence.
 *
 * Nothing that runs on the stuck thread can help: its timers, signal handlers and message
 * ports wait for the loop, and Node's diagnostic report on signal is a JavaScript listener
 * too, so it is written only once the loop is free. The inspector is the exception: a message
 * to it interrupts the running JavaScript (V8's RequestInterrupt, checked at every loop back
 * edge and call), and a `Runtime.evaluate` runs right there, on top of the stuck frames, so
 * `new Error().stack` inside it lists them (with file URLs and lines, as an error would).
 * Hence the session must be held by another thread of the same process: a helper thread
 * connected to the main thread (prefork workers: `Session.connectToMainThread()`), or the
 * main thread reaching an app thread through the NodeWorker domain (the thread pool).
 * A thread stuck outside JavaScript (a blocking system call, native code) never checks for
 * the interrupt: the capture times out and says so.
 *
 * This module imports nothing, so a helper thread can load it without the rest of core.
 */

/** Runs `Runtime.evaluate` with `returnByValue` on the thread and resolves with the result's value. */
export type Evaluate = (expression: string) => Promise<unknown>;

/** Frames past this many are left out: the top of the stack is where it is stuck. */
export const STACK_FRAMES = 20;

/** Evaluated on the stuck thread: its stack, the evaluation's own two frames included. */
const STACK_EXPRESSION = '(() => { const limit = Error.stackTraceLimit; Error.stackTraceLimit = '
  + `${STACK_FRAMES + 2}; const stack = new Error().stack; Error.stackTraceLimit = limit; return stack; })()`;

/**
 * The thread's JavaScript stack as V8 prints one ("at fn (file:line:col)", innermost first), or
 * null if it did not answer within `timeoutMs` (stuck outside JavaScript).
 */
export function captureStack(evaluate: Evaluate, timeoutMs: number): Promise<string[] | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    evaluate(STACK_EXPRESSION).then((value) => {
      clearTimeout(timer);
      if (typeof value !== 'string') { resolve(null); return; }
      // Drop the "Error" line and the expression's own two frames (the arrow and the script).
      resolve(value.split('\n').slice(3, 3 + STACK_FRAMES).map((line) => line.trim()));
    }, () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}
