/*
 * Installs the lightweight Response (fetch-light-response.ts) as `globalThis.Response` in the
 * process or thread that runs a fetch-interface app, as @hono/node-server does by default.
 * A framework builds its answer with the global (`new Response(text)` in Hono's c.text()), so
 * replacing the global is the only way to make that answer cheap without changing the app.
 *
 * Called by the loader, and only when it has detected (or been told) `interface: fetch` and
 * the `fetchGlobals` setting is on: never in a prefork master, never for a Gateway or node:http
 * app. `Request` is left alone: the adapter's own Request is already lazy (fetch-request.ts),
 * and apps seldom construct one per request. Installing twice is harmless.
 */
import { GatewayFetchResponse, linkToNativeResponse } from './fetch-light-response.js';

let installed = false;

/** Makes the global Response the lightweight one; returns true when it was not already. */
export function installFetchGlobals(): boolean {
  // Link first: it reads undici's Response from the global this replaces.
  linkToNativeResponse();
  installed = true;
  if (globalThis.Response === (GatewayFetchResponse as unknown)) return false;
  // The same attributes the built-in global has (writable, configurable, not enumerable).
  Object.defineProperty(globalThis, 'Response', { value: GatewayFetchResponse, writable: true, configurable: true, enumerable: false });
  return true;
}

/** True when the global Response is Gatehouse's lightweight one. */
export function fetchGlobalsInstalled(): boolean {
  // Not reading the global before any install keeps undici unloaded (native-fetch.ts).
  return installed && globalThis.Response === (GatewayFetchResponse as unknown);
}
