/*
 * From the file part of an app specifier to one absolute file: a file as given, the same
 * name with a JavaScript extension added, or a directory's package.json "main" (else its
 * index.js / app.js). Everything is resolved against the caller's cwd, never against this
 * package, so `serve examples/hello` means what the user sees in their shell.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../errors/index.js';

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const DIRECTORY_ENTRIES = ['index.js', 'index.mjs', 'index.cjs', 'app.js', 'app.mjs', 'app.cjs'];

export function resolveAppFile(file: string, cwd: string): string {
  const resolved = path.resolve(cwd, file);
  const stat = statOrNull(resolved);
  if (stat?.isFile()) return resolved;
  if (stat?.isDirectory()) return resolveDirectory(resolved);
  for (const extension of EXTENSIONS) {
    if (statOrNull(resolved + extension)?.isFile()) return resolved + extension;
  }
  const parent = path.dirname(resolved);
  const why = statOrNull(parent)?.isDirectory() ? 'no such file' : `directory ${parent} does not exist`;
  throw new GatehouseError('ERR_APP_NOT_FOUND', `${resolved} (${why}; "${file}" was resolved from ${cwd})`);
}

function resolveDirectory(dir: string): string {
  const manifest = path.join(dir, 'package.json');
  if (statOrNull(manifest)?.isFile()) {
    let main: unknown;
    try {
      main = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { main?: unknown }).main;
    } catch (error) {
      throw new GatehouseError('ERR_APP_NOT_FOUND', `${manifest} is not valid JSON (${(error as Error).message})`, { cause: error });
    }
    if (typeof main === 'string' && main !== '') {
      const target = path.resolve(dir, main);
      const stat = statOrNull(target);
      if (stat?.isFile()) return target;
      if (stat?.isDirectory()) return resolveDirectory(target);
      for (const extension of EXTENSIONS) if (statOrNull(target + extension)?.isFile()) return target + extension;
      throw new GatehouseError('ERR_APP_NOT_FOUND', `${target} (the "main" of ${manifest})`);
    }
  }
  for (const entry of DIRECTORY_ENTRIES) {
    const candidate = path.join(dir, entry);
    if (statOrNull(candidate)?.isFile()) return candidate;
  }
  throw new GatehouseError('ERR_APP_NOT_FOUND', `${dir} is a directory with no package.json "main", index.js or app.js`);
}

/** BigInt stats: the path may name a FIFO or socket (see "Synchronous stats" in docs/engines.md). */
function statOrNull(file: string): fs.BigIntStats | null {
  try {
    return fs.statSync(file, { bigint: true });
  } catch {
    return null;
  }
}
