/*
 * node-h2, the embedded HTTP/2 load generator (used for --protocol h2c when h2load is not on
 * PATH, and by the tests): Node's http2 client in a child process (node-h2-child.js; child.ts
 * says why a child).
 */
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';
import type { LoadGenerator } from './types.js';

const childPath = fileURLToPath(new URL('./node-h2-child.js', import.meta.url));

export function createNodeH2(): LoadGenerator {
  return { name: 'node-h2', version: `node ${process.version}`, run: (spec) => runChild(childPath, 'node-h2', spec) };
}
