/*
 * Where the control socket is, computed the same way by the server and by the commands that
 * talk to it, from the same settings: --control-socket PATH, else the --pid file's path plus
 * ".sock" (so a server started with a pid file can always be found from it, as pumactl finds
 * a server from its state file), else none. "off" turns it off even with --pid.
 */
import path from 'node:path';
import { GatehouseError, type Settings } from '@gatehouse/core';

/** sun_path holds 108 bytes on Linux and 104 on macOS and BSD; a longer path is cut short without an error. */
const MAX_SOCKET_PATH_BYTES = 100;

export function controlSocketPath(settings: Pick<Settings, 'controlSocket' | 'pid'>, cwd: string): string | null {
  if (settings.controlSocket === 'off') return null;
  const file = settings.controlSocket ? path.resolve(cwd, settings.controlSocket) : settings.pid ? `${path.resolve(cwd, settings.pid)}.sock` : null;
  if (file && Buffer.byteLength(file) > MAX_SOCKET_PATH_BYTES) {
    throw new GatehouseError('ERR_CONTROL_SOCKET', `${file} is ${Buffer.byteLength(file)} bytes; a unix socket path may have ${MAX_SOCKET_PATH_BYTES}: put it (--control-socket, or --pid) in a shorter directory`);
  }
  return file;
}
