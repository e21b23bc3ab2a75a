/*
 * Importing the app's entry module and turning every way that can fail into one clear
 * GatehouseError. Node 20 gives an ES module's syntax error without its location (only the
 * uncaught-exception printer sees it), so on that path we ask `node --check`, which prints
 * file:line and the offending line, for the entry and then for the local modules it imports.
 * That costs a child process per file, only when loading has already failed (and
 * node:child_process is imported only then: it drags net, dgram and tty into every app thread).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { GatehouseError } from '../errors/index.js';
import { applyLoadersInThread } from './thread-loaders.js';

const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)$/;
const requireFromHere = createRequire(import.meta.url);
const LOADER_DIR = new URL('.', import.meta.url).href;

export type ModuleNamespace = Record<string, unknown>;

/**
 * A module named as a user names it (a setup module, a worker body): a path, relative to
 * `cwd`, becomes a file URL; a URL or a package name is left for import() to resolve.
 */
export function importableSpecifier(spec: string, cwd: string = process.cwd()): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return pathToFileURL(path.resolve(cwd, spec)).href;
  return spec;
}

export async function importAppModule(file: string, cacheBust?: string): Promise<ModuleNamespace> {
  let url = pathToFileURL(file).href;
  if (cacheBust) {
    url += `?v=${encodeURIComponent(cacheBust)}`;
    // A CommonJS entry is cached by file name, not URL: forget it so the reload evaluates it afresh.
    delete requireFromHere.cache[file];
  }
  await applyLoadersInThread();
  try {
    return await import(url) as ModuleNamespace;
  } catch (error) {
    throw await explainImportError(error, file);
  }
}

async function explainImportError(error: unknown, file: string): Promise<GatehouseError> {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.test(String((error as Error).message))) {
    return new GatehouseError('ERR_APP_TYPESCRIPT', String((error as Error).message).replace(/^Unknown file extension "\.\w+" for /, ''), { cause: error });
  }
  const syntax = await syntaxErrorAt(error, file);
  if (syntax) return new GatehouseError('ERR_APP_SYNTAX', syntax, { cause: error });
  return new GatehouseError('ERR_APP_IMPORT_FAILED', `${file}\n${appStack(error)}`, { cause: error });
}

/**
 * For an import of `file` that failed with a syntax error: `FILE:LINE`, the line and a caret,
 * then the error (or where to look when Node cannot say). Null for any other failure. Config
 * files are imported the same way and report their syntax errors with this too.
 */
export async function syntaxErrorAt(error: unknown, file: string): Promise<string | null> {
  if (!(error instanceof SyntaxError)) return null;
  const located = locationHeader(error.stack ?? '');
  if (located) return `${located}\n${error.name}: ${error.message}`;
  if (!isCompileError(error)) return null;
  return await findSyntaxError(file) ?? `in ${file} or a module it imports (the location is unknown: run node --check on them)\n${error.name}: ${error.message}`;
}

/** The app's own view of an error: its stack without Node's internal frames. */
export function appStack(error: unknown): string {
  if (!(error instanceof Error)) return `${typeof error === 'string' ? error : String(error)} (a non-Error value was thrown)`;
  const lines = (error.stack ?? `${error.name}: ${error.message}`).split('\n');
  // Frames from here on are the loader and whoever called it: not the app's business.
  const ours = lines.findIndex((line) => /^\s+at /.test(line) && line.includes(LOADER_DIR));
  return lines.slice(0, ours === -1 ? lines.length : ours).filter((line) => !/^\s+at .*\bnode:internal\//.test(line)).join('\n');
}

/**
 * Errors raised while compiling or linking a module carry "FILE:LINE", the source line and a
 * caret above the message (CommonJS compile errors, missing named imports).
 */
function locationHeader(stack: string): string | null {
  const lines = stack.split('\n');
  if (!/^(?:file:\/\/|\/|[A-Za-z]:\\).*:\d+$/.test(lines[0] ?? '')) return null;
  const header: string[] = [];
  for (const line of lines) {
    if (line.trim() === '' || /^\w*Error: /.test(line)) break;
    header.push(line);
  }
  const [, location, line] = /^(.*)(:\d+)$/.exec(header[0]!)!;
  if (location!.startsWith('file://')) header[0] = fileURLToPath(location!) + line;
  return header.join('\n');
}

/** A SyntaxError thrown by the compiler has no frame in user code; one thrown by JSON.parse at import time does. */
function isCompileError(error: SyntaxError): boolean {
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return frames.every((line) => /\bnode:internal\//.test(line));
}

const MAX_FILES_CHECKED = 25;
const LOCAL_IMPORT = /(?:^|[\s;}])(?:import|export)\s*(?:[\w*${}\s,]+from\s*)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Runs `node --check` on the entry, then breadth-first on the local files it imports. */
async function findSyntaxError(entry: string): Promise<string | null> {
  const queue = [entry];
  const seen = new Set(queue);
  while (queue.length > 0 && seen.size <= MAX_FILES_CHECKED) {
    const file = queue.shift()!;
    const report = await nodeCheck(file);
    if (report) return report;
    let source: string;
    try { source = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const match of source.matchAll(LOCAL_IMPORT)) {
      const next = path.resolve(path.dirname(file), match[1] ?? match[2]!);
      if (!seen.has(next) && fs.existsSync(next)) { seen.add(next); queue.push(next); }
    }
  }
  return null;
}

async function nodeCheck(file: string): Promise<string | null> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--check', file], { timeout: 10_000, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return resolve(null);
      // stderr: "FILE:LINE\nsource line\n   ^^^\n\nSyntaxError: message\n    at checkSyntax ..."
      const lines = stderr.split('\n');
      const end = lines.findIndex((line) => /^\s+at /.test(line));
      const report = lines.slice(0, end === -1 ? lines.length : end).filter((line) => line.trim() !== '').join('\n');
      resolve(/^\S.*:\d+$/.test(lines[0] ?? '') ? report : null);
    });
  });
}
