/*
 * The `Date` response header (RFC 9110 §6.6.1: IMF-fixdate, one-second resolution), cached
 * per second. Formatting a date costs far more than a response's other header bytes, and every
 * response in the same second carries the same value, so it is built once per second, lazily:
 * no timer, just a comparison with the second the cached value was built for.
 */

let cachedSecond = -1;
let cachedValue = '';

/** The current IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function httpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    // toUTCString() is exactly IMF-fixdate in every engine Node ships (ECMA-262 §21.4.4.43).
    cachedValue = new Date(second * 1000).toUTCString();
  }
  return cachedValue;
}

/**
 * A string that depends only on the current second, rebuilt when the second changes: the
 * serializer keeps its `date: ...\r\nserver: ...\r\n` tail in one, so a response concatenates
 * one cached string instead of formatting anything.
 */
export class PerSecond {
  #second = -1;
  #value = '';
  constructor(private readonly build: (date: string) => string) {}

  get(now: number = Date.now()): string {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#value = this.build(httpDate(now));
    }
    return this.#value;
  }
}
