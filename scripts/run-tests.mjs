#!/usr/bin/env node
// Runs every package's compiled tests (packages/*/dist/test; examples', benchmarks' and scripts' test/)
// in ONE node:test run, so there is one summary for people and for CI to read.
// Usage: node scripts/run-tests.mjs [filter-substring ...]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = [];
for (const pkg of readdirSync(join(root, 'packages'))) roots.push(join(root, 'packages', pkg, 'dist', 'test'));
roots.push(join(root, 'examples', 'test'), join(root, 'benchmarks', 'test'), join(root, 'scripts', 'test'));

const files = [];
const walk = (dir) => {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) { if (name !== 'kit' && name !== 'fixtures' && name !== 'node_modules') walk(full); }
    else if (/\.test\.m?js$/.test(name)) files.push(full);
  }
};
roots.forEach(walk);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  console.error('run-tests: no test files found. Did the build run? (npx --yes pnpm@10.34.8 build)');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...selected], { stdio: 'inherit' });
process.exit(result.status ?? 1);
