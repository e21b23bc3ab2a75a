/*
 * Which load generator runs: wrk when it is on PATH (it is faster, so it takes less CPU from
 * the server on a small machine), else autocannon. `--loadgen wrk` without wrk is an error,
 * not a silent fallback: a user who asked for wrk figures must not get autocannon's.
 */
import { BenchError } from '../errors.js';
import { createAutocannon } from './autocannon.js';
import { createWrk, wrkVersion } from './wrk.js';
import type { LoadGenerator } from './types.js';

export type LoadgenChoice = 'auto' | 'wrk' | 'autocannon';

export function selectLoadGenerator(choice: LoadgenChoice): LoadGenerator {
  if (choice === 'autocannon') return createAutocannon();
  const version = wrkVersion();
  if (version) return createWrk(version);
  if (choice === 'wrk') throw new BenchError('ERR_BENCH_WRK_MISSING');
  return createAutocannon();
}
