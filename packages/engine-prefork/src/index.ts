/*
 * @gatehouse/engine-prefork public surface: the `prefork` engine class (default export), which
 * `--engine prefork` resolves to and the container constructs. The master's pieces are exported for the hybrid engine, which runs this
 * same master with its own worker body (PreforkOptions.workerEntry; see worker/body.ts).
 */
import { PreforkEngine } from './engine.js';

export { PreforkEngine };
export default PreforkEngine;
export { PREFORK_OPTIONS, type PreforkOptions } from './engine.js';
export { Arbiter, IN_LOOP_BODY, type ArbiterOptions } from './arbiter.js';
export type { ArbiterClock, SpawnWorker, WorkerEvents, WorkerProcess } from './worker-process.js';
export type { WorkerBody, WorkerBodyContext, WorkerBodyFactory, WorkerBodyStats, WorkerUnit } from './worker/body.js';
export { EXIT_BOOT_FAILED, type FromWorker, type ToWorker, type WorkerConfig, type RunningRequest } from './messages.js';
