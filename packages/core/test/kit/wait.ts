/*
 * Waiting in tests for something that has no event to wait on (a stats field, a file, a
 * process count): poll, bounded, and say what was awaited when it does not come.
 */

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
