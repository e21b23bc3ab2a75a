/*
 * A per-session event counter for the floods Node's http2 has no limit for (stream resets by
 * the client, SETTINGS and PING frames). It counts in fixed one-second windows: cheap (two
 * numbers, no timer), and a burst straddling a window edge can reach twice the limit, which
 * still bounds the work a session can cause.
 */
export class RateCounter {
  readonly #perSecond: number;
  #windowStart = 0;
  #count = 0;

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** Counts one event at `now` (ms); true when this window's count is over the limit. */
  hit(now: number): boolean {
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#count = 0;
    }
    return ++this.#count > this.#perSecond;
  }
}
