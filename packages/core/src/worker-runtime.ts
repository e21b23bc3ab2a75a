/*
 * @gatehouse/core/worker-runtime: what a worker process needs to run the app on its own
 * event loop (a prefork worker: supervision plumbing around InLoopServer), and nothing else.
 * A worker imports this instead of the whole public surface, so it does not load the engine
 * container (inversify, reflect-metadata), the settings parser and CLI tables or the
 * listeners, whose memory every worker process would otherwise carry (docs/benchmarks.md,
 * section 'Memory per unit'). Additive: everything here is also exported from
 * '@gatehouse/core' or '@gatehouse/core/internal'.
 */
export * from './app-runtime.js';
export { InLoopServer } from './engine/in-loop.js';
export { descriptorsExhausted, guardAccept, holdConnections } from './net/accept.js';
export { dropPrivileges } from './net/privileges.js';
export type { UnitStats } from './engine/engine.js';
