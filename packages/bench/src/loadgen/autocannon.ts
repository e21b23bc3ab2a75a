/*
 * autocannon, the embedded HTTP/1.1 load generator (used when wrk is not on PATH, and by the
 * tests). Each run is a child process running autocannon-child.js (child.ts says why).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';
import type { LoadGenerator } from './types.js';

const childPath = fileURLToPath(new URL('./autocannon-child.js', import.meta.url));

export function autocannonVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('autocannon/package.json') as { version: string }).version;
}

export function createAutocannon(): LoadGenerator {
  return { name: 'autocannon', version: autocannonVersion(), run: (spec) => runChild(childPath, 'autocannon', spec) };
}
