/*
 * Log destinations: "-", "stdout", "stderr" or a file path, written through sonic-boom (the
 * stream pino itself uses). Files are opened in append mode, so every worker process or thread
 * may append its own lines to the same file; reopen() after logrotate moved the file makes the
 * next line land in a new file at the same path (USR1).
 */
import fs from 'node:fs';
import path from 'node:path';
import sonicBoom from 'sonic-boom';
import type { SonicBoom } from 'sonic-boom';

// CommonJS module: its class is on the default export.
const SonicBoomClass = (sonicBoom as unknown as { SonicBoom: typeof SonicBoom }).SonicBoom;
import { GatehouseError } from '@gatehouse/core/app-runtime';

export interface LogDestination {
  write(text: string): void;
  reopen(): void;
  flushSync(): void;
  end(): void;
  /** Whether it is a terminal (for --log-format auto). */
  readonly isTTY: boolean;
}

export interface DestinationOptions {
  /** The fd "-" means: 1 for the access log (stdout), 2 for the error log (stderr). */
  readonly dash: 1 | 2;
  /** Write each line before returning (the error log: ordered with signals and exit). */
  readonly sync: boolean;
  /**
   * Async only: gather lines up to about this many characters per write, flushed at least
   * every FLUSH_INTERVAL_MS (the access log: one write per batch instead of one per request).
   */
  readonly batchBytes?: number;
  readonly cwd?: string;
}

const FLUSH_INTERVAL_MS = 200;

export function openDestination(spec: string, options: DestinationOptions): LogDestination {
  const batch = options.sync ? 0 : options.batchBytes ?? 0;
  const fd = spec === '-' ? options.dash : spec === 'stdout' ? 1 : spec === 'stderr' ? 2 : undefined;
  if (fd !== undefined) {
    const boom = new SonicBoomClass({ fd, sync: options.sync });
    boom.on('error', () => { /* a closed stdout (EPIPE) must not crash the server */ });
    return wrap(boom, fd === 1 ? process.stdout.isTTY === true : process.stderr.isTTY === true, false, batch);
  }
  const file = path.resolve(options.cwd ?? process.cwd(), spec);
  try {
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (error) {
    throw new GatehouseError('ERR_LOG_OPEN', `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const boom = new SonicBoomClass({ dest: file, append: true, sync: options.sync, mkdir: false });
  boom.on('error', (error: Error) => { process.stderr.write(`gatehouse: log file ${file}: ${(error as Error).message}\n`); });
  return wrap(boom, false, true, batch);
}

/*
 * Batching is done here rather than with sonic-boom's minLength: its write() measures the
 * byte length of the whole pending chunk on every call, which costs microseconds per line once
 * the chunk is kilobytes long. A JS string append per line and one boom.write() per batch is
 * cheap.
 */
function wrap(boom: SonicBoom, isTTY: boolean, isFile: boolean, batch: number): LogDestination {
  let ended = false;
  let pending = '';
  const push = () => {
    if (pending) { boom.write(pending); pending = ''; }
  };
  const timer = batch > 0 ? setInterval(push, FLUSH_INTERVAL_MS).unref() : null;
  const flushSync = () => {
    push();
    try { boom.flushSync(); } catch { /* nothing buffered, or the fd is gone: nothing to save */ }
  };
  return {
    isTTY,
    write: batch > 0
      ? (text) => { if (!ended) { pending += text; if (pending.length >= batch) push(); } }
      : (text) => { if (!ended) boom.write(text); },
    // Lines gathered before the rotation belong to the old file.
    reopen: () => { if (isFile && !ended) { push(); boom.reopen(); } },
    flushSync: () => { if (!ended) flushSync(); },
    end: () => {
      if (ended) return;
      if (timer) clearInterval(timer);
      flushSync();
      ended = true;
      if (isFile) boom.end();
    },
  };
}
