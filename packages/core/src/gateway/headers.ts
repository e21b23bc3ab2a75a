/*
 * An ordered, case-insensitive list of header fields. Storage is the flat
 * [name, value, name, value, ...] array the parser produced (names already lower-cased),
 * so building one per request costs one allocation, and `raw` crosses threads as it is.
 */
export type HeaderInit =
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[]>>
  | HeaderList;

export class HeaderList implements Iterable<[string, string]> {
  readonly #raw: string[];

  /** `raw` is adopted, not copied: names must already be lower-case. */
  constructor(raw: string[] = []) {
    this.#raw = raw;
  }

  static from(init: HeaderInit | undefined | null): HeaderList {
    if (init == null) return new HeaderList();
    if (init instanceof HeaderList) return init;
    const raw: string[] = [];
    if (Array.isArray(init)) {
      for (const [name, value] of init as ReadonlyArray<readonly [string, string]>) raw.push(String(name).toLowerCase(), String(value));
    } else {
      for (const [name, value] of Object.entries(init as Record<string, string | number | readonly string[]>)) {
        const lower = name.toLowerCase();
        if (Array.isArray(value)) for (const v of value) raw.push(lower, String(v));
        else raw.push(lower, String(value));
      }
    }
    return new HeaderList(raw);
  }

  /** The flat array, in arrival order. Treat as read-only. */
  get raw(): readonly string[] {
    return this.#raw;
  }

  get size(): number {
    return this.#raw.length >> 1;
  }

  /** The first value of `name`, or null. (Use getAll for fields that may repeat.) */
  get(name: string): string | null {
    const raw = this.#raw;
    const lower = name.toLowerCase();
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === lower) return raw[i + 1]!;
    return null;
  }

  getAll(name: string): string[] {
    const raw = this.#raw;
    const lower = name.toLowerCase();
    const values: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === lower) values.push(raw[i + 1]!);
    return values;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  *entries(): IterableIterator<[string, string]> {
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i += 2) yield [raw[i]!, raw[i + 1]!];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toJSON(): Array<[string, string]> {
    return [...this.entries()];
  }
}
