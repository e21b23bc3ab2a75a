/*
 * --pid FILE: the master's pid, written before the engine starts (so a supervisor can signal
 * it at once) and removed on exit, but only if it still holds our pid. A file naming a live
 * process that is not us means another server owns it: refuse rather than clobber it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '@gatehouse/core';

export interface PidFile { readonly path: string; remove(): void }

export function writePidFile(file: string, cwd: string): PidFile {
  const absolute = path.resolve(cwd, file);
  let existing: number | undefined;
  try { existing = Number(fs.readFileSync(absolute, 'utf8').trim()); } catch { /* absent */ }
  if (existing && existing !== process.pid && isAlive(existing)) {
    throw new GatehouseError('ERR_PID_FILE', `${absolute} holds pid ${existing}, which is running`);
  }
  try {
    fs.writeFileSync(absolute, `${process.pid}\n`);
  } catch (error) {
    throw new GatehouseError('ERR_PID_FILE', `${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  return {
    path: absolute,
    remove() {
      try {
        if (fs.readFileSync(absolute, 'utf8').trim() === String(process.pid)) fs.unlinkSync(absolute);
      } catch { /* already gone */ }
    },
  };
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM'; }
}
