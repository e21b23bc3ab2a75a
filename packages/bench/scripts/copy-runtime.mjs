#!/usr/bin/env node
// Ships what `serve bench` starts at run time with the published package: the built-in scenario
// apps, the peer servers and the example apps they use (RUNTIME_PATHS in src/scenarios.ts) are
// copied from this repository into the package's runtime/ folder, keeping their relative
// layout so their relative imports still resolve. `prepack` runs it (after the build, which
// pack needs anyway), `postpack` removes the copy; runtime/ is never in git, and in the
// workspace the bench reads the repository's own files. Any file that is missing stops the pack.
// Usage: node scripts/copy-runtime.mjs [--remove]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO = path.join(PACKAGE_DIR, '..', '..');
export const RUNTIME_DIR = path.join(PACKAGE_DIR, 'runtime');

/** Copies RUNTIME_PATHS from the repository into DEST (a folder's .mjs/.js files, or one file); returns the files copied. */
export async function copyRuntime(dest = RUNTIME_DIR) {
  const { RUNTIME_PATHS } = await import(pathToFileURL(path.join(PACKAGE_DIR, 'dist', 'src', 'scenarios.js')).href);
  fs.rmSync(dest, { recursive: true, force: true });
  const copied = [];
  for (const entry of RUNTIME_PATHS) {
    const source = path.join(REPO, entry);
    const files = fs.statSync(source).isDirectory()
      ? fs.readdirSync(source).filter((name) => /\.m?js$/.test(name)).map((name) => path.join(entry, name))
      : [entry];
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO, file), path.join(dest, file));
      copied.push(file);
    }
  }
  return copied;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv.includes('--remove')) {
    fs.rmSync(RUNTIME_DIR, { recursive: true, force: true });
  } else {
    copyRuntime().then(
      (files) => console.error(`copy-runtime: ${files.length} files into ${path.relative(process.cwd(), RUNTIME_DIR) || '.'}`),
      (error) => { console.error(`copy-runtime: ${error.message} (build first: npx --yes pnpm@10.34.8 build)`); process.exitCode = 1; },
    );
  }
}
