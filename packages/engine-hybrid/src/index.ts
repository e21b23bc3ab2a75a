/*
 * @gatehouse/engine-hybrid public surface. Importing it registers the `hybrid` engine with
 * core's container.
 */
import { registerEngine } from '@gatehouse/core';
import { HybridEngine } from './engine.js';

registerEngine('hybrid', HybridEngine);

export { HybridEngine };
export default HybridEngine;
export { HYBRID_WORKER_BODY } from './engine.js';
export type { HybridWorkerData } from './worker-body.js';
