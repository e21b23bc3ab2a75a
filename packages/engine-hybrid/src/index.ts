/*
 * @gatehouse/engine-hybrid public surface: the `hybrid` engine class (default export), which
 * `--engine hybrid` resolves to and the container constructs.
 */
import { HybridEngine } from './engine.js';

export { HybridEngine };
export default HybridEngine;
export { HYBRID_WORKER_BODY } from './engine.js';
export type { HybridWorkerData } from './worker-body.js';
