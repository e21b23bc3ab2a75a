/*
 * Where the control socket is, computed the same way by the server and by the commands that
 * talk to it, from the same settings: --control-socket PATH, else the --pid file's path plus
 * ".sock" (so a server started with a pid file can always be found from it, as pumactl finds
 * a server from its state file), else none. "off" turns it off even with --pid.
 */
import path from 'node:path';
import type { Settings } from '@gatehouse/core';

export function controlSocketPath(settings: Pick<Settings, 'controlSocket' | 'pid'>, cwd: string): string | null {
  if (settings.controlSocket === 'off') return null;
  if (settings.controlSocket) return path.resolve(cwd, settings.controlSocket);
  if (settings.pid) return `${path.resolve(cwd, settings.pid)}.sock`;
  return null;
}
