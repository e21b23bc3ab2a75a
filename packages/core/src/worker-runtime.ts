/*
 * @gatehouse/core/worker-runtime: what a worker process needs to run the app on its own
 * event loop (a prefork worker: supervision plumbing around InLoopServer), and nothing else.
 * A worker imports this instead of the whole public surface, so it does not load the engine
 * container (inversify, reflect-metadata), the settings parser and CLI tables, the engine
 * registry or the listeners: about 7 MiB less RSS in every worker process. Additive:
 * everything here is also exported from '@gatehouse/core'.
 */
export * from './app-runtime.js';
export { InLoopServer } from './engine/in-loop.js';
export { descriptorsExhausted, guardAccept } from './engine/accept.js';
export { dropPrivileges } from './net/privileges.js';
export type { UnitStats } from './engine/engine.js';
