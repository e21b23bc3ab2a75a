/*
 * Which load generator runs, by protocol:
 * - http1: wrk when it is on PATH (it is faster, so it takes less CPU from the server on a small
 *   machine), else autocannon;
 * - h2c: h2load (nghttp2) when it is on PATH, else node-h2, a Node http2 client in a child.
 * Naming a generator that is not installed is an error, not a silent fallback: a user who
 * asked for wrk or h2load figures must not get another generator's.
 */
import { BenchError } from '../errors.js';
import type { BenchProtocol } from '../options.js';
import { createAutocannon } from './autocannon.js';
import { createH2load, h2loadVersion } from './h2load.js';
import { createNodeH2 } from './node-h2.js';
import { createWrk, wrkVersion } from './wrk.js';
import type { LoadGenerator } from './types.js';

export type LoadgenChoice = 'auto' | 'wrk' | 'autocannon' | 'h2load' | 'node-h2';

/** The generators that speak each protocol. */
export const LOADGENS_FOR: Readonly<Record<BenchProtocol, readonly LoadgenChoice[]>> = {
  http1: ['auto', 'wrk', 'autocannon'],
  h2c: ['auto', 'h2load', 'node-h2'],
};

export function selectLoadGenerator(choice: LoadgenChoice, protocol: BenchProtocol = 'http1'): LoadGenerator {
  if (protocol === 'h2c') {
    if (choice === 'node-h2') return createNodeH2();
    const version = h2loadVersion();
    if (version) return createH2load(version);
    if (choice === 'h2load') throw new BenchError('ERR_BENCH_H2LOAD_MISSING');
    return createNodeH2();
  }
  if (choice === 'autocannon') return createAutocannon();
  const version = wrkVersion();
  if (version) return createWrk(version);
  if (choice === 'wrk') throw new BenchError('ERR_BENCH_WRK_MISSING');
  return createAutocannon();
}
