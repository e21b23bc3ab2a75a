/*
 * The runtime's own fetch classes, read on first use and never before.
 *
 * Node defines Response, Request and Headers as lazy globals: the first read of any of them
 * compiles its undici bundle, several MiB of RSS in every isolate that does it (docs/benchmarks.md,
 * section 'Memory per unit'). A prefork
 * worker or an app thread serving a Gateway or node:http app never needs them, so nothing in
 * core may read them when a module is imported, only when a fetch app is adapted or served.
 *
 * Read once, and before installFetchGlobals() puts the lightweight Response in place of the
 * global: from then on "native" still means undici's class, not ours.
 */
export interface NativeFetch {
  readonly Response: typeof Response;
  readonly Request: typeof Request;
  readonly Headers: typeof Headers;
  readonly ReadableStream: typeof ReadableStream;
}

let natives: NativeFetch | null = null;

/**
 * Makes the objects of `standIn` pass for the native class's: its prototype chain goes to the
 * native prototype, and every getter and method of that prototype the stand-in does not define
 * itself is forwarded to the real object `real(this)` builds (undici's own getters would run on
 * the stand-in and fail their brand check).
 */
export function forwardToNative<T extends object>(standIn: { prototype: T }, nativePrototype: object, real: (self: T) => object): void {
  const prototype = standIn.prototype;
  Object.setPrototypeOf(prototype, nativePrototype);
  for (const key of Reflect.ownKeys(nativePrototype)) {
    if (key === 'constructor' || key === Symbol.toStringTag || Object.prototype.hasOwnProperty.call(prototype, key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(nativePrototype, key)!;
    if (descriptor.get) {
      Object.defineProperty(prototype, key, {
        configurable: true, enumerable: descriptor.enumerable ?? false,
        get(this: T) { return Reflect.get(real(this), key); },
      });
    } else if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(prototype, key, {
        configurable: true, writable: true, enumerable: descriptor.enumerable ?? false,
        value(this: T, ...args: unknown[]) { return method.apply(real(this), args); },
      });
    }
  }
}

export function nativeFetch(): NativeFetch {
  natives ??= { Response: globalThis.Response, Request: globalThis.Request, Headers: globalThis.Headers, ReadableStream: globalThis.ReadableStream };
  return natives;
}
