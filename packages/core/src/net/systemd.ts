/*
 * systemd socket activation (sd_listen_fds(3)): systemd binds the sockets named in a .socket
 * unit and starts the service with them open from fd 3 on, LISTEN_FDS saying how many and
 * LISTEN_PID saying which process they are for. Because systemd keeps its copy open across
 * restarts of the service, connections that arrive while the server restarts wait in the
 * kernel's accept queue instead of being refused: a restart loses none.
 *
 * The variables are removed once read (sd_listen_fds' unset_environment), so that child
 * processes (prefork workers, anything the app spawns) do not take the sockets for theirs.
 */
import { GatehouseError } from '../errors/index.js';

/** First inherited descriptor (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

export interface SocketActivation {
  /** Descriptors 3 .. 3+LISTEN_FDS-1. */
  readonly fds: readonly number[];
  /** LISTEN_FDNAMES (FileDescriptorName= in the .socket unit), one per fd, when given. */
  readonly names: readonly string[];
}

/**
 * The sockets systemd passed to this process, or null when there are none for us (no
 * LISTEN_FDS, or LISTEN_PID missing or naming another process: they were meant for our
 * parent; sd_listen_fds checks the same). Unsets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES in
 * `env` when they were ours. Throws ERR_LISTEN_FDS when LISTEN_FDS is not a count.
 */
export function takeSocketActivation(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): SocketActivation | null {
  const countText = env.LISTEN_FDS;
  if (countText === undefined || countText === '') return null;
  const pidText = env.LISTEN_PID;
  if (pidText === undefined || !/^\d+$/.test(pidText) || Number(pidText) !== pid) return null;
  if (!/^\d{1,4}$/.test(countText)) throw new GatehouseError('ERR_LISTEN_FDS', `LISTEN_FDS="${countText}" is not a number of sockets`);
  const count = Number(countText);
  const names = (env.LISTEN_FDNAMES ?? '').split(':').filter((name) => name !== '');
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (count === 0) return null;
  const fds: number[] = [];
  for (let i = 0; i < count; i++) fds.push(LISTEN_FDS_START + i);
  return { fds, names };
}
