/*
 * `--check-config` for an engine that runs the app in worker threads: the app is loaded in a
 * fresh worker thread, as an app thread loads it (same loader, same module-loader set-up), so a
 * TypeScript app without a loader that reaches threads fails the check as it would fail to
 * start. The thread posts back the interface it found or the load error as data.
 */
import { Worker } from 'node:worker_threads';
import { GatehouseError, type SerializedError } from '../errors/index.js';
import type { LoadOptions } from './loader.js';

export interface ThreadCheckRequest {
  readonly spec: string;
  readonly cwd: string;
  readonly options: Pick<LoadOptions, 'interface'>;
}

export type ThreadCheckResult = { readonly ok: true; readonly interface: string } | { readonly ok: false; readonly error: SerializedError };

const ENTRY = new URL('./check-thread-entry.js', import.meta.url);

/** Loads the app in a worker thread and resolves with the interface it was adapted from; rejects with the load error. */
export async function checkAppInThread(spec: string, cwd: string, options: Pick<LoadOptions, 'interface'> = {}): Promise<string> {
  const request: ThreadCheckRequest = { spec, cwd, options };
  const worker = new Worker(ENTRY, { workerData: request, name: 'gatehouse-check' });
  const result = await new Promise<ThreadCheckResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new GatehouseError('ERR_APP_IMPORT_FAILED', `${spec}: the check thread exited (code ${code}) before loading the app`)));
  });
  await worker.terminate();
  if (!result.ok) throw GatehouseError.fromJSON(result.error);
  return result.interface;
}
