/*
 * Collecting diagnostics_channel messages in a test: `const errors = collect(channels.requestError)`,
 * then `errors.messages`, and `errors.stop()` (or t.after(errors.stop)) to unsubscribe.
 * `next()` resolves with the next message (or the first one not yet taken).
 */
import type { Channel } from 'node:diagnostics_channel';

export interface Collector<T> {
  readonly messages: T[];
  /** Resolves when a message beyond the ones already taken by next() arrives (or is there). */
  next(timeoutMs?: number): Promise<T>;
  stop(): void;
}

export function collect<T = unknown>(channel: Channel): Collector<T> {
  const messages: T[] = [];
  let taken = 0;
  const waiters: Array<() => void> = [];
  const listener = (message: unknown) => {
    messages.push(message as T);
    for (const waiter of waiters.splice(0)) waiter();
  };
  channel.subscribe(listener);
  return {
    messages,
    next(timeoutMs = 5000) {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message on ${String(channel.name)} within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          if (messages.length > taken) { clearTimeout(timer); resolve(messages[taken++]!); } else waiters.push(check);
        };
        check();
      });
    },
    stop() { channel.unsubscribe(listener); },
  };
}
