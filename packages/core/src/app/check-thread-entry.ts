/*
 * WORKER THREAD started by checkAppInThread: loads the app the way an app thread does and
 * posts the outcome. It never runs the app or its startup hook.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import type { ThreadCheckRequest, ThreadCheckResult } from './check-in-thread.js';
import { loadApp } from './loader.js';

const { spec, cwd, options } = workerData as ThreadCheckRequest;
let result: ThreadCheckResult;
try {
  const loaded = await loadApp({ kind: 'module', spec, cwd }, options);
  result = { ok: true, interface: loaded.interface };
} catch (error) {
  const typed = isGatehouseError(error) ? error as GatehouseError : new GatehouseError('ERR_APP_IMPORT_FAILED', `${spec}\n${String((error as Error)?.stack ?? error)}`);
  result = { ok: false, error: typed.toJSON() };
}
parentPort!.postMessage(result);
